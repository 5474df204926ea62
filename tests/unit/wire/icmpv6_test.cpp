// SPDX-License-Identifier: BSD-2-Clause
// ICMPv6 (RFC 4443): echo, the four error messages with their fields, the quoted packet,
// the §2.4(c) size limit and the checksum over the IPv6 pseudo-header.
#include "wire/icmpv6.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "wire/ipv6_ext.hpp"
#include "wire/tcp.hpp"

namespace utcp::wire {
namespace {

const Ipv6Addr kKernel(0xfd77, 0, 0, 0, 0, 0, 0, 1);
const Ipv6Addr kStack(0xfd77, 0, 0, 0, 0, 0, 0, 2);

std::vector<uint8_t> emit(const Icmpv6Repr& r, const Ipv6Addr& src = kStack,
                          const Ipv6Addr& dst = kKernel) {
  std::vector<uint8_t> out(r.total_len());
  EXPECT_EQ(r.emit(out, src, dst), out.size());
  return out;
}

// A TCP-over-IPv6 packet from the stack to the kernel with `data_len` payload bytes, and
// `dest_opts` adds an empty Destination Options header before TCP.
std::vector<uint8_t> tcp_packet(size_t data_len, bool dest_opts = false) {
  std::vector<uint8_t> payload(data_len, 0x5a);
  TcpRepr t;
  t.src_port = 40000;
  t.dst_port = 5001;
  t.seq = SeqNum(0x01020304);
  t.flags = tcp_flag::kAck;
  t.payload = payload;
  std::vector<uint8_t> ext;
  if (dest_opts) ext = {ipv6_next::kTcp, 0, 1, 4, 0, 0, 0, 0};
  Ipv6Repr ip;
  ip.src = kStack;
  ip.dst = kKernel;
  ip.next_header = dest_opts ? ipv6_next::kDestOptions : ipv6_next::kTcp;
  ip.payload_len = static_cast<uint16_t>(ext.size() + t.total_len());
  std::vector<uint8_t> out(ip.total_len());
  EXPECT_EQ(ip.emit(out), kIpv6HeaderLen);
  std::copy(ext.begin(), ext.end(), out.begin() + kIpv6HeaderLen);
  EXPECT_EQ(t.emit(std::span<uint8_t>(out).subspan(kIpv6HeaderLen + ext.size()), kStack, kKernel),
            t.total_len());
  return out;
}

TEST(Icmpv6, EchoRequestAndReplyRoundTrip) {
  const std::vector<uint8_t> data = {'p', 'i', 'n', 'g', '!'};
  const auto req = emit(Icmpv6Repr::echo_request(0x1234, 7, data), kKernel, kStack);
  auto p = Icmpv6Packet::parse(req, kKernel, kStack);
  ASSERT_TRUE(p.ok()) << to_string(p.error());
  EXPECT_EQ(p->type(), icmpv6_type::kEchoRequest);
  EXPECT_EQ(p->code(), 0);
  EXPECT_EQ(p->identifier(), 0x1234);
  EXPECT_EQ(p->sequence(), 7);
  EXPECT_FALSE(p->is_error());
  EXPECT_TRUE(p->invoking().empty());
  EXPECT_EQ(p->quote().error(), ParseError::kUnsupported);
  EXPECT_EQ(std::vector<uint8_t>(p->data().begin(), p->data().end()), data);
  // RFC 4443 §4.2: the reply echoes identifier, sequence and data.
  const auto r = p->repr();
  const auto reply = emit(Icmpv6Repr::echo_reply(r.identifier, r.sequence, r.data));
  auto q = Icmpv6Packet::parse(reply, kStack, kKernel);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->type(), icmpv6_type::kEchoReply);
  EXPECT_EQ(q->identifier(), 0x1234);
  EXPECT_EQ(q->sequence(), 7);
  EXPECT_EQ(q->data().size(), data.size());
}

// RFC 4443 §2.3: the pseudo-header is part of the checksum: other addresses fail it.
TEST(Icmpv6, ChecksumCoversThePseudoHeader) {
  const auto req = emit(Icmpv6Repr::echo_request(1, 1, {}), kKernel, kStack);
  EXPECT_TRUE(Icmpv6Packet::parse(req, kKernel, kStack).ok());
  EXPECT_EQ(Icmpv6Packet::parse(req, kKernel, kKernel).error(), ParseError::kBadChecksum);
  EXPECT_EQ(Icmpv6Packet::parse(req, kKernel, Ipv6Addr()).error(), ParseError::kBadChecksum);
  auto bad = req;
  bad[5] ^= 0x80;
  EXPECT_EQ(Icmpv6Packet::parse(bad, kKernel, kStack).error(), ParseError::kBadChecksum);
  EXPECT_TRUE(Icmpv6Packet::parse(bad, kKernel, kStack, false).ok());
  EXPECT_EQ(Icmpv6Packet::parse(std::span(req).first(7), kKernel, kStack).error(),
            ParseError::kTruncated);
}

TEST(Icmpv6, DestinationUnreachableQuotesTheInvokingPacket) {
  const auto invoking = tcp_packet(10);
  const auto msg = emit(Icmpv6Repr::dest_unreachable(icmpv6_unreach::kPort, invoking));
  auto p = Icmpv6Packet::parse(msg, kStack, kKernel);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->is_error());
  EXPECT_EQ(p->type(), icmpv6_type::kDestUnreachable);
  EXPECT_EQ(p->code(), icmpv6_unreach::kPort);
  EXPECT_EQ(p->rest_of_header(), 0u);  // §3.1: unused
  EXPECT_EQ(p->invoking().size(), invoking.size());
  auto q = p->quote();
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->ip.src(), kStack);
  EXPECT_EQ(q->ip.dst(), kKernel);
  ASSERT_TRUE(q->has_upper);
  EXPECT_EQ(q->upper_protocol, ipv6_next::kTcp);
  ASSERT_GE(q->upper.size(), 8u);
  EXPECT_EQ(q->upper[0] << 8 | q->upper[1], 40000);  // source port
  EXPECT_EQ(q->upper[4], 0x01);                      // sequence number
}

TEST(Icmpv6, QuoteWalksTheQuotedExtensionHeaders) {
  const auto invoking = tcp_packet(4, true);
  const auto msg = emit(Icmpv6Repr::dest_unreachable(icmpv6_unreach::kAdminProhibited, invoking));
  auto q = Icmpv6Packet::parse(msg, kStack, kKernel)->quote();
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(q->has_upper);
  EXPECT_EQ(q->upper_protocol, ipv6_next::kTcp);
  EXPECT_EQ(q->upper.size(), invoking.size() - 48);
}

// A quoted fragment: the first one holds the TCP header (even when the quote cuts it to a
// length §4.5 would refuse), a later one does not.
TEST(Icmpv6, QuoteOfAFragmentHasTheUpperLayerOnlyInTheFirst) {
  auto fragmented = [](uint16_t offset) {
    auto p = tcp_packet(100);
    Ipv6FragmentHeader f;
    f.next_header = ipv6_next::kTcp;
    f.offset = offset;
    f.more = true;
    f.identification = 99;
    std::vector<uint8_t> h(8);
    EXPECT_EQ(f.emit(h), 8u);
    p.insert(p.begin() + kIpv6HeaderLen, h.begin(), h.end());
    p[6] = ipv6_next::kFragment;
    p[5] = static_cast<uint8_t>(p[5] + 8);  // payload length 120 + 8, no carry
    p.resize(kIpv6HeaderLen + 8 + 21);      // as cut by a quote
    return p;
  };
  const auto first = emit(Icmpv6Repr::time_exceeded(icmpv6_time::kReassembly, fragmented(0)));
  auto q = Icmpv6Packet::parse(first, kStack, kKernel)->quote();
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(q->has_upper);
  EXPECT_EQ(q->upper_protocol, ipv6_next::kTcp);
  EXPECT_EQ(q->upper.size(), 21u);
  EXPECT_EQ(q->upper[0] << 8 | q->upper[1], 40000);
  const auto later = emit(Icmpv6Repr::time_exceeded(icmpv6_time::kReassembly, fragmented(64)));
  auto q2 = Icmpv6Packet::parse(later, kStack, kKernel)->quote();
  ASSERT_TRUE(q2.ok());
  EXPECT_FALSE(q2->has_upper);
}

TEST(Icmpv6, PacketTooBigCarriesTheMtu) {
  const auto msg = emit(Icmpv6Repr::packet_too_big(1280, tcp_packet(100)));
  auto p = Icmpv6Packet::parse(msg, kStack, kKernel);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->type(), icmpv6_type::kPacketTooBig);
  EXPECT_EQ(p->code(), 0);
  EXPECT_EQ(p->mtu(), 1280u);
  EXPECT_EQ(p->repr().mtu, 1280u);
  EXPECT_TRUE(p->quote().ok());
}

TEST(Icmpv6, TimeExceededCodes) {
  for (uint8_t code : {icmpv6_time::kHopLimit, icmpv6_time::kReassembly}) {
    const auto msg = emit(Icmpv6Repr::time_exceeded(code, tcp_packet(0)));
    auto p = Icmpv6Packet::parse(msg, kStack, kKernel);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->type(), icmpv6_type::kTimeExceeded);
    EXPECT_EQ(p->code(), code);
    EXPECT_TRUE(p->is_error());
  }
}

TEST(Icmpv6, ParameterProblemCarriesThePointer) {
  const auto msg =
      emit(Icmpv6Repr::parameter_problem(icmpv6_param::kUnrecognizedNextHeader, 6, tcp_packet(0)));
  auto p = Icmpv6Packet::parse(msg, kStack, kKernel);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->type(), icmpv6_type::kParameterProblem);
  EXPECT_EQ(p->code(), icmpv6_param::kUnrecognizedNextHeader);
  EXPECT_EQ(p->pointer(), 6u);
  EXPECT_EQ(p->repr().pointer, 6u);
}

// RFC 4443 §2.4(c): the error with its IPv6 header never exceeds 1280 bytes.
TEST(Icmpv6, ErrorQuoteIsCutToFitTheMinimumMtu) {
  const auto big = tcp_packet(1400);  // 1460 bytes
  const auto r = Icmpv6Repr::dest_unreachable(icmpv6_unreach::kPort, big);
  EXPECT_EQ(r.data_len(), kIcmpv6MaxQuote);
  EXPECT_EQ(kIpv6HeaderLen + r.total_len(), kIpv6MinMtu);
  const auto msg = emit(r);
  ASSERT_EQ(msg.size(), 1240u);
  EXPECT_TRUE(std::equal(msg.begin() + 8, msg.end(), big.begin()));
  auto p = Icmpv6Packet::parse(msg, kStack, kKernel);
  ASSERT_TRUE(p.ok());
  auto q = p->quote();
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->ip.payload_len(), 1420);  // the header still says what was sent
  EXPECT_EQ(q->ip.bytes().size(), 1232u);
  // A short packet is quoted whole, and echo data is never cut.
  EXPECT_EQ(Icmpv6Repr::dest_unreachable(0, tcp_packet(10)).data_len(), 70u);
  EXPECT_EQ(Icmpv6Repr::echo_reply(1, 1, big).data_len(), big.size());
  // Too small a buffer is refused.
  std::vector<uint8_t> small(r.total_len() - 1);
  EXPECT_EQ(r.emit(small, kStack, kKernel), 0u);
}

TEST(Icmpv6, QuoteOfAGarbledHeaderIsRefused) {
  std::vector<uint8_t> not_ipv6(48, 0x45);
  const auto msg = emit(Icmpv6Repr::dest_unreachable(0, not_ipv6));
  auto p = Icmpv6Packet::parse(msg, kStack, kKernel);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->quote().error(), ParseError::kBadVersion);
  const auto short_msg = emit(Icmpv6Repr::dest_unreachable(0, std::span(not_ipv6).first(39)));
  EXPECT_EQ(Icmpv6Packet::parse(short_msg, kStack, kKernel)->quote().error(),
            ParseError::kTruncated);
}

// RFC 4443 §2.4(e): which invoking packets get no error.
TEST(Icmpv6, ErrorsAreNotSentAboutErrorsMulticastOrUnspecifiedSources) {
  auto allowed = [](const std::vector<uint8_t>& invoking, uint8_t type, uint8_t code) {
    auto ip = Ipv6Packet::parse(invoking);
    EXPECT_TRUE(ip.ok());
    return icmpv6_error_allowed(*ip, walk_ipv6_ext(*ip), type, code);
  };
  const auto tcp = tcp_packet(0);
  EXPECT_TRUE(allowed(tcp, icmpv6_type::kDestUnreachable, icmpv6_unreach::kPort));
  // (e.1) about an ICMPv6 error; (e.2) about a Redirect; an echo request is fine.
  auto wrap_icmp = [](const std::vector<uint8_t>& msg) {
    Ipv6Repr ip;
    ip.src = kStack;
    ip.dst = kKernel;
    ip.next_header = ipv6_next::kIcmpv6;
    ip.payload_len = static_cast<uint16_t>(msg.size());
    std::vector<uint8_t> out(ip.total_len());
    EXPECT_EQ(ip.emit(out), kIpv6HeaderLen);
    std::copy(msg.begin(), msg.end(), out.begin() + kIpv6HeaderLen);
    return out;
  };
  const auto err = wrap_icmp(emit(Icmpv6Repr::dest_unreachable(0, tcp)));
  EXPECT_FALSE(allowed(err, icmpv6_type::kParameterProblem, 0));
  Icmpv6Repr redirect;
  redirect.type = kIcmpv6Redirect;
  EXPECT_FALSE(allowed(wrap_icmp(emit(redirect)), icmpv6_type::kDestUnreachable, 0));
  EXPECT_TRUE(allowed(wrap_icmp(emit(Icmpv6Repr::echo_request(1, 1, {}))),
                      icmpv6_type::kParameterProblem, 0));
  // (e.3) to multicast: only Packet Too Big and Parameter Problem code 2.
  auto to_multicast = tcp;
  to_multicast[24] = 0xff;
  EXPECT_FALSE(allowed(to_multicast, icmpv6_type::kDestUnreachable, icmpv6_unreach::kPort));
  EXPECT_FALSE(allowed(to_multicast, icmpv6_type::kParameterProblem, 1));
  EXPECT_TRUE(allowed(to_multicast, icmpv6_type::kPacketTooBig, 0));
  EXPECT_TRUE(
      allowed(to_multicast, icmpv6_type::kParameterProblem, icmpv6_param::kUnrecognizedOption));
  // (e.6) from the unspecified or a multicast address.
  auto from_unspecified = tcp;
  std::fill(from_unspecified.begin() + 8, from_unspecified.begin() + 24, 0);
  EXPECT_FALSE(allowed(from_unspecified, icmpv6_type::kDestUnreachable, 0));
  auto from_multicast = tcp;
  from_multicast[8] = 0xff;
  EXPECT_FALSE(allowed(from_multicast, icmpv6_type::kPacketTooBig, 0));
}

}  // namespace
}  // namespace utcp::wire
