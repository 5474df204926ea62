// SPDX-License-Identifier: BSD-2-Clause
// The ring page pool (base/ring_pages.hpp): one-page rings come from it and other sizes from
// operator new; a page given back leaves the process's resident memory at once (what malloc
// could not do for 4 KiB chunks between live objects) and is reused before any new mapping.
#include "base/ring_pages.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace utcp {
namespace {

// The pool is off under AddressSanitizer (ring_pages.cpp), and on systems without 4 KiB pages.
bool pool_on() {
  const RingStorage probe = allocate_ring(kRingPage);
  return probe.get_deleter().paged;
}

size_t rss_anon_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("RssAnon:", 0) == 0) return std::stoul(line.substr(8));
  }
  return 0;
}

TEST(RingPages, OnePageRingsComeFromThePool) {
  if (!pool_on()) GTEST_SKIP() << "ring page pool off (AddressSanitizer, or not 4 KiB pages)";
  RingStorage page = allocate_ring(kRingPage);
  EXPECT_TRUE(page.get_deleter().paged);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(page.get()) % kRingPage, 0u);  // a whole page
  RingStorage grown = allocate_ring(2 * kRingPage);
  EXPECT_FALSE(grown.get_deleter().paged);
  RingStorage odd = allocate_ring(1000);
  EXPECT_FALSE(odd.get_deleter().paged);
  std::memset(page.get(), 1, kRingPage);
  std::memset(grown.get(), 2, 2 * kRingPage);
  std::memset(odd.get(), 3, 1000);
}

TEST(RingPages, FreedPagesLeaveResidentMemoryAndAreReused) {
  if (!pool_on()) GTEST_SKIP() << "ring page pool off (AddressSanitizer, or not 4 KiB pages)";
  constexpr size_t kPages = 2048;  // 8 MiB
  std::vector<RingStorage> rings;
  rings.reserve(kPages);
  for (size_t i = 0; i < kPages; ++i) {
    rings.push_back(allocate_ring(kRingPage));
    std::memset(rings.back().get(), static_cast<int>(i), kRingPage);  // resident now
  }
  const size_t held = rss_anon_kib();
  const size_t mapped = ring_page_stats().mapped;
  rings.clear();
  const size_t after = rss_anon_kib();
  std::printf("RssAnon %zu KiB with %zu pages in use, %zu KiB after giving them back\n", held,
              kPages, after);
  EXPECT_GE(held - after, kPages * 4 * 3 / 4);  // at least 3/4 of the 8 MiB went back
  EXPECT_EQ(ring_page_stats().free, ring_page_stats().mapped);
  // Taking them again reuses the same mappings (zero-filled again by the kernel).
  for (size_t i = 0; i < kPages; ++i) rings.push_back(allocate_ring(kRingPage));
  EXPECT_EQ(ring_page_stats().mapped, mapped);
  EXPECT_EQ(rings.front()[0], 0);
}

}  // namespace
}  // namespace utcp
