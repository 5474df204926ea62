// SPDX-License-Identifier: BSD-2-Clause
// IPv4 view accessors, emit/parse round trip, and one test per rejection rule (RFC 791).
#include "wire/ipv4.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "wire_test_bytes.hpp"

namespace utcp::wire {
namespace {

using test::fix_ipv4_checksum;

// IHL 6 (one 4-byte option), DSCP 46 / ECN 1, total 28, id 0xbeef, MF set, offset 1480
// bytes (185 units), TTL 17, UDP, 192.0.2.1 -> 198.51.100.7, 4 payload bytes.
std::vector<uint8_t> header_with_options() {
  std::vector<uint8_t> p = {0x46, 46 << 2 | 1, 0x00, 28,   0xbe, 0xef, 0x20, 185, 17,  17,
                            0x00, 0x00,        192,  0,    2,    1,    198,  51,  100, 7,
                            0x01, 0x01,        0x01, 0x00, 0xde, 0xad, 0xbe, 0xef};
  fix_ipv4_checksum(p, 24);
  return p;
}

TEST(Ipv4Packet, EveryAccessor) {
  const auto bytes = header_with_options();
  auto p = Ipv4Packet::parse(bytes);
  ASSERT_TRUE(p.ok()) << to_string(p.error());
  EXPECT_EQ(p->version(), 4);
  EXPECT_EQ(p->ihl(), 6);
  EXPECT_EQ(p->header_len(), 24u);
  EXPECT_EQ(p->dscp(), 46);
  EXPECT_EQ(p->ecn(), 1);
  EXPECT_EQ(p->total_len(), 28);
  EXPECT_EQ(p->identification(), 0xbeef);
  EXPECT_FALSE(p->df());
  EXPECT_TRUE(p->mf());
  EXPECT_EQ(p->frag_offset(), 1480);
  EXPECT_TRUE(p->is_fragment());
  EXPECT_EQ(p->ttl(), 17);
  EXPECT_EQ(p->protocol(), ip_proto::kUdp);
  EXPECT_EQ(p->checksum(), uint16_t(bytes[10] << 8 | bytes[11]));
  EXPECT_EQ(p->src(), Ipv4Addr(192, 0, 2, 1));
  EXPECT_EQ(p->dst(), Ipv4Addr(198, 51, 100, 7));
  ASSERT_EQ(p->options().size(), 4u);
  EXPECT_EQ(p->options()[3], 0x00);
  ASSERT_EQ(p->payload().size(), 4u);
  EXPECT_EQ(p->payload()[0], 0xde);
  EXPECT_EQ(p->payload()[3], 0xef);
  EXPECT_EQ(p->header().size(), 24u);
  EXPECT_EQ(p->bytes().size(), 28u);
}

TEST(Ipv4Packet, DfAndNoFragment) {
  auto bytes = header_with_options();
  bytes[6] = 0x40;
  bytes[7] = 0;
  fix_ipv4_checksum(bytes, 24);
  auto p = Ipv4Packet::parse(bytes);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->df());
  EXPECT_FALSE(p->mf());
  EXPECT_EQ(p->frag_offset(), 0);
  EXPECT_FALSE(p->is_fragment());
}

TEST(Ipv4Packet, LongerBufferIsTrimmedToTotalLength) {
  auto bytes = header_with_options();
  bytes.insert(bytes.end(), {0, 0, 0, 0, 0, 0});  // Ethernet-style padding
  auto p = Ipv4Packet::parse(bytes);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->bytes().size(), 28u);
  EXPECT_EQ(p->payload().size(), 4u);
}

TEST(Ipv4Repr, EmitParseRoundTrip) {
  Ipv4Repr r;
  r.src = Ipv4Addr(10, 77, 0, 2);
  r.dst = Ipv4Addr(10, 77, 0, 1);
  r.protocol = ip_proto::kTcp;
  r.ttl = 200;
  r.dscp = 10;
  r.ecn = 2;
  r.identification = 4242;
  r.df = false;
  r.mf = true;
  r.frag_offset = 8 * 100;
  r.payload_len = 3;
  std::vector<uint8_t> buf(r.total_len());
  ASSERT_EQ(r.emit(buf), 20u);
  buf[20] = 1;
  buf[21] = 2;
  buf[22] = 3;
  auto p = Ipv4Packet::parse(buf);
  ASSERT_TRUE(p.ok()) << to_string(p.error());
  EXPECT_EQ(p->repr(), r);
  EXPECT_EQ(p->payload()[2], 3);
}

TEST(Ipv4Repr, DefaultsAndExactBytes) {
  Ipv4Repr r;
  r.src = Ipv4Addr(10, 0, 0, 1);
  r.dst = Ipv4Addr(10, 0, 0, 2);
  r.protocol = ip_proto::kIcmp;
  r.identification = 1;
  r.payload_len = 8;
  EXPECT_EQ(r.ttl, 64);
  EXPECT_TRUE(r.df);
  std::array<uint8_t, 20> buf{};
  ASSERT_EQ(r.emit(buf), 20u);
  const std::array<uint8_t, 20> want{0x45, 0, 0,  28, 0, 1, 0x40, 0, 64, 1,
                                     0,    0, 10, 0,  0, 1, 10,   0, 0,  2};
  for (size_t i = 0; i < 20; ++i) {
    if (i == 10 || i == 11) continue;
    EXPECT_EQ(buf[i], want[i]) << "byte " << i;
  }
  EXPECT_TRUE(checksum_ok(buf));
}

TEST(Ipv4Repr, EmitRefusesShortBufferAndOversizedTotal) {
  Ipv4Repr r;
  std::array<uint8_t, 19> small{};
  EXPECT_EQ(r.emit(small), 0u);
  r.payload_len = 65535 - 19;
  std::array<uint8_t, 20> buf{};
  EXPECT_EQ(r.emit(buf), 0u);
}

// One test per rejection rule; each packet breaks exactly one rule.

TEST(Ipv4Reject, ShortBuffer) {
  auto bytes = header_with_options();
  bytes.resize(19);
  EXPECT_EQ(Ipv4Packet::parse(bytes).error(), ParseError::kTruncated);
}

TEST(Ipv4Reject, VersionNotFour) {
  auto bytes = header_with_options();
  bytes[0] = 0x66;
  fix_ipv4_checksum(bytes, 24);
  EXPECT_EQ(Ipv4Packet::parse(bytes).error(), ParseError::kBadVersion);
}

TEST(Ipv4Reject, IhlBelowFive) {
  auto bytes = header_with_options();
  bytes[0] = 0x44;
  fix_ipv4_checksum(bytes, 16);
  EXPECT_EQ(Ipv4Packet::parse(bytes).error(), ParseError::kBadHeaderLength);
}

TEST(Ipv4Reject, IhlPastBuffer) {
  auto bytes = header_with_options();
  bytes[0] = 0x48;  // 32-byte header in a 28-byte buffer
  EXPECT_EQ(Ipv4Packet::parse(bytes).error(), ParseError::kBadHeaderLength);
}

TEST(Ipv4Reject, TotalLengthBelowHeaderLength) {
  auto bytes = header_with_options();
  bytes[3] = 23;
  fix_ipv4_checksum(bytes, 24);
  EXPECT_EQ(Ipv4Packet::parse(bytes).error(), ParseError::kBadTotalLength);
}

TEST(Ipv4Reject, TotalLengthPastBuffer) {
  auto bytes = header_with_options();
  bytes[3] = 29;
  fix_ipv4_checksum(bytes, 24);
  EXPECT_EQ(Ipv4Packet::parse(bytes).error(), ParseError::kBadTotalLength);
}

TEST(Ipv4Reject, BadHeaderChecksum) {
  auto bytes = header_with_options();
  bytes[11] ^= 0x01;
  EXPECT_EQ(Ipv4Packet::parse(bytes).error(), ParseError::kBadChecksum);
}

TEST(Ipv4Packet, QuotedParseIsLenient) {
  auto bytes = header_with_options();
  bytes[11] ^= 0x01;  // bad checksum
  bytes[3] = 200;     // claims more than is quoted
  auto q = Ipv4Packet::parse_quoted(bytes);
  ASSERT_TRUE(q.ok()) << to_string(q.error());
  EXPECT_EQ(q->total_len(), 200);
  EXPECT_EQ(q->payload().size(), 4u);
  // Structural damage is still rejected.
  bytes[0] = 0x45 - 1;
  EXPECT_EQ(Ipv4Packet::parse_quoted(bytes).error(), ParseError::kBadHeaderLength);
  EXPECT_EQ(Ipv4Packet::parse_quoted(std::span<const uint8_t>(bytes).first(10)).error(),
            ParseError::kTruncated);
}

}  // namespace
}  // namespace utcp::wire
