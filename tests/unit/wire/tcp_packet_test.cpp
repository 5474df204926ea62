// SPDX-License-Identifier: BSD-2-Clause
// TcpPacket accessors and one test per rejection rule (RFC 9293 §3.1, §3.2).
#include <gtest/gtest.h>

#include <vector>

#include "wire/tcp.hpp"
#include "wire_test_bytes.hpp"

namespace utcp::wire {
namespace {

using test::kDstAddr;
using test::kSrcAddr;
using test::tcp_segment;

Parsed<TcpPacket> parse(const std::vector<uint8_t>& s, bool verify = true) {
  return TcpPacket::parse(s, kSrcAddr, kDstAddr, verify);
}

TEST(TcpPacket, EveryAccessor) {
  auto s = tcp_segment({2, 4, 0x05, 0xb4}, {'x', 'y'});
  // Rebuild with all flags and an urgent pointer, checksum fixed by hand.
  s[13] = 0xff;
  s[18] = 0x12;
  s[19] = 0x34;
  s[16] = s[17] = 0;
  const uint16_t c =
      ipv4_pseudo_header(kSrcAddr.value, kDstAddr.value, 6, uint16_t(s.size())).add(s).finish();
  s[16] = uint8_t(c >> 8);
  s[17] = uint8_t(c);
  auto p = parse(s);
  ASSERT_TRUE(p.ok()) << to_string(p.error());
  EXPECT_EQ(p->src_port(), 1234);
  EXPECT_EQ(p->dst_port(), 80);
  EXPECT_EQ(p->seq(), SeqNum(0x01020304));
  EXPECT_EQ(p->ack(), SeqNum(0x0a0b0c0d));
  EXPECT_EQ(p->data_offset(), 6);
  EXPECT_EQ(p->header_len(), 24u);
  EXPECT_EQ(p->flags(), 0xff);
  EXPECT_TRUE(p->fin());
  EXPECT_TRUE(p->syn());
  EXPECT_TRUE(p->rst());
  EXPECT_TRUE(p->psh());
  EXPECT_TRUE(p->ack_flag());
  EXPECT_TRUE(p->urg());
  EXPECT_TRUE(p->ece());
  EXPECT_TRUE(p->cwr());
  EXPECT_EQ(p->window(), 0x1000);
  EXPECT_EQ(p->checksum(), c);
  EXPECT_EQ(p->urgent_pointer(), 0x1234);
  ASSERT_EQ(p->options_bytes().size(), 4u);
  EXPECT_EQ(p->options_bytes()[0], 2);
  ASSERT_TRUE(p->options().mss.has_value());
  EXPECT_EQ(*p->options().mss, 1460);
  ASSERT_EQ(p->payload().size(), 2u);
  EXPECT_EQ(p->payload()[1], 'y');
  EXPECT_EQ(p->bytes().size(), 26u);
  const TcpRepr r = p->repr();
  EXPECT_EQ(r.urgent, 0x1234);
  EXPECT_EQ(r.flags, 0xff);
  EXPECT_EQ(r.payload.data(), p->payload().data());  // zero-copy
}

TEST(TcpPacket, SingleFlagsDecodeSeparately) {
  const auto s = tcp_segment();  // the view must not outlive its bytes
  auto p = parse(s);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->ack_flag());
  EXPECT_FALSE(p->syn());
  EXPECT_FALSE(p->fin());
  EXPECT_FALSE(p->rst());
  EXPECT_FALSE(p->psh());
  EXPECT_FALSE(p->urg());
  EXPECT_FALSE(p->ece());
  EXPECT_FALSE(p->cwr());
}

TEST(TcpPacket, ChecksumDependsOnPseudoHeader) {
  const auto s = tcp_segment();
  EXPECT_EQ(TcpPacket::parse(s, kSrcAddr, Ipv4Addr(10, 77, 0, 3)).error(),
            ParseError::kBadChecksum);
}

TEST(TcpPacket, ChecksumNotVerifiedWhenDisabled) {
  auto s = tcp_segment();
  s[17] ^= 0xff;
  EXPECT_TRUE(parse(s, /*verify=*/false).ok());
}

// One test per rejection rule; each segment breaks exactly one rule.

TEST(TcpReject, BufferShorterThan20) {
  auto s = tcp_segment();
  s.resize(19);
  EXPECT_EQ(parse(s, false).error(), ParseError::kTruncated);
}

TEST(TcpReject, DataOffsetBelowFive) {
  EXPECT_EQ(parse(tcp_segment({}, {1, 2, 3, 4}, 4)).error(), ParseError::kBadHeaderLength);
}

TEST(TcpReject, DataOffsetPastBuffer) {
  EXPECT_EQ(parse(tcp_segment({1, 1, 1, 1}, {}, 7)).error(), ParseError::kBadHeaderLength);
}

TEST(TcpReject, BadChecksum) {
  auto s = tcp_segment({}, {'a', 'b', 'c'});
  s.back() ^= 0x01;
  EXPECT_EQ(parse(s).error(), ParseError::kBadChecksum);
}

TEST(TcpReject, OptionLengthZero) {
  EXPECT_EQ(parse(tcp_segment({0x22, 0, 1, 1})).error(), ParseError::kBadOptions);
}

TEST(TcpReject, OptionLengthOne) {
  EXPECT_EQ(parse(tcp_segment({0x22, 1, 1, 1})).error(), ParseError::kBadOptions);
}

TEST(TcpReject, OptionRunsPastHeader) {
  EXPECT_EQ(parse(tcp_segment({1, 1, 0x22, 3})).error(), ParseError::kBadOptions);
  EXPECT_EQ(parse(tcp_segment({1, 0x22, 8, 0}, {0, 0, 0, 0, 0, 0})).error(),
            ParseError::kBadOptions);  // even though payload follows
}

TEST(TcpReject, OptionKindWithoutLengthByte) {
  EXPECT_EQ(parse(tcp_segment({1, 1, 1, 2})).error(), ParseError::kBadOptions);
}

TEST(TcpReject, MssWrongLength) {
  EXPECT_EQ(parse(tcp_segment({2, 3, 5, 1})).error(), ParseError::kBadOptions);
  EXPECT_EQ(parse(tcp_segment({2, 6, 0, 0, 0, 0, 1, 1})).error(), ParseError::kBadOptions);
}

TEST(TcpReject, WindowScaleWrongLength) {
  EXPECT_EQ(parse(tcp_segment({3, 4, 7, 0})).error(), ParseError::kBadOptions);
}

TEST(TcpReject, SackPermittedWrongLength) {
  EXPECT_EQ(parse(tcp_segment({4, 3, 0, 1})).error(), ParseError::kBadOptions);
}

TEST(TcpReject, TimestampsWrongLength) {
  EXPECT_EQ(parse(tcp_segment({8, 8, 0, 0, 0, 1, 0, 0})).error(), ParseError::kBadOptions);
}

TEST(TcpReject, SackWithNoBlocks) {
  EXPECT_EQ(parse(tcp_segment({1, 1, 5, 2})).error(), ParseError::kBadOptions);
}

TEST(TcpReject, SackNotTwoPlusMultipleOfEight) {
  EXPECT_EQ(parse(tcp_segment({5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0})).error(),
            ParseError::kBadOptions);
}

TEST(TcpReject, SegmentLongerThanAnIpv4DatagramCarries) {
  // The pseudo-header's 16-bit length cannot describe it.
  std::vector<uint8_t> s = tcp_segment();
  s.resize(65536);
  EXPECT_EQ(parse(s, false).error(), ParseError::kBadTotalLength);
}

TEST(TcpReject, SackWithMoreThanFourBlocks) {
  // Five blocks (42 bytes) cannot fit a 40-byte options area, so this is only reachable
  // through parse_tcp_options on a larger area.
  std::vector<uint8_t> area{5, 42};
  area.resize(42);
  EXPECT_EQ(parse_tcp_options(area).error(), ParseError::kBadOptions);
}

}  // namespace
}  // namespace utcp::wire
