// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Replayable test input: a seed per run that UTCP_TEST_SEED can pin, and a byte stream in
// which every byte depends on its position, so a misplaced byte shows in a comparison.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace utcp::test {

// A fresh seed per run, or UTCP_TEST_SEED to replay one; printed with `what` either way.
inline uint32_t test_seed(const char* what) {
  const char* env = std::getenv("UTCP_TEST_SEED");
  const uint32_t seed =
      env ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10)) : std::random_device{}();
  std::printf("%s seed: %u (replay with UTCP_TEST_SEED=%u)\n", what, seed, seed);
  return seed;
}

// Stream byte at absolute position i: a pattern that makes misplaced bytes visible.
inline uint8_t stream_byte(size_t i) {
  return static_cast<uint8_t>(i * 7 + (i >> 8));
}

// Bytes [from, from + len) of that stream.
inline std::vector<uint8_t> stream(size_t from, size_t len) {
  std::vector<uint8_t> v(len);
  for (size_t i = 0; i < len; ++i) v[i] = stream_byte(from + i);
  return v;
}

}  // namespace utcp::test
