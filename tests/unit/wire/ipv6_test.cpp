// SPDX-License-Identifier: BSD-2-Clause
// The IPv6 fixed header (RFC 8200 §3): fields, the emitter, and one test per rejection rule.
#include "wire/ipv6.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace utcp::wire {
namespace {

const Ipv6Addr kSrc(0xfd77, 0, 0, 0, 0, 0, 0, 1);
const Ipv6Addr kDst(0xfd77, 0, 0, 0, 0, 0, 0, 2);

std::vector<uint8_t> packet(size_t payload_len, uint8_t next = ipv6_next::kTcp) {
  Ipv6Repr r;
  r.src = kSrc;
  r.dst = kDst;
  r.next_header = next;
  r.payload_len = static_cast<uint16_t>(payload_len);
  std::vector<uint8_t> out(r.total_len());
  EXPECT_EQ(r.emit(out), kIpv6HeaderLen);
  for (size_t i = kIpv6HeaderLen; i < out.size(); ++i) out[i] = static_cast<uint8_t>(i);
  return out;
}

TEST(Ipv6Packet, ReadsEveryField) {
  // 6 | traffic class 0xb8 (DSCP 46, ECN 0) | flow label 0x12345; payload length 4; TCP;
  // hop limit 64; fd77::1 -> fd77::2.
  std::vector<uint8_t> b = {0x6b, 0x81, 0x23, 0x45, 0x00, 0x04, 0x06, 0x40};
  for (const auto& a : {kSrc, kDst}) b.insert(b.end(), a.bytes.begin(), a.bytes.end());
  b.insert(b.end(), {1, 2, 3, 4});
  auto p = Ipv6Packet::parse(b);
  ASSERT_TRUE(p.ok()) << to_string(p.error());
  EXPECT_EQ(p->version(), 6);
  EXPECT_EQ(p->traffic_class(), 0xb8);
  EXPECT_EQ(p->dscp(), 46);
  EXPECT_EQ(p->ecn(), 0);
  EXPECT_EQ(p->flow_label(), 0x12345u);
  EXPECT_EQ(p->payload_len(), 4);
  EXPECT_EQ(p->next_header(), ipv6_next::kTcp);
  EXPECT_EQ(p->hop_limit(), 64);
  EXPECT_EQ(p->src(), kSrc);
  EXPECT_EQ(p->dst(), kDst);
  EXPECT_EQ(p->payload().size(), 4u);
  EXPECT_EQ(p->payload()[0], 1);
  // The repr re-emits the same header.
  const Ipv6Repr r = p->repr();
  std::vector<uint8_t> out(kIpv6HeaderLen);
  ASSERT_EQ(r.emit(out), kIpv6HeaderLen);
  EXPECT_TRUE(std::equal(out.begin(), out.end(), b.begin()));
}

TEST(Ipv6Packet, LinkPaddingIsNotPayload) {
  auto b = packet(8);
  b.insert(b.end(), {0xee, 0xee});
  auto p = Ipv6Packet::parse(b);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->payload().size(), 8u);
  EXPECT_EQ(p->bytes().size(), kIpv6HeaderLen + 8);
}

TEST(Ipv6Packet, RejectsAShortBuffer) {
  auto b = packet(0);
  b.pop_back();
  EXPECT_EQ(Ipv6Packet::parse(b).error(), ParseError::kTruncated);
  EXPECT_EQ(Ipv6Packet::parse({}).error(), ParseError::kTruncated);
}

TEST(Ipv6Packet, RejectsAVersionOtherThanSix) {
  auto b = packet(0);
  b[0] = 0x45;
  EXPECT_EQ(Ipv6Packet::parse(b).error(), ParseError::kBadVersion);
  b[0] = 0x70;
  EXPECT_EQ(Ipv6Packet::parse(b).error(), ParseError::kBadVersion);
}

TEST(Ipv6Packet, RejectsAPayloadLengthBeyondTheBuffer) {
  auto b = packet(16);
  b.pop_back();
  EXPECT_EQ(Ipv6Packet::parse(b).error(), ParseError::kBadTotalLength);
  // The quoted parse of an ICMPv6 error accepts the cut-short packet.
  auto q = Ipv6Packet::parse_quoted(b);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->payload().size(), 15u);
  EXPECT_EQ(q->payload_len(), 16);
}

TEST(Ipv6Repr, EmitRefusesAShortBufferAndAWideFlowLabel) {
  Ipv6Repr r;
  std::vector<uint8_t> out(kIpv6HeaderLen - 1);
  EXPECT_EQ(r.emit(out), 0u);
  out.resize(kIpv6HeaderLen);
  r.flow_label = 0x100000;
  EXPECT_EQ(r.emit(out), 0u);
  r.flow_label = 0xfffff;
  r.traffic_class = 0xff;
  ASSERT_EQ(r.emit(out), kIpv6HeaderLen);
  auto p = Ipv6Packet::parse(out);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->flow_label(), 0xfffffu);
  EXPECT_EQ(p->traffic_class(), 0xff);
  EXPECT_EQ(p->repr(), r);
}

}  // namespace
}  // namespace utcp::wire
