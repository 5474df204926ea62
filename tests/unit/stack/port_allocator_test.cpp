// SPDX-License-Identifier: BSD-2-Clause
#include "stack/port_allocator.hpp"

#include <gtest/gtest.h>

#include <set>

#include "stack/four_tuple.hpp"

namespace utcp::stack {
namespace {

const std::array<uint8_t, 16> kSecret{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
const wire::Ipv4Addr kLocal(10, 77, 0, 2);
const wire::Ipv4Addr kRemote(10, 77, 0, 1);

TEST(PortAllocator, PortsStayInRangeAndSkipUsedOnes) {
  PortAllocator alloc(kSecret, {40000, 40009});
  std::set<uint16_t> used;
  for (int i = 0; i < 10; ++i) {
    auto p =
        alloc.allocate(kLocal, kRemote, 80, [&](uint16_t port) { return used.count(port) > 0; });
    ASSERT_TRUE(p.has_value());
    EXPECT_GE(*p, 40000);
    EXPECT_LE(*p, 40009);
    EXPECT_TRUE(used.insert(*p).second) << "port " << *p << " handed out twice";
  }
  // The range is exhausted for this destination.
  EXPECT_FALSE(alloc.allocate(kLocal, kRemote, 80, [&](uint16_t p) { return used.count(p) > 0; }));
}

TEST(PortAllocator, SuccessiveConnectionsToOnePeerGetDifferentPorts) {
  PortAllocator alloc(kSecret);
  auto none = [](uint16_t) { return false; };
  auto a = alloc.allocate(kLocal, kRemote, 80, none);
  auto b = alloc.allocate(kLocal, kRemote, 80, none);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(static_cast<uint16_t>(*a + 1 == 61000 ? 32768 : *a + 1),
            *b);  // the counter moved on by one
}

TEST(PortAllocator, DifferentSecretsGiveDifferentStartingPorts) {
  auto none = [](uint16_t) { return false; };
  std::array<uint8_t, 16> other = kSecret;
  other[0] ^= 0xff;
  PortAllocator a(kSecret), b(other);
  // Over a handful of destinations the starting ports cannot all coincide by chance.
  int same = 0;
  for (uint16_t port = 1; port <= 8; ++port) {
    same += *a.allocate(kLocal, kRemote, port, none) == *b.allocate(kLocal, kRemote, port, none);
  }
  EXPECT_LT(same, 8);
}

TEST(FourTupleHash, SeedChangesHashAndEqualTuplesHashEqual) {
  FourTuple t{kLocal, 80, kRemote, 40000};
  FourTuple u = t;
  FourTupleHash h1(1), h2(2);
  EXPECT_EQ(h1(t), h1(u));
  EXPECT_NE(h1(t), h2(t));
  u.remote_port = 40001;
  EXPECT_NE(h1(t), h1(u));
}

}  // namespace
}  // namespace utcp::stack
