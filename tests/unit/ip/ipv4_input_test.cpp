// SPDX-License-Identifier: BSD-2-Clause
#include "ip/ipv4_input.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "unit/ip/ip_test_packets.hpp"
#include "wire/checksum.hpp"

namespace utcp::ip {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace)
using wire::ParseError;

class Ipv4InputTest : public ::testing::Test {
 protected:
  explicit Ipv4InputTest(Ipv4InputConfig config = {.local_addresses = {kLocal}})
      : output_(100), input_(config, output_), reply_buf_(1500) {}

  InputResult feed(const std::vector<uint8_t>& packet, int64_t at_us = 0) {
    return input_.input(packet, instant_from_us(at_us), reply_buf_);
  }
  uint64_t count(IpCounter c) const { return input_.counters().get(c); }

  Ipv4Output output_;
  Ipv4Input input_;
  std::vector<uint8_t> reply_buf_;
};

TEST_F(Ipv4InputTest, EchoRequestGetsTheExactEchoReply) {
  const auto data = pattern(56, 9);
  const auto request =
      ip_packet({.protocol = 1, .id = 0x5555}, icmp_message(8, 0, 0x12340007, data));
  const InputResult r = feed(request);
  ASSERT_EQ(r.action, InputAction::kReply);

  // Expected reply, written out: IP id is the output's counter (100), DF clear (so a reply
  // bigger than the MTU can be fragmented), TTL 64.
  std::vector<uint8_t> want = {0x45, 0x00, 0x00, 84, 0x00, 100,  0x00, 0x00, 64, 1,
                               0,    0,    10,   77, 0,    2,    10,   77,   0,  1,
                               0,    0,    0,    0,  0x12, 0x34, 0x00, 0x07};
  want.insert(want.end(), data.begin(), data.end());
  put16(want, 10, wire::internet_checksum(std::span(want).first(20)));
  put16(want, 22, wire::internet_checksum(std::span(want).subspan(20)));
  EXPECT_EQ(std::vector<uint8_t>(r.reply.begin(), r.reply.end()), want);
  EXPECT_EQ(r.reply.data(), reply_buf_.data());
  EXPECT_EQ(count(IpCounter::icmp_echo_requests), 1u);
  EXPECT_EQ(count(IpCounter::icmp_echo_replies_sent), 1u);
}

TEST_F(Ipv4InputTest, EchoReplyTooBigForTheReplyBufferIsCounted) {
  const auto request = ip_packet({.protocol = 1}, icmp_message(8, 0, 1, pattern(1400)));
  std::vector<uint8_t> small(1000);
  EXPECT_EQ(input_.input(request, instant_from_us(0), small).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::out_no_room), 1u);
}

TEST_F(Ipv4InputTest, TcpIsDeliveredWithAddressesEcnAndSegment) {
  const auto segment = tcp_header(80, 40000, 1234, 0x12);
  const auto packet = ip_packet({.protocol = 6, .tos = 0x02}, segment);
  const InputResult r = feed(packet);
  ASSERT_EQ(r.action, InputAction::kTcp);
  EXPECT_EQ(r.src, kPeer);
  EXPECT_EQ(r.dst, kLocal);
  EXPECT_EQ(r.ecn, ecn::kEct0);
  EXPECT_EQ(std::vector<uint8_t>(r.payload.begin(), r.payload.end()), segment);
  EXPECT_EQ(r.payload.data(), packet.data() + 20);  // zero copy
  EXPECT_EQ(count(IpCounter::in_delivered_tcp), 1u);
}

TEST_F(Ipv4InputTest, HeaderOptionsAreSkippedAndNotEchoed) {
  // IHL 6: four bytes of options (NOPs) between the fixed header and the payload.
  const auto segment = tcp_header(80, 40000, 5);
  auto packet = ip_packet({.protocol = 6}, segment);
  packet.insert(packet.begin() + 20, {1, 1, 1, 1});
  packet[0] = 0x46;
  put16(packet, 2, static_cast<uint16_t>(packet.size()));
  put16(packet, 10, 0);
  put16(packet, 10, wire::internet_checksum(std::span(packet).first(24)));
  InputResult r = feed(packet);
  ASSERT_EQ(r.action, InputAction::kTcp);
  EXPECT_EQ(std::vector<uint8_t>(r.payload.begin(), r.payload.end()), segment);

  auto ping = ip_packet({.protocol = 1}, icmp_message(8, 0, 0x00090009, pattern(8)));
  ping.insert(ping.begin() + 20, {1, 1, 1, 1});
  ping[0] = 0x46;
  put16(ping, 2, static_cast<uint16_t>(ping.size()));
  put16(ping, 10, 0);
  put16(ping, 10, wire::internet_checksum(std::span(ping).first(24)));
  r = feed(ping);
  ASSERT_EQ(r.action, InputAction::kReply);
  EXPECT_EQ(r.reply[0], 0x45);  // the reply carries no options
  EXPECT_EQ(r.reply.size(), 20u + 8 + 8);
}

TEST_F(Ipv4InputTest, LinkPaddingAfterTheDatagramIsNotPayload) {
  auto packet = ip_packet({.protocol = 6}, tcp_header(1, 2, 3));
  packet.resize(packet.size() + 6, 0);
  const InputResult r = feed(packet);
  ASSERT_EQ(r.action, InputAction::kTcp);
  EXPECT_EQ(r.payload.size(), 20u);
}

TEST_F(Ipv4InputTest, ProtocolUnreachableForUdpQuotesTheDatagram) {
  std::vector<uint8_t> udp = {0x9c, 0x40, 0x00, 0x35, 0x00, 0x1c, 0x00, 0x00};
  const auto body = pattern(20);
  udp.insert(udp.end(), body.begin(), body.end());
  const auto packet = ip_packet({.protocol = 17, .id = 0x4242}, udp);
  const InputResult r = feed(packet);
  ASSERT_EQ(r.action, InputAction::kReply);
  const auto reply = r.reply;
  ASSERT_EQ(reply.size(), 20u + 8 + packet.size());
  EXPECT_EQ(reply[9], 1);  // ICMP
  EXPECT_EQ(wire::Ipv4Addr(uint32_t(get16(reply, 12)) << 16 | get16(reply, 14)), kLocal);
  EXPECT_EQ(wire::Ipv4Addr(uint32_t(get16(reply, 16)) << 16 | get16(reply, 18)), kPeer);
  EXPECT_TRUE(wire::checksum_ok(reply.first(20)));
  const auto icmp = reply.subspan(20);
  EXPECT_EQ(icmp[0], 3);  // destination unreachable
  EXPECT_EQ(icmp[1], 2);  // protocol unreachable
  EXPECT_EQ(get16(icmp, 4), 0);
  EXPECT_EQ(get16(icmp, 6), 0);
  EXPECT_TRUE(wire::checksum_ok(icmp));
  EXPECT_EQ(std::vector<uint8_t>(icmp.begin() + 8, icmp.end()), packet);  // header + all data
  EXPECT_EQ(count(IpCounter::in_unknown_protocol), 1u);
  EXPECT_EQ(count(IpCounter::icmp_unreachable_sent), 1u);
}

TEST_F(Ipv4InputTest, ProtocolUnreachableQuoteIsCappedAt576Bytes) {
  const auto packet = ip_packet({.protocol = 17}, pattern(1400));
  const InputResult r = feed(packet);
  ASSERT_EQ(r.action, InputAction::kReply);
  ASSERT_EQ(r.reply.size(), 576u);
  EXPECT_EQ(std::vector<uint8_t>(r.reply.begin() + 28, r.reply.end()),
            std::vector<uint8_t>(packet.begin(), packet.begin() + 548));
}

TEST_F(Ipv4InputTest, NoIcmpErrorAboutNonFirstFragmentsOrNonUnicastSources) {
  // A non-first fragment of an unknown protocol: dropped silently, not buffered.
  EXPECT_EQ(feed(ip_packet({.protocol = 17, .frag_offset = 1480}, pattern(100))).action,
            InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::frag_non_first_unknown_protocol), 1u);
  EXPECT_EQ(input_.reassembler().trains(), 0u);
  // The first fragment may be answered (RFC 1122 §3.2.2).
  EXPECT_EQ(feed(ip_packet({.protocol = 17, .mf = true}, pattern(64))).action, InputAction::kReply);
  // Source 0.0.0.0 does not name a host to answer.
  EXPECT_EQ(feed(ip_packet({.src = wire::Ipv4Addr(0), .protocol = 17}, pattern(8))).action,
            InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::icmp_error_suppressed), 1u);
  EXPECT_EQ(count(IpCounter::icmp_unreachable_sent), 1u);
}

TEST_F(Ipv4InputTest, BroadcastAndMulticastDestinationsAreNotForUs) {
  EXPECT_EQ(feed(ip_packet({.dst = wire::Ipv4Addr(0xffffffff), .protocol = 17}, pattern(8))).action,
            InputAction::kDrop);
  EXPECT_EQ(feed(ip_packet({.dst = wire::Ipv4Addr(224, 0, 0, 1), .protocol = 1},
                           icmp_message(8, 0, 1, pattern(8))))
                .action,
            InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::in_not_for_us), 2u);
  EXPECT_EQ(count(IpCounter::icmp_unreachable_sent), 0u);
}

TEST_F(Ipv4InputTest, PacketForAnotherAddressIsDroppedAndCounted) {
  const InputResult r = feed(ip_packet({.dst = wire::Ipv4Addr(10, 77, 0, 3)}, tcp_header(1, 2, 3)));
  EXPECT_EQ(r.action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::in_not_for_us), 1u);
  EXPECT_EQ(count(IpCounter::in_delivered_tcp), 0u);
}

TEST_F(Ipv4InputTest, InvalidSourcesAreDropped) {
  for (auto src : {wire::Ipv4Addr(127, 0, 0, 1), wire::Ipv4Addr(224, 1, 2, 3),
                   wire::Ipv4Addr(255, 255, 255, 255), wire::Ipv4Addr(240, 0, 0, 1)}) {
    EXPECT_EQ(feed(ip_packet({.src = src}, tcp_header(1, 2, 3))).action, InputAction::kDrop);
  }
  EXPECT_EQ(count(IpCounter::in_bad_source), 4u);
}

TEST_F(Ipv4InputTest, EveryParseErrorIsCountedByReason) {
  const auto good = ip_packet({}, tcp_header(1, 2, 3));

  auto truncated = std::vector<uint8_t>(good.begin(), good.begin() + 12);
  auto bad_version = good;
  bad_version[0] = 0x65;
  auto bad_ihl = good;
  bad_ihl[0] = 0x44;
  auto bad_total = good;
  put16(bad_total, 2, static_cast<uint16_t>(good.size() + 1));
  put16(bad_total, 10, 0);
  put16(bad_total, 10, wire::internet_checksum(std::span(bad_total).first(20)));
  auto bad_checksum = good;
  bad_checksum[10] ^= 0x01;

  for (const auto* p : {&truncated, &bad_version, &bad_ihl, &bad_total, &bad_checksum}) {
    EXPECT_EQ(feed(*p).action, InputAction::kDrop);
  }
  EXPECT_EQ(count(IpCounter::in_truncated), 1u);
  EXPECT_EQ(count(IpCounter::in_bad_version), 1u);
  EXPECT_EQ(count(IpCounter::in_bad_header_length), 1u);
  EXPECT_EQ(count(IpCounter::in_bad_total_length), 1u);
  EXPECT_EQ(count(IpCounter::in_bad_checksum), 1u);
  EXPECT_EQ(count(IpCounter::in_packets), 5u);
  EXPECT_EQ(IpCounters::for_parse_error(ParseError::kBadOptions), IpCounter::in_bad_other);
  EXPECT_EQ(IpCounters::name(IpCounter::in_bad_checksum), "ip.drop.bad-checksum");
}

TEST_F(Ipv4InputTest, IcmpWithBadChecksumIsDropped) {
  auto msg = icmp_message(8, 0, 1, pattern(8));
  msg[9] ^= 0xff;
  EXPECT_EQ(feed(ip_packet({.protocol = 1}, msg)).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::icmp_bad), 1u);
}

TEST_F(Ipv4InputTest, EchoRepliesAndUnknownIcmpTypesAreConsumedQuietly) {
  EXPECT_EQ(feed(ip_packet({.protocol = 1}, icmp_message(0, 0, 1, pattern(8)))).action,
            InputAction::kConsumed);
  EXPECT_EQ(feed(ip_packet({.protocol = 1}, icmp_message(42, 0, 1, pattern(8)))).action,
            InputAction::kConsumed);
  EXPECT_EQ(count(IpCounter::icmp_other_ignored), 2u);
  EXPECT_EQ(count(IpCounter::icmp_unreachable_sent), 0u);
}

// An ICMP error from a router about the TCP segment 10.77.0.2:40000 -> 10.77.0.1:80.
std::vector<uint8_t> icmp_error_about_our_segment(uint8_t type, uint8_t code, uint32_t rest,
                                                  size_t transport_bytes = 8, uint8_t protocol = 6,
                                                  wire::Ipv4Addr quoted_src = kLocal) {
  auto sent = ip_packet({.src = quoted_src, .dst = kPeer, .protocol = protocol, .df = true},
                        tcp_header(40000, 80, 0xdeadbeef, 0x10));
  sent.resize(20 + transport_bytes);
  return ip_packet({.src = kRouter, .protocol = 1}, icmp_message(type, code, rest, sent));
}

TEST_F(Ipv4InputTest, FragmentationNeededIsDecodedWithMtuAndQuotedSegment) {
  const InputResult r = feed(icmp_error_about_our_segment(3, 4, 1280));
  ASSERT_EQ(r.action, InputAction::kIcmpError);
  const IcmpError& e = *r.icmp_error;
  EXPECT_EQ(e.kind, IcmpErrorKind::kPathMtu);
  EXPECT_EQ(e.type, 3);
  EXPECT_EQ(e.code, 4);
  EXPECT_EQ(e.next_hop_mtu, 1280);
  EXPECT_EQ(e.reporter, kRouter);
  EXPECT_EQ(e.local_addr, kLocal);
  EXPECT_EQ(e.local_port, 40000);
  EXPECT_EQ(e.remote_addr, kPeer);
  EXPECT_EQ(e.remote_port, 80);
  EXPECT_EQ(e.seq, wire::SeqNum(0xdeadbeef));
  EXPECT_EQ(count(IpCounter::icmp_errors_in), 1u);
}

TEST_F(Ipv4InputTest, IcmpErrorsAreClassifiedHardOrSoft) {
  struct Case {
    uint8_t type, code;
    IcmpErrorKind kind;
  };
  for (const Case c : {Case{3, 0, IcmpErrorKind::kSoft}, Case{3, 1, IcmpErrorKind::kSoft},
                       Case{3, 2, IcmpErrorKind::kHard}, Case{3, 3, IcmpErrorKind::kHard},
                       Case{3, 5, IcmpErrorKind::kSoft}, Case{3, 13, IcmpErrorKind::kSoft},
                       Case{11, 0, IcmpErrorKind::kSoft}, Case{12, 0, IcmpErrorKind::kSoft}}) {
    const InputResult r = feed(icmp_error_about_our_segment(c.type, c.code, 0));
    ASSERT_EQ(r.action, InputAction::kIcmpError) << int(c.type) << "/" << int(c.code);
    EXPECT_EQ(r.icmp_error->kind, c.kind) << int(c.type) << "/" << int(c.code);
    EXPECT_EQ(r.icmp_error->next_hop_mtu, 0);
  }
}

TEST_F(Ipv4InputTest, UnusableIcmpErrorsAreDroppedByReason) {
  EXPECT_EQ(feed(icmp_error_about_our_segment(4, 0, 0)).action, InputAction::kConsumed);
  EXPECT_EQ(count(IpCounter::icmp_source_quench_ignored), 1u);
  EXPECT_EQ(feed(icmp_error_about_our_segment(3, 3, 0, 8, 17)).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::icmp_errors_not_tcp), 1u);
  EXPECT_EQ(feed(icmp_error_about_our_segment(3, 3, 0, 4)).action, InputAction::kDrop);
  EXPECT_EQ(feed(icmp_error_about_our_segment(3, 3, 0, 8, 6, wire::Ipv4Addr(10, 9, 9, 9))).action,
            InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::icmp_errors_bad_quote), 2u);
}

TEST_F(Ipv4InputTest, IcmpMessagesAreNeverAnsweredWithAnError) {
  // RFC 1122 §3.2.2: no ICMP error about an ICMP error, whatever is wrong with it.
  auto bad_checksum = icmp_error_about_our_segment(3, 3, 0);
  bad_checksum[30] ^= 0x55;
  for (const auto& p :
       {icmp_error_about_our_segment(3, 99, 0, 8, 17), icmp_error_about_our_segment(11, 1, 0, 2),
        icmp_error_about_our_segment(12, 0, 0, 0), bad_checksum,
        ip_packet({.protocol = 1}, icmp_message(42, 7, 0, pattern(3)))}) {
    EXPECT_NE(feed(p).action, InputAction::kReply);
  }
  EXPECT_EQ(count(IpCounter::icmp_unreachable_sent), 0u);
  EXPECT_EQ(count(IpCounter::out_packets), 0u);
}

class Ipv4InputRateLimitTest : public Ipv4InputTest {
 protected:
  Ipv4InputRateLimitTest()
      : Ipv4InputTest(
            {.local_addresses = {kLocal}, .icmp_errors_per_second = 1, .icmp_error_burst = 2}) {}
};

TEST_F(Ipv4InputRateLimitTest, ProtocolUnreachableIsRateLimited) {
  const auto udp = ip_packet({.protocol = 17}, pattern(16));
  EXPECT_EQ(feed(udp, 0).action, InputAction::kReply);
  EXPECT_EQ(feed(udp, 10).action, InputAction::kReply);
  EXPECT_EQ(feed(udp, 20).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::icmp_error_rate_limited), 1u);
  EXPECT_EQ(feed(udp, 999'999).action, InputAction::kDrop);
  EXPECT_EQ(feed(udp, 1'000'000).action, InputAction::kReply);  // one token back per second
  EXPECT_EQ(feed(udp, 1'000'001).action, InputAction::kDrop);
  // Echo replies are not errors and are not limited.
  const auto ping = ip_packet({.protocol = 1}, icmp_message(8, 0, 1, pattern(8)));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(feed(ping, 1'000'002).action, InputAction::kReply);
}

TEST(Ipv4InputMultiAddress, AcceptsEveryLocalAddress) {
  Ipv4Output out;
  Ipv4Input in({.local_addresses = {kLocal, wire::Ipv4Addr(10, 77, 1, 2)}}, out);
  std::vector<uint8_t> buf(1500);
  EXPECT_EQ(in.input(ip_packet({.dst = wire::Ipv4Addr(10, 77, 1, 2)}, tcp_header(1, 2, 3)),
                     instant_from_us(0), buf)
                .action,
            InputAction::kTcp);
  // The echo reply comes from the address the request went to.
  const auto r = in.input(ip_packet({.dst = wire::Ipv4Addr(10, 77, 1, 2), .protocol = 1},
                                    icmp_message(8, 0, 1, pattern(4))),
                          instant_from_us(0), buf);
  ASSERT_EQ(r.action, InputAction::kReply);
  EXPECT_EQ(get16(r.reply, 12), 0x0a4d);
  EXPECT_EQ(get16(r.reply, 14), 0x0102);
}

}  // namespace
}  // namespace utcp::ip
