// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Reads one named counter from a list of (name, value) pairs, as Stack::counters() and
// UdpRelay::counters() return. A name that is not in the list fails the test: a typo would
// otherwise make EXPECT_EQ(counter(s, "tpc.x"), 0u) pass without checking anything. A Stack
// lists every counter it has from the start (a fixed table, zero until counted), so no test
// needs a lookup that forgives an unknown name.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace utcp::test {

// The value of `name` in `pairs`, or nullopt when there is no such counter: for code whose
// gtest failures would be lost (a forked child reports by its own message).
template <class Pairs>
std::optional<uint64_t> find_counter_in(const Pairs& pairs, std::string_view name) {
  for (const auto& [n, v] : pairs) {
    if (n == name) return v;
  }
  return std::nullopt;
}

template <class Source>
std::optional<uint64_t> find_counter(const Source& source, std::string_view name) {
  return find_counter_in(source.counters(), name);
}

// The value of `name` in `pairs`; an unknown name fails the test (and reads as 0).
template <class Pairs>
uint64_t counter_in(const Pairs& pairs, std::string_view name) {
  if (const std::optional<uint64_t> v = find_counter_in(pairs, name)) return *v;
  ADD_FAILURE() << "no counter " << name;
  return 0;
}

// The same for anything with counters(): a Stack, a UdpRelay.
template <class Source>
uint64_t counter(const Source& source, std::string_view name) {
  return counter_in(source.counters(), name);
}

}  // namespace utcp::test
