// SPDX-License-Identifier: BSD-2-Clause
// SeqNum: modulo-2^32 comparisons, distance and window tests (RFC 9293 §3.4).
#include "wire/seq_num.hpp"

#include <gtest/gtest.h>

namespace utcp::wire {
namespace {

TEST(SeqNum, OrdersPlainValues) {
  EXPECT_LT(SeqNum(1), SeqNum(2));
  EXPECT_GT(SeqNum(2), SeqNum(1));
  EXPECT_LE(SeqNum(2), SeqNum(2));
  EXPECT_GE(SeqNum(2), SeqNum(2));
  EXPECT_EQ(SeqNum(7), SeqNum(7));
  EXPECT_NE(SeqNum(7), SeqNum(8));
}

TEST(SeqNum, OrdersAcrossWraparound) {
  const SeqNum before_wrap(0xfffffff0u);
  const SeqNum after_wrap(0x10);
  EXPECT_LT(before_wrap, after_wrap);
  EXPECT_GT(after_wrap, before_wrap);
  EXPECT_FALSE(after_wrap < before_wrap);
  EXPECT_EQ(before_wrap + 0x20, after_wrap);
  EXPECT_EQ(after_wrap - 0x20, before_wrap);
  SeqNum s(0xffffffffu);
  s += 1;
  EXPECT_EQ(s.raw(), 0u);
  s -= 2;
  EXPECT_EQ(s.raw(), 0xfffffffeu);
}

TEST(SeqNum, HalfSpaceBoundary) {
  // Just under 2^31 ahead is "after"; exactly 2^31 is ambiguous and reads as "before".
  EXPECT_LT(SeqNum(0), SeqNum(0x7fffffffu));
  EXPECT_GT(SeqNum(0), SeqNum(0x80000000u));
}

TEST(SeqNum, SignedDistanceAndForwardDistance) {
  EXPECT_EQ(SeqNum(0x10) - SeqNum(0xfffffff0u), 0x20);
  EXPECT_EQ(SeqNum(0xfffffff0u) - SeqNum(0x10), -0x20);
  EXPECT_EQ(SeqNum(0x10).distance_from(SeqNum(0xfffffff0u)), 0x20u);
  EXPECT_EQ(SeqNum(0xfffffff0u).distance_from(SeqNum(0x10)), 0xffffffe0u);
}

TEST(SeqNum, InWindowIsHalfOpen) {
  const SeqNum left(0xfffffffeu);
  EXPECT_TRUE(left.in_window(left, 4));
  EXPECT_TRUE(SeqNum(1).in_window(left, 4));
  EXPECT_FALSE(SeqNum(2).in_window(left, 4));  // left + size is outside
  EXPECT_FALSE(SeqNum(0xfffffffdu).in_window(left, 4));
  EXPECT_FALSE(left.in_window(left, 0));  // an empty window holds nothing
}

TEST(SeqNum, BetweenIsInclusiveAndWraps) {
  const SeqNum l(0xfffffff0u), r(0x10);
  EXPECT_TRUE(l.between(l, r));
  EXPECT_TRUE(r.between(l, r));
  EXPECT_TRUE(SeqNum(0).between(l, r));
  EXPECT_FALSE(SeqNum(0x11).between(l, r));
  EXPECT_FALSE(SeqNum(0xffffffefu).between(l, r));
  EXPECT_TRUE(SeqNum(5).between(SeqNum(5), SeqNum(5)));
}

TEST(SeqNum, MinMaxUseWrappingOrder) {
  EXPECT_EQ(SeqNum::max(SeqNum(0xffffffffu), SeqNum(1)), SeqNum(1));
  EXPECT_EQ(SeqNum::min(SeqNum(0xffffffffu), SeqNum(1)), SeqNum(0xffffffffu));
}

}  // namespace
}  // namespace utcp::wire
