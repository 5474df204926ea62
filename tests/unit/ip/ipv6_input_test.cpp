// SPDX-License-Identifier: BSD-2-Clause
#include "ip/ipv6_input.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "unit/ip/ip6_test_packets.hpp"
#include "unit/wire/hex_vectors.hpp"
#include "wire/icmpv6.hpp"

namespace utcp::ip {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace)

std::vector<uint8_t> bytes_of(std::span<const uint8_t> s) {
  return {s.begin(), s.end()};
}

class Ipv6InputTest : public ::testing::Test {
 protected:
  explicit Ipv6InputTest(Ipv6InputConfig config = {.local_addresses = {kLocal6}})
      : input_(config, output_), reply_buf_(1500) {}

  Ipv6InputResult feed(const std::vector<uint8_t>& packet, int64_t at_us = 0) {
    return input_.input(packet, instant_from_us(at_us), reply_buf_);
  }
  uint64_t count(IpCounter c) const { return input_.counters().get(c); }

  // The ICMPv6 error in a kReply, checked: from kLocal6 to the offending source, valid
  // checksum, the given type, code and rest-of-header; returns the quote.
  std::vector<uint8_t> expect_error(const Ipv6InputResult& r, uint8_t type, uint8_t code,
                                    uint32_t rest, const wire::Ipv6Addr& to = kPeer6) {
    EXPECT_EQ(r.action, InputAction::kReply);
    if (r.action != InputAction::kReply) return {};
    auto ip = wire::Ipv6Packet::parse(r.reply);
    EXPECT_TRUE(ip.ok());
    if (!ip) return {};
    EXPECT_EQ(ip->src(), kLocal6);
    EXPECT_EQ(ip->dst(), to);
    EXPECT_EQ(ip->next_header(), 58);
    EXPECT_EQ(ip->hop_limit(), 64);
    auto icmp = wire::Icmpv6Packet::parse(ip->payload(), ip->src(), ip->dst());
    EXPECT_TRUE(icmp.ok());
    if (!icmp) return {};
    EXPECT_EQ(icmp->type(), type);
    EXPECT_EQ(icmp->code(), code);
    EXPECT_EQ(icmp->rest_of_header(), rest);
    return bytes_of(icmp->data());
  }

  Ipv6Output output_;
  Ipv6Input input_;
  std::vector<uint8_t> reply_buf_;
};

TEST_F(Ipv6InputTest, EchoRequestGetsTheExactEchoReply) {
  const auto data = pattern(56, 9);
  const auto request = ip6_packet({.next_header = 58, .flow_label = 0x12345},
                                  icmp6_message(128, 0, 0x12340007, data));
  const Ipv6InputResult r = feed(request);
  ASSERT_EQ(r.action, InputAction::kReply);

  // Expected reply, written out (RFC 4443 §4.2): version 6, no traffic class or flow label,
  // payload 64, next header 58, hop limit 64, from the request's destination.
  std::vector<uint8_t> want = {0x60, 0, 0, 0, 0, 64, 58, 64};
  want.insert(want.end(), kLocal6.bytes.begin(), kLocal6.bytes.end());
  want.insert(want.end(), kPeer6.bytes.begin(), kPeer6.bytes.end());
  const auto icmp = icmp6_message(129, 0, 0x12340007, data, kLocal6, kPeer6);
  want.insert(want.end(), icmp.begin(), icmp.end());
  EXPECT_EQ(bytes_of(r.reply), want);
  EXPECT_EQ(r.reply.data(), reply_buf_.data());
  EXPECT_EQ(count(IpCounter::icmp6_echo_requests), 1u);
  EXPECT_EQ(count(IpCounter::icmp6_echo_replies_sent), 1u);
  EXPECT_EQ(count(IpCounter::out6_packets), 1u);
}

// `ping -6 fd77::2` as captured from Linux (tests/data/kernel6-echo-request.hex).
TEST_F(Ipv6InputTest, KernelEchoRequestIsAnswered) {
  const auto request = wire::load_hex("kernel6-echo-request");
  const Ipv6InputResult r = feed(request);
  ASSERT_EQ(r.action, InputAction::kReply);
  auto ip = wire::Ipv6Packet::parse(r.reply);
  ASSERT_TRUE(ip.ok());
  auto icmp = wire::Icmpv6Packet::parse(ip->payload(), kLocal6, kPeer6);
  ASSERT_TRUE(icmp.ok());
  EXPECT_EQ(icmp->type(), 129);
  // Identifier, sequence and data as sent (the request's bytes from offset 44).
  EXPECT_TRUE(std::equal(request.begin() + 44, request.end(), ip->payload().begin() + 4));
}

TEST_F(Ipv6InputTest, EchoToAllNodesIsAnsweredFromOurUnicastAddress) {
  const auto request = ip6_packet({.dst = kAllNodes6, .next_header = 58},
                                  icmp6_message(128, 0, 7, pattern(8), kPeer6, kAllNodes6));
  const Ipv6InputResult r = feed(request);
  ASSERT_EQ(r.action, InputAction::kReply);
  auto ip = wire::Ipv6Packet::parse(r.reply);
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->src(), kLocal6);  // RFC 4443 §4.2: a unicast address, not ff02::1
  EXPECT_EQ(ip->dst(), kPeer6);
  EXPECT_TRUE(wire::Icmpv6Packet::parse(ip->payload(), kLocal6, kPeer6).ok());
}

TEST_F(Ipv6InputTest, EchoReplyTooBigForTheReplyBufferIsCounted) {
  const auto request = ip6_packet({.next_header = 58}, icmp6_message(128, 0, 1, pattern(1400)));
  std::vector<uint8_t> small(1000);
  EXPECT_EQ(input_.input(request, instant_from_us(0), small).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::out6_no_room), 1u);
}

TEST_F(Ipv6InputTest, TcpIsDeliveredWithAddressesTrafficClassAndFlowLabel) {
  const auto segment = tcp_header(80, 40000, 1234, 0x12);
  const auto packet =
      ip6_packet({.hop_limit = 61, .traffic_class = 0xb9, .flow_label = 0xabcde}, segment);
  const Ipv6InputResult r = feed(packet);
  ASSERT_EQ(r.action, InputAction::kTcp);
  EXPECT_EQ(r.src, kPeer6);
  EXPECT_EQ(r.dst, kLocal6);
  EXPECT_EQ(r.traffic_class, 0xb9);
  EXPECT_EQ(r.ecn, 0b01);  // ECT(1)
  EXPECT_EQ(r.flow_label, 0xabcdeu);
  EXPECT_EQ(r.hop_limit, 61);
  EXPECT_EQ(bytes_of(r.payload), segment);
  EXPECT_EQ(r.payload.data(), packet.data() + 40);  // zero copy
  EXPECT_EQ(r.datagram.data(), packet.data());
  EXPECT_EQ(r.datagram.size(), packet.size());
  EXPECT_EQ(count(IpCounter::in6_delivered_tcp), 1u);
}

TEST_F(Ipv6InputTest, UdpIsDeliveredForTheUdpLayer) {
  const std::vector<uint8_t> udp = {0x13, 0x89, 0x13, 0x8a, 0, 12, 0, 0, 'p', 'i', 'n', 'g'};
  const auto packet = ip6_packet({.next_header = 17}, udp);
  const Ipv6InputResult r = feed(packet);
  ASSERT_EQ(r.action, InputAction::kUdp);
  EXPECT_EQ(bytes_of(r.payload), udp);
  EXPECT_EQ(bytes_of(r.datagram), packet);
  EXPECT_EQ(count(IpCounter::in6_delivered_udp), 1u);
}

TEST_F(Ipv6InputTest, LinkPaddingAfterThePacketIsNotPayload) {
  const auto segment = tcp_header(80, 40000, 1);
  auto packet = ip6_packet({}, segment);
  packet.insert(packet.end(), 6, 0xee);
  const Ipv6InputResult r = feed(packet);
  ASSERT_EQ(r.action, InputAction::kTcp);
  EXPECT_EQ(bytes_of(r.payload), segment);
}

TEST_F(Ipv6InputTest, EveryHeaderRejectionIsCountedByReason) {
  const auto good = ip6_packet({}, tcp_header(80, 40000, 1));
  // Shorter than the fixed header.
  EXPECT_EQ(feed(std::vector<uint8_t>(good.begin(), good.begin() + 39)).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::in6_truncated), 1u);
  // Version 4 in an IPv6 packet's place.
  auto bad_version = good;
  bad_version[0] = 0x40;
  EXPECT_EQ(feed(bad_version).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::in6_bad_version), 1u);
  // RFC 8200 §3: a payload length beyond the bytes received.
  auto long_claim = good;
  put16(long_claim, 4, 21);
  EXPECT_EQ(feed(long_claim).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::in6_bad_payload_length), 1u);
  // RFC 2675: payload length 0 with a Hop-by-Hop header (a jumbogram) is not supported.
  auto jumbo =
      ip6_packet({.next_header = 0}, concat({options_header(6, {0xc2, 4, 0, 1, 0, 0}), good}));
  put16(jumbo, 4, 0);
  EXPECT_EQ(feed(jumbo).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::in6_jumbogram), 1u);
  EXPECT_EQ(count(IpCounter::in6_packets), 4u);
  EXPECT_EQ(count(IpCounter::in6_delivered_tcp), 0u);
}

TEST_F(Ipv6InputTest, InvalidSourcesAreDropped) {
  // RFC 4291: multicast, unspecified (no DAD on a TUN) and loopback sources.
  const auto seg = tcp_header(80, 40000, 1);
  for (const auto& src : {kAllNodes6, wire::Ipv6Addr(), wire::Ipv6Addr(0, 0, 0, 0, 0, 0, 0, 1)}) {
    EXPECT_EQ(feed(ip6_packet({.src = src}, seg)).action, InputAction::kDrop);
  }
  EXPECT_EQ(count(IpCounter::in6_bad_source), 3u);
}

TEST_F(Ipv6InputTest, PacketsForOtherAddressesAndGroupsAreNotForUs) {
  const auto seg = tcp_header(80, 40000, 1);
  // Another unicast (RFC 8200 §4: a host does not forward), a group we are not in, and TCP
  // to all-nodes (RFC 9293 MUST-57: segments to a multicast address are discarded).
  EXPECT_EQ(feed(ip6_packet({.dst = kFar6}, seg)).action, InputAction::kDrop);
  EXPECT_EQ(feed(ip6_packet({.dst = wire::Ipv6Addr(0xff02, 0, 0, 0, 0, 0, 0, 0x16)}, seg)).action,
            InputAction::kDrop);
  EXPECT_EQ(feed(ip6_packet({.dst = kAllNodes6}, seg)).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::in6_not_for_us), 3u);
  EXPECT_EQ(count(IpCounter::icmp6_error_suppressed) + count(IpCounter::out6_packets), 0u);
}

TEST_F(Ipv6InputTest, HopByHopAndDestinationOptionsAreWalkedToTheUpperLayer) {
  const auto seg = tcp_header(80, 40000, 77);
  // Hop-by-Hop (PadN, an unknown skippable option type 0x1e), then Destination Options.
  const auto packet = ip6_packet(
      {.next_header = 0},
      concat({options_header(60, {0x1e, 2, 9, 9}), options_header(6, {0x3e, 1, 0}), seg}));
  const Ipv6InputResult r = feed(packet);
  ASSERT_EQ(r.action, InputAction::kTcp);
  EXPECT_EQ(bytes_of(r.payload), seg);
  EXPECT_EQ(r.payload.data(), packet.data() + 56);
}

TEST_F(Ipv6InputTest, UnknownOptionsFollowTheirActionBits) {
  const auto seg = tcp_header(80, 40000, 1);
  // RFC 8200 §4.2, action 01: discard silently.
  EXPECT_EQ(
      feed(ip6_packet({.next_header = 60}, concat({options_header(6, {0x5e, 0}), seg}))).action,
      InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::in6_ext_option_discard), 1u);
  // Action 10: discard and send Parameter Problem code 2 pointing at the option type.
  const auto p10 = ip6_packet({.next_header = 60}, concat({options_header(6, {0x9e, 0}), seg}));
  const auto quote = expect_error(feed(p10), 4, 2, 42);
  EXPECT_EQ(quote, p10);
  // Action 11 to a multicast destination: discard without an error (§4.2, RFC 4443 §2.4(e.3)).
  const auto p11 = ip6_packet(
      {.dst = kAllNodes6, .next_header = 60},
      concat({options_header(58, {0xde, 0}), icmp6_message(128, 0, 1, {}, kPeer6, kAllNodes6)}));
  EXPECT_EQ(feed(p11).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::in6_ext_option_discard), 2u);
  // Action 11 to unicast: Parameter Problem code 2.
  const auto p11u = ip6_packet({.next_header = 0}, concat({options_header(6, {0xde, 0}), seg}));
  expect_error(feed(p11u), 4, 2, 42);
  EXPECT_EQ(count(IpCounter::icmp6_param_problem_sent), 2u);
}

TEST_F(Ipv6InputTest, UnknownNextHeaderGetsParameterProblemPointingAtTheField) {
  // RFC 8200 §4 and RFC 4443 §3.4: code 1, the pointer at the Next Header field naming it.
  const auto direct = ip6_packet({.next_header = 253}, pattern(24));
  const auto quote = expect_error(feed(direct), 4, 1, 6);
  EXPECT_EQ(quote, direct);
  const auto after_dest =
      ip6_packet({.next_header = 60}, concat({options_header(253), pattern(24)}));
  expect_error(feed(after_dest), 4, 1, 40);
  EXPECT_EQ(count(IpCounter::in6_parameter_problem), 2u);
  EXPECT_EQ(count(IpCounter::icmp6_param_problem_sent), 2u);
}

TEST_F(Ipv6InputTest, HopByHopAfterTheFirstHeaderIsAnUnknownNextHeader) {
  // RFC 8200 §4.3: Hop-by-Hop only right after the IPv6 header.
  const auto packet =
      ip6_packet({.next_header = 60}, concat({options_header(0), options_header(6), pattern(20)}));
  expect_error(feed(packet), 4, 1, 40);
}

TEST_F(Ipv6InputTest, RoutingHeaderWithSegmentsLeftIsAParameterProblem) {
  const auto seg = tcp_header(80, 40000, 1);
  // RFC 8200 §4.4: type 4 (unknown here), Segments Left 1 -> code 0 at the Routing Type.
  std::vector<uint8_t> routing = {6, 0, 4, 1, 0, 0, 0, 0};
  expect_error(feed(ip6_packet({.next_header = 43}, concat({routing, seg}))), 4, 0, 42);
  // Segments Left 0: the header is ignored and the packet delivered.
  routing[3] = 0;
  EXPECT_EQ(feed(ip6_packet({.next_header = 43}, concat({routing, seg}))).action,
            InputAction::kTcp);
}

TEST_F(Ipv6InputTest, ExtensionHeaderRunningPastThePacketIsDropped) {
  auto packet = ip6_packet({.next_header = 60}, options_header(6, {1, 10}));
  packet[41] = 3;  // claims 32 bytes, has 8
  EXPECT_EQ(feed(packet).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::in6_ext_truncated), 1u);
}

TEST_F(Ipv6InputTest, NoNextHeaderIsCountedAndDropped) {
  EXPECT_EQ(feed(ip6_packet({.next_header = 59}, pattern(8))).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::in6_no_next_header), 1u);
  EXPECT_EQ(count(IpCounter::out6_packets), 0u);
}

TEST_F(Ipv6InputTest, IcmpWithBadChecksumIsDropped) {
  auto msg = icmp6_message(128, 0, 1, pattern(8));
  msg[2] ^= 1;
  EXPECT_EQ(feed(ip6_packet({.next_header = 58}, msg)).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::icmp6_bad_checksum), 1u);
  // The checksum covers the pseudo-header: the same message to another of our addresses
  // would not verify either (RFC 4443 §2.3).
  const auto to_all = icmp6_message(128, 0, 1, pattern(8));  // summed for kLocal6
  EXPECT_EQ(feed(ip6_packet({.dst = kAllNodes6, .next_header = 58}, to_all)).action,
            InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::icmp6_bad_checksum), 2u);
  EXPECT_EQ(count(IpCounter::icmp6_echo_requests), 0u);
}

TEST_F(Ipv6InputTest, NeighborDiscoveryAndMldAreCountedAndConsumed) {
  // A TUN is point-to-point: RS/RA/NS/NA/Redirect and MLD have nothing to do here.
  for (uint8_t type : {133, 134, 135, 136, 137}) {
    const auto m = icmp6_message(type, 0, 0, pattern(16), kPeer6, kAllNodes6);
    EXPECT_EQ(feed(ip6_packet({.dst = kAllNodes6, .next_header = 58, .hop_limit = 255}, m)).action,
              InputAction::kConsumed);
  }
  for (uint8_t type : {130, 131, 132, 143}) {
    const auto m = icmp6_message(type, 0, 0, pattern(16));
    EXPECT_EQ(feed(ip6_packet({.next_header = 58, .hop_limit = 1}, m)).action,
              InputAction::kConsumed);
  }
  // A Neighbor Solicitation to our solicited-node address (ff02::1:ff00:2) is taken too.
  const wire::Ipv6Addr solicited(0xff02, 0, 0, 0, 0, 1, 0xff00, 2);
  const auto ns = icmp6_message(135, 0, 0, pattern(16), kPeer6, solicited);
  EXPECT_EQ(feed(ip6_packet({.dst = solicited, .next_header = 58, .hop_limit = 255}, ns)).action,
            InputAction::kConsumed);
  EXPECT_EQ(count(IpCounter::icmp6_ndp_ignored), 6u);
  EXPECT_EQ(count(IpCounter::icmp6_mld_ignored), 4u);
  EXPECT_EQ(count(IpCounter::out6_packets), 0u);
}

TEST_F(Ipv6InputTest, EchoRepliesAndUnknownInformationalTypesAreConsumedQuietly) {
  for (uint8_t type : {129, 200, 255}) {
    const auto m = icmp6_message(type, 0, 0, pattern(8));
    EXPECT_EQ(feed(ip6_packet({.next_header = 58}, m)).action, InputAction::kConsumed);
  }
  EXPECT_EQ(count(IpCounter::icmp6_other_ignored), 3u);
  EXPECT_EQ(count(IpCounter::out6_packets), 0u);
}

// An ICMPv6 error from a router about a TCP segment we sent to kFar6.
std::vector<uint8_t> error_about_our_segment(uint8_t type, uint8_t code, uint32_t rest,
                                             uint32_t seq = 5555,
                                             const wire::Ipv6Addr& from_us = kLocal6,
                                             uint8_t proto = 6) {
  const auto sent = ip6_packet({.src = from_us, .dst = kFar6, .next_header = proto},
                               tcp_header(40000, 5001, seq));
  return ip6_packet({.src = kRouter6, .next_header = 58},
                    icmp6_message(type, code, rest, sent, kRouter6, kLocal6));
}

TEST_F(Ipv6InputTest, PacketTooBigIsAPathMtuErrorWithTheQuotedSegment) {
  const Ipv6InputResult r = feed(error_about_our_segment(2, 0, 1400, 0x01020304));
  ASSERT_EQ(r.action, InputAction::kIcmpError);
  const IcmpError& e = *r.icmp_error;
  EXPECT_EQ(e.kind, IcmpErrorKind::kPathMtu);
  EXPECT_EQ(e.type, 2);
  EXPECT_EQ(e.next_hop_mtu, 1400);
  EXPECT_TRUE(e.is_v6());
  EXPECT_EQ(e.reporter, IpAddr(kRouter6));
  EXPECT_EQ(e.local_addr, IpAddr(kLocal6));
  EXPECT_EQ(e.remote_addr, IpAddr(kFar6));
  EXPECT_EQ(e.local_port, 40000);
  EXPECT_EQ(e.remote_port, 5001);
  EXPECT_EQ(e.seq, wire::SeqNum(0x01020304));
  EXPECT_EQ(count(IpCounter::icmp6_errors_in), 1u);
}

TEST_F(Ipv6InputTest, PacketTooBigBelowTheMinimumMtuMeans1280) {
  // RFC 8201 §4: an MTU below 1280 is not taken as such; the path MTU becomes 1280.
  for (uint32_t mtu : {0u, 68u, 1279u}) {
    const Ipv6InputResult r = feed(error_about_our_segment(2, 0, mtu));
    ASSERT_EQ(r.action, InputAction::kIcmpError);
    EXPECT_EQ(r.icmp_error->next_hop_mtu, 1280) << mtu;
  }
  // Above 65535 (a jumbogram link) the MTU is capped.
  EXPECT_EQ(feed(error_about_our_segment(2, 0, 100000)).icmp_error->next_hop_mtu, 65535);
}

// The kernel's Packet Too Big, captured on a router in front of a 1280-byte link
// (tests/data/kernel6-packet-too-big.hex).
TEST(Ipv6InputKernel, KernelPacketTooBigReachesTheStack) {
  const auto ptb = wire::load_hex("kernel6-packet-too-big");
  Ipv6Output out;
  Ipv6Input in({.local_addresses = {kLocal6}}, out);
  std::vector<uint8_t> buf(1500);
  const Ipv6InputResult r = in.input(ptb, instant_from_us(0), buf);
  ASSERT_EQ(r.action, InputAction::kIcmpError);
  EXPECT_EQ(r.icmp_error->kind, IcmpErrorKind::kPathMtu);
  EXPECT_EQ(r.icmp_error->next_hop_mtu, 1280);
  EXPECT_EQ(r.icmp_error->local_addr, IpAddr(kLocal6));
  EXPECT_EQ(r.icmp_error->remote_addr, IpAddr(kFar6));
  EXPECT_EQ(r.icmp_error->local_port, 40000);
  EXPECT_EQ(r.icmp_error->remote_port, 5001);
}

TEST_F(Ipv6InputTest, IcmpErrorsAreClassifiedHardOrSoftAsLinuxDoes) {
  struct Case {
    uint8_t type, code;
    IcmpErrorKind kind;
  };
  const Case cases[] = {
      {1, 0, IcmpErrorKind::kSoft},    // no route
      {1, 1, IcmpErrorKind::kHard},    // administratively prohibited
      {1, 2, IcmpErrorKind::kSoft},    // beyond scope
      {1, 3, IcmpErrorKind::kSoft},    // address unreachable
      {1, 4, IcmpErrorKind::kHard},    // port unreachable
      {1, 5, IcmpErrorKind::kHard},    // source address failed policy
      {1, 6, IcmpErrorKind::kHard},    // reject route
      {1, 9, IcmpErrorKind::kSoft},    // unassigned: not a reason to abort
      {3, 0, IcmpErrorKind::kSoft},    // hop limit exceeded
      {3, 1, IcmpErrorKind::kSoft},    // reassembly time exceeded
      {4, 0, IcmpErrorKind::kHard},    // parameter problem
      {100, 0, IcmpErrorKind::kSoft},  // unknown error type (RFC 4443 §2.4(b))
  };
  for (const Case& c : cases) {
    const Ipv6InputResult r = feed(error_about_our_segment(c.type, c.code, 0));
    ASSERT_EQ(r.action, InputAction::kIcmpError) << int(c.type) << "/" << int(c.code);
    EXPECT_EQ(r.icmp_error->kind, c.kind) << int(c.type) << "/" << int(c.code);
    EXPECT_EQ(r.icmp_error->next_hop_mtu, 0);
    EXPECT_EQ(r.icmp_error->type, c.type);
    EXPECT_EQ(r.icmp_error->code, c.code);
  }
}

TEST_F(Ipv6InputTest, QuoteBehindExtensionHeadersIsDecoded) {
  const auto sent = ip6_packet({.src = kLocal6, .dst = kFar6, .next_header = 60},
                               concat({options_header(6), tcp_header(40001, 80, 99)}));
  const auto msg = ip6_packet({.src = kRouter6, .next_header = 58},
                              icmp6_message(1, 4, 0, sent, kRouter6, kLocal6));
  const Ipv6InputResult r = feed(msg);
  ASSERT_EQ(r.action, InputAction::kIcmpError);
  EXPECT_EQ(r.icmp_error->local_port, 40001);
  EXPECT_EQ(r.icmp_error->seq, wire::SeqNum(99));
}

TEST_F(Ipv6InputTest, UnusableIcmpErrorsAreDroppedByReason) {
  // Quoting a packet we did not send (RFC 5927 §4.1), an SCTP packet, and a cut quote.
  EXPECT_EQ(feed(error_about_our_segment(1, 4, 0, 1, kFar6)).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::icmp6_errors_bad_quote), 1u);
  EXPECT_EQ(feed(error_about_our_segment(1, 4, 0, 1, kLocal6, 132)).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::icmp6_errors_not_tcp), 1u);
  const auto sent = ip6_packet({.src = kLocal6, .dst = kFar6}, tcp_header(40000, 5001, 1));
  const auto cut = std::vector<uint8_t>(sent.begin(), sent.begin() + 44);  // 4 TCP bytes
  EXPECT_EQ(feed(ip6_packet({.src = kRouter6, .next_header = 58},
                            icmp6_message(1, 4, 0, cut, kRouter6, kLocal6)))
                .action,
            InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::icmp6_errors_bad_quote), 2u);
  EXPECT_EQ(count(IpCounter::icmp6_errors_in), 3u);
}

TEST_F(Ipv6InputTest, ErrorQuoteIsCappedToFitTheMinimumMtu) {
  // RFC 4443 §2.4(c): the whole error is at most 1280 bytes.
  const auto big = ip6_packet({.next_header = 253}, pattern(1400));
  const Ipv6InputResult r = feed(big);
  ASSERT_EQ(r.action, InputAction::kReply);
  EXPECT_EQ(r.reply.size(), 1280u);
  const auto quote = expect_error(r, 4, 1, 6);
  EXPECT_EQ(quote, std::vector<uint8_t>(big.begin(), big.begin() + 1232));
}

TEST_F(Ipv6InputTest, NoErrorAboutMulticastDestinations) {
  // RFC 4443 §2.4(e.3): an unknown next header to all-nodes is dropped without an answer.
  EXPECT_EQ(feed(ip6_packet({.dst = kAllNodes6, .next_header = 253}, pattern(8))).action,
            InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::icmp6_error_suppressed), 1u);
  EXPECT_EQ(count(IpCounter::out6_packets), 0u);
}

TEST_F(Ipv6InputTest, MakeErrorBuildsPortUnreachableForTheUdpLayer) {
  const std::vector<uint8_t> udp = {0x13, 0x89, 0x13, 0x8a, 0, 8, 0, 0};
  const auto packet = ip6_packet({.next_header = 17}, udp);
  const Ipv6InputResult r = feed(packet);
  ASSERT_EQ(r.action, InputAction::kUdp);
  std::vector<uint8_t> buf(1500);
  const auto reply = input_.make_error(r.datagram, 1, 4, 0, instant_from_us(0), buf);
  ASSERT_FALSE(reply.empty());
  Ipv6InputResult as_reply{.action = InputAction::kReply, .reply = reply};
  EXPECT_EQ(expect_error(as_reply, 1, 4, 0), packet);
  EXPECT_EQ(count(IpCounter::icmp6_unreachable_sent), 1u);
  // Not about a datagram to a multicast group (§2.4(e.3)), nor about an ICMPv6 error (e.1).
  const auto to_group = ip6_packet({.dst = kAllNodes6, .next_header = 17}, udp);
  EXPECT_TRUE(input_.make_error(to_group, 1, 4, 0, instant_from_us(0), buf).empty());
  const auto an_error = ip6_packet({.next_header = 58}, icmp6_message(1, 4, 0, pattern(48)));
  EXPECT_TRUE(input_.make_error(an_error, 1, 4, 0, instant_from_us(0), buf).empty());
  EXPECT_EQ(count(IpCounter::icmp6_error_suppressed), 2u);
}

class Ipv6InputRateLimitTest : public Ipv6InputTest {
 protected:
  Ipv6InputRateLimitTest()
      : Ipv6InputTest(
            {.local_addresses = {kLocal6}, .icmp_errors_per_second = 1, .icmp_error_burst = 2}) {}
};

TEST_F(Ipv6InputRateLimitTest, ErrorsAreRateLimited) {
  // RFC 4443 §2.4(f): a token bucket, here 1/s with a burst of 2.
  const auto packet = ip6_packet({.next_header = 253}, pattern(8));
  EXPECT_EQ(feed(packet, 0).action, InputAction::kReply);
  EXPECT_EQ(feed(packet, 1).action, InputAction::kReply);
  EXPECT_EQ(feed(packet, 2).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::icmp6_error_rate_limited), 1u);
  EXPECT_EQ(feed(packet, 1'000'001).action, InputAction::kReply);
  // Echo replies are not errors and are not limited.
  const auto echo = ip6_packet({.next_header = 58}, icmp6_message(128, 0, 1, {}));
  EXPECT_EQ(feed(echo, 1'000'002).action, InputAction::kReply);
}

TEST(Ipv6InputMultiAddress, AcceptsEveryLocalAddress) {
  const wire::Ipv6Addr second(0xfd77, 1, 0, 0, 0, 0, 0, 2);
  Ipv6Output out;
  Ipv6Input in({.local_addresses = {kLocal6, second}}, out);
  std::vector<uint8_t> buf(1500);
  const auto seg = tcp_header(1, 2, 3);
  EXPECT_EQ(in.input(ip6_packet({.dst = second}, seg), instant_from_us(0), buf).action,
            InputAction::kTcp);
  EXPECT_EQ(in.input(ip6_packet({.dst = kLocal6}, seg), instant_from_us(0), buf).action,
            InputAction::kTcp);
  // An error about a packet sent to the second address comes from it (RFC 4443 §2.2).
  const auto r = in.input(ip6_packet({.dst = second, .next_header = 253}, pattern(8)),
                          instant_from_us(0), buf);
  ASSERT_EQ(r.action, InputAction::kReply);
  EXPECT_EQ(wire::Ipv6Packet::parse(r.reply)->src(), second);
}

TEST(Ipv6InputCounters, SumWithIpv4IntoOneList) {
  IpCounters a, b;
  a.inc(IpCounter::in_packets, 2);
  b.inc(IpCounter::in6_packets, 3);
  a += b;
  EXPECT_EQ(a.get(IpCounter::in_packets), 2u);
  EXPECT_EQ(a.get(IpCounter::in6_packets), 3u);
  EXPECT_EQ(IpCounters::name(IpCounter::in6_not_for_us), "ip6.drop.not-for-us");
}

}  // namespace
}  // namespace utcp::ip
