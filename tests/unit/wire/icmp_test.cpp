// SPDX-License-Identifier: BSD-2-Clause
// ICMPv4 view and repr (RFC 792, RFC 1191): echo, errors with quoted headers, rejections.
#include "wire/icmp.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "wire/tcp.hpp"
#include "wire_test_bytes.hpp"

namespace utcp::wire {
namespace {

std::vector<uint8_t> emit(const IcmpRepr& r) {
  std::vector<uint8_t> buf(r.total_len());
  EXPECT_EQ(r.emit(buf), buf.size());
  return buf;
}

// An IPv4+TCP datagram 10.77.0.2:40000 -> 10.77.0.1:80, seq 0xdeadbeef, as sent.
std::vector<uint8_t> original_tcp_datagram() {
  TcpRepr t;
  t.src_port = 40000;
  t.dst_port = 80;
  t.seq = SeqNum(0xdeadbeef);
  t.flags = tcp_flag::kSyn;
  t.options.mss = 1460;
  Ipv4Repr ip;
  ip.src = Ipv4Addr(10, 77, 0, 2);
  ip.dst = Ipv4Addr(10, 77, 0, 1);
  ip.protocol = ip_proto::kTcp;
  ip.payload_len = static_cast<uint16_t>(t.total_len());
  std::vector<uint8_t> d(ip.total_len());
  ip.emit(d);
  t.emit(std::span<uint8_t>(d).subspan(20), ip.src, ip.dst);
  return d;
}

TEST(Icmp, EchoRequestRoundTripAndAccessors) {
  const std::vector<uint8_t> data{1, 2, 3, 4, 5};
  auto bytes = emit(IcmpRepr::echo_request(0x1234, 7, data));
  ASSERT_EQ(bytes.size(), 13u);
  EXPECT_EQ(bytes[0], 8);
  auto p = IcmpPacket::parse(bytes);
  ASSERT_TRUE(p.ok()) << to_string(p.error());
  EXPECT_EQ(p->type(), icmp_type::kEchoRequest);
  EXPECT_EQ(p->code(), 0);
  EXPECT_EQ(p->identifier(), 0x1234);
  EXPECT_EQ(p->sequence(), 7);
  EXPECT_EQ(p->rest_of_header(), 0x12340007u);
  EXPECT_EQ(p->checksum(), uint16_t(bytes[2] << 8 | bytes[3]));
  EXPECT_EQ(std::vector<uint8_t>(p->data().begin(), p->data().end()), data);
  EXPECT_EQ(p->bytes().size(), 13u);
  EXPECT_FALSE(p->is_error());
  EXPECT_EQ(p->quote().error(), ParseError::kUnsupported);
  const IcmpRepr r = p->repr();
  EXPECT_EQ(r.type, icmp_type::kEchoRequest);
  EXPECT_EQ(r.identifier, 0x1234);
  EXPECT_EQ(r.sequence, 7);
  EXPECT_EQ(emit(r), bytes);
}

TEST(Icmp, EchoReplyFromRequestKeepsIdSeqData) {
  const std::vector<uint8_t> data{9, 8, 7};
  auto req = emit(IcmpRepr::echo_request(5, 6, data));
  auto p = IcmpPacket::parse(req);
  ASSERT_TRUE(p.ok());
  auto rep = emit(IcmpRepr::echo_reply(p->identifier(), p->sequence(), p->data()));
  auto q = IcmpPacket::parse(rep);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->type(), icmp_type::kEchoReply);
  EXPECT_EQ(q->identifier(), 5);
  EXPECT_EQ(q->sequence(), 6);
  EXPECT_EQ(q->data().size(), 3u);
}

TEST(Icmp, FragmentationNeededCarriesMtuAndQuote) {
  const auto orig = original_tcp_datagram();
  // RFC 792: quote the IP header plus the first 8 bytes of the payload.
  const std::span<const uint8_t> quoted = std::span<const uint8_t>(orig).first(28);
  auto bytes = emit(IcmpRepr::dest_unreachable(icmp_unreach::kFragmentationNeeded, 1280, quoted));
  auto p = IcmpPacket::parse(bytes);
  ASSERT_TRUE(p.ok()) << to_string(p.error());
  EXPECT_EQ(p->type(), icmp_type::kDestUnreachable);
  EXPECT_EQ(p->code(), icmp_unreach::kFragmentationNeeded);
  EXPECT_EQ(p->next_hop_mtu(), 1280);
  EXPECT_EQ(p->rest_of_header(), 1280u);  // RFC 1191 §4: high half unused
  EXPECT_TRUE(p->is_error());
  auto q = p->quote();
  ASSERT_TRUE(q.ok()) << to_string(q.error());
  EXPECT_EQ(q->ip.src(), Ipv4Addr(10, 77, 0, 2));
  EXPECT_EQ(q->ip.dst(), Ipv4Addr(10, 77, 0, 1));
  EXPECT_EQ(q->ip.protocol(), ip_proto::kTcp);
  EXPECT_EQ(q->ip.total_len(), orig.size());  // more than was quoted: accepted
  ASSERT_TRUE(q->has_ports());
  ASSERT_TRUE(q->has_tcp_seq());
  EXPECT_EQ(q->src_port(), 40000);
  EXPECT_EQ(q->dst_port(), 80);
  EXPECT_EQ(q->tcp_seq(), SeqNum(0xdeadbeef));
  EXPECT_EQ(p->repr().next_hop_mtu, 1280);
}

TEST(Icmp, ShortQuoteHasNoPorts) {
  auto orig = original_tcp_datagram();
  auto bytes = emit(
      IcmpRepr::dest_unreachable(icmp_unreach::kPort, 0, std::span<const uint8_t>(orig).first(22)));
  auto p = IcmpPacket::parse(bytes);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->next_hop_mtu(), 0);
  auto q = p->quote();
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(q->has_ports());
  EXPECT_FALSE(q->has_tcp_seq());
}

TEST(Icmp, QuoteWithUnreadableHeaderIsRejected) {
  const std::vector<uint8_t> junk(12, 0x45);
  auto bytes = emit(IcmpRepr::time_exceeded(0, junk));
  auto p = IcmpPacket::parse(bytes);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->quote().error(), ParseError::kTruncated);
}

TEST(Icmp, TimeExceededAndOtherErrorTypesQuote) {
  const auto orig = original_tcp_datagram();
  const auto quoted = std::span<const uint8_t>(orig).first(28);
  auto bytes = emit(IcmpRepr::time_exceeded(1, quoted));
  auto p = IcmpPacket::parse(bytes);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->type(), icmp_type::kTimeExceeded);
  EXPECT_EQ(p->code(), 1);
  EXPECT_EQ(p->rest_of_header(), 0u);
  ASSERT_TRUE(p->quote().ok());
  EXPECT_EQ(p->quote()->src_port(), 40000);
  for (uint8_t type : {icmp_type::kSourceQuench, icmp_type::kParameterProblem}) {
    IcmpRepr r = IcmpRepr::time_exceeded(0, quoted);
    r.type = type;
    auto b = emit(r);
    auto e = IcmpPacket::parse(b);
    ASSERT_TRUE(e.ok());
    EXPECT_TRUE(e->is_error());
    ASSERT_TRUE(e->quote().ok());
    EXPECT_EQ(e->quote()->tcp_seq(), SeqNum(0xdeadbeef));
  }
}

TEST(Icmp, EmitRefusesShortBuffer) {
  std::array<uint8_t, 7> small{};
  EXPECT_EQ(IcmpRepr::echo_request(1, 1, {}).emit(small), 0u);
}

TEST(IcmpReject, Short) {
  auto bytes = emit(IcmpRepr::echo_request(1, 2, {}));
  bytes.pop_back();
  EXPECT_EQ(IcmpPacket::parse(bytes).error(), ParseError::kTruncated);
}

TEST(IcmpReject, BadChecksum) {
  const std::vector<uint8_t> data{1, 2, 3};
  auto bytes = emit(IcmpRepr::echo_request(1, 2, data));
  bytes.back() ^= 0x40;
  EXPECT_EQ(IcmpPacket::parse(bytes).error(), ParseError::kBadChecksum);
}

}  // namespace
}  // namespace utcp::wire
