// SPDX-License-Identifier: BSD-2-Clause
// parse_tcp_options: EOL, NOP, unknown kinds, every known option decoded (RFC 9293 §3.2,
// RFC 7323, RFC 2018).
#include <gtest/gtest.h>

#include <vector>

#include "wire/tcp.hpp"

namespace utcp::wire {
namespace {

Parsed<TcpOptions> parse(std::vector<uint8_t> area) {
  static std::vector<uint8_t> keep;  // the result holds no view, but keep bytes alive anyway
  keep = std::move(area);
  return parse_tcp_options(keep);
}

TEST(TcpOptionsParse, EmptyArea) {
  auto o = parse({});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o, TcpOptions{});
  EXPECT_EQ(o->encoded_len(), 0u);
}

TEST(TcpOptionsParse, EveryKnownOption) {
  auto o = parse({2,    4,  0x23, 0x28,                                   // mss 9000
                  3,    3,  14,                                           // wscale 14
                  4,    2,                                                // sackOK
                  8,    10, 0,    0,    0,    9, 0xff, 0xff, 0xff, 0xff,  // TS 9 / max
                  5,    18, 0,    0,    0,    1, 0,    0,    0,    2,     //
                  0x80, 0,  0,    0,    0x80, 0, 0,    5,    1,    0});   // SACK x2, NOP, EOL
  ASSERT_TRUE(o.ok()) << to_string(o.error());
  EXPECT_EQ(o->mss, 9000);
  EXPECT_EQ(o->window_scale, 14);
  EXPECT_TRUE(o->sack_permitted);
  ASSERT_TRUE(o->timestamps.has_value());
  EXPECT_EQ(o->timestamps->tsval, 9u);
  EXPECT_EQ(o->timestamps->tsecr, 0xffffffffu);
  ASSERT_EQ(o->sack_count, 2);
  EXPECT_EQ(o->sacks()[0], (SackBlock{SeqNum(1), SeqNum(2)}));
  EXPECT_EQ(o->sacks()[1], (SackBlock{SeqNum(0x80000000u), SeqNum(0x80000005u)}));
}

TEST(TcpOptionsParse, EolEndsParsingEvenBeforeGarbage) {
  auto o = parse({2, 4, 0x05, 0xb4, 0, 0x22, 0, 0});  // a length-0 option after EOL
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->mss, 1460);
}

TEST(TcpOptionsParse, NopsAreSkipped) {
  auto o = parse({1, 1, 1, 3, 3, 2, 1, 1});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->window_scale, 2);
}

TEST(TcpOptionsParse, UnknownOptionsAreSkippedByLength) {
  // kind 30 (MPTCP) len 6, kind 34 (TFO) len 2, then MSS.
  auto o = parse({30, 6, 0xff, 0xff, 0xff, 0xff, 34, 2, 2, 4, 0x02, 0x18});
  ASSERT_TRUE(o.ok()) << to_string(o.error());
  EXPECT_EQ(o->mss, 536);
  EXPECT_FALSE(o->window_scale);
  EXPECT_FALSE(o->sack_permitted);
}

TEST(TcpOptionsParse, FourSackBlocks) {
  std::vector<uint8_t> a{1, 1, 5, 34};
  for (uint8_t i = 0; i < 8; ++i) a.insert(a.end(), {0, 0, 0, uint8_t(10 * (i + 1))});
  auto o = parse(a);
  ASSERT_TRUE(o.ok());
  ASSERT_EQ(o->sack_count, 4);
  EXPECT_EQ(o->sacks()[3], (SackBlock{SeqNum(70), SeqNum(80)}));
}

TEST(TcpOptionsParse, RepeatedSackReplacesEarlier) {
  auto o = parse({5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,  //
                  5, 10, 0, 0, 0, 7, 0, 0, 0, 8});
  ASSERT_TRUE(o.ok());
  ASSERT_EQ(o->sack_count, 1);
  EXPECT_EQ(o->sacks()[0], (SackBlock{SeqNum(7), SeqNum(8)}));
  EXPECT_EQ(o->sack_blocks[1], SackBlock{});
}

TEST(TcpOptionsEmit, RefusesShortArea) {
  TcpOptions o;
  o.mss = 1;
  std::array<uint8_t, 3> small{};
  EXPECT_EQ(o.emit(small), 0u);
}

TEST(TcpOptionsEmit, EncodedLenMatchesEmitForEveryCombination) {
  for (unsigned mask = 0; mask < 16; ++mask) {
    for (uint8_t n = 0; n <= 4; ++n) {
      TcpOptions o;
      if (mask & 1) o.mss = 1;
      if (mask & 2) o.window_scale = 1;
      if (mask & 4) o.sack_permitted = true;
      if (mask & 8) o.timestamps = TcpTimestamps{};
      o.sack_count = n;
      std::array<uint8_t, 40> area{};
      EXPECT_EQ(o.emit(area), o.encoded_len()) << mask << "/" << int{n};
      // Every emitted area parses back.
      auto back = parse_tcp_options(std::span<const uint8_t>(area).first(o.encoded_len()));
      EXPECT_TRUE(back.ok()) << mask << "/" << int{n};
    }
  }
}

TEST(TcpOptionsEmit, MssWindowScaleSackBlocksStillFit) {
  // 4 (mss) + 4 (wscale) + 12 (ts) leaves 20 bytes: 2 SACK blocks.
  TcpOptions o;
  o.mss = 1460;
  o.window_scale = 7;
  o.timestamps = TcpTimestamps{1, 1};
  o.sack_count = 4;
  EXPECT_EQ(o.emitted_sack_count(), 2u);
  EXPECT_EQ(o.encoded_len(), 40u);
}

}  // namespace
}  // namespace utcp::wire
