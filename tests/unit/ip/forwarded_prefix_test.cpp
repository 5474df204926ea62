// SPDX-License-Identifier: BSD-2-Clause
// Forwarded prefixes in the IP inputs (issue 13): TCP to an address in them is delivered as
// if local; ICMP echo to them is answered from the forwarded address only when
// forwarded_echo is on; ICMP errors to them are decoded and passed up only when they quote a
// datagram sent from that forwarded address (RFC 5927 §4.1); other ICMP, UDP and addresses
// outside the prefixes stay not for us.
#include <gtest/gtest.h>

#include <vector>

#include "ip/ipv4_input.hpp"
#include "ip/ipv6_input.hpp"
#include "unit/ip/ip6_test_packets.hpp"
#include "unit/ip/ip_test_packets.hpp"
#include "wire/icmp.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv4.hpp"

namespace utcp::ip {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace)

const wire::Ipv4Addr kFwd(198, 18, 3, 4);
const wire::Ipv6Addr kFwd6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x99);

struct V4 {
  explicit V4(bool echo)
      : out(1),
        in({.local_addresses = {kLocal},
            .forwarded = {*IpPrefix::parse("198.18.0.0/15")},
            .forwarded_echo = echo},
           out),
        buf(1500) {}
  InputResult feed(const std::vector<uint8_t>& p) { return in.input(p, Instant{}, buf); }
  Ipv4Output out;
  Ipv4Input in;
  std::vector<uint8_t> buf;
};

struct V6 {
  explicit V6(bool echo)
      : in({.local_addresses = {kLocal6},
            .forwarded = {*IpPrefix::parse("2001:db8::/32")},
            .forwarded_echo = echo},
           out),
        buf(1500) {}
  Ipv6InputResult feed(const std::vector<uint8_t>& p) { return in.input(p, Instant{}, buf); }
  Ipv6Output out;
  Ipv6Input in;
  std::vector<uint8_t> buf;
};

TEST(ForwardedPrefix, Ipv4TcpIsDeliveredOtherProtocolsAreNotForUs) {
  V4 s(false);
  const auto tcp = tcp_header(40000, 80, 1);
  InputResult r = s.feed(ip_packet({.dst = kFwd, .protocol = 6}, tcp));
  EXPECT_EQ(r.action, InputAction::kTcp);
  EXPECT_EQ(r.dst, kFwd);
  EXPECT_EQ(r.datagram.size(), 20 + tcp.size());
  const auto echo = icmp_message(8, 0, 0x00010001, pattern(8));
  EXPECT_EQ(s.feed(ip_packet({.dst = kFwd, .protocol = 1}, echo)).action, InputAction::kDrop);
  EXPECT_EQ(s.feed(ip_packet({.dst = kFwd, .protocol = 17}, pattern(16))).action,
            InputAction::kDrop);
  EXPECT_EQ(s.feed(ip_packet({.dst = wire::Ipv4Addr(198, 20, 0, 1), .protocol = 6}, tcp)).action,
            InputAction::kDrop);
  EXPECT_EQ(s.in.counters().get(IpCounter::in_not_for_us), 3u);
}

TEST(ForwardedPrefix, Ipv4EchoAnsweredFromTheForwardedAddressWhenAsked) {
  V4 s(true);
  const auto data = pattern(24, 3);
  InputResult r =
      s.feed(ip_packet({.dst = kFwd, .protocol = 1}, icmp_message(8, 0, 0x00070002, data)));
  ASSERT_EQ(r.action, InputAction::kReply);
  auto reply = wire::Ipv4Packet::parse(r.reply);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->src(), kFwd);
  EXPECT_EQ(reply->dst(), kPeer);
  EXPECT_EQ(reply->payload()[0], wire::icmp_type::kEchoReply);
  // An error with a quote that is no datagram of ours is a bad quote; other informational
  // ICMP (a timestamp request) to a forwarded address is not for us.
  const auto unreachable = icmp_message(3, 3, 0, pattern(28));
  EXPECT_EQ(s.feed(ip_packet({.dst = kFwd, .protocol = 1}, unreachable)).action,
            InputAction::kDrop);
  EXPECT_EQ(s.in.counters().get(IpCounter::icmp_errors_bad_quote), 1u);
  EXPECT_EQ(
      s.feed(ip_packet({.dst = kFwd, .protocol = 1}, icmp_message(13, 0, 0, pattern(12)))).action,
      InputAction::kDrop);
  EXPECT_EQ(s.in.counters().get(IpCounter::in_not_for_us), 1u);
}

// An error about a segment a forwarded connection sent (from kFwd to the client kPeer): sent
// to kFwd by the client's host, quoting it. RFC 5927 §4.1: it must quote kFwd as source.
std::vector<uint8_t> error_to_forwarded(uint8_t type, uint8_t code, uint32_t rest,
                                        wire::Ipv4Addr quoted_src, uint8_t protocol = 6) {
  const auto sent = ip_packet({.src = quoted_src, .dst = kPeer, .protocol = protocol, .df = true},
                              tcp_header(443, 40000, 777));
  return ip_packet({.src = kPeer, .dst = kFwd, .protocol = 1},
                   icmp_message(type, code, rest, sent));
}

TEST(ForwardedPrefix, Ipv4ErrorsAboutForwardedTrafficArePassedUp) {
  for (bool echo : {false, true}) {
    V4 s(echo);
    InputResult r = s.feed(error_to_forwarded(3, 4, 1200, kFwd));  // fragmentation needed
    ASSERT_EQ(r.action, InputAction::kIcmpError);
    ASSERT_TRUE(r.icmp_error.has_value());
    EXPECT_EQ(r.icmp_error->kind, IcmpErrorKind::kPathMtu);
    EXPECT_EQ(r.icmp_error->next_hop_mtu, 1200);
    EXPECT_EQ(r.icmp_error->local_addr, IpAddr(kFwd));
    EXPECT_EQ(r.icmp_error->local_port, 443);
    EXPECT_EQ(r.icmp_error->remote_addr, IpAddr(kPeer));
    EXPECT_EQ(r.icmp_error->remote_port, 40000);
    // Quoting another forwarded address, or our own, is no datagram sent from kFwd.
    EXPECT_EQ(s.feed(error_to_forwarded(3, 3, 0, wire::Ipv4Addr(198, 18, 3, 5))).action,
              InputAction::kDrop);
    EXPECT_EQ(s.feed(error_to_forwarded(3, 3, 0, kLocal)).action, InputAction::kDrop);
    EXPECT_EQ(s.in.counters().get(IpCounter::icmp_errors_bad_quote), 2u);
  }
}

TEST(ForwardedPrefix, Ipv6ErrorsAboutForwardedTrafficArePassedUp) {
  V6 s(false);
  auto error_quoting = [](const wire::Ipv6Addr& quoted_src) {
    const auto sent = ip6_packet({.src = quoted_src, .dst = kPeer6, .next_header = 6},
                                 tcp_header(443, 40000, 777));
    return ip6_packet(
        {.src = kPeer6, .dst = kFwd6, .next_header = 58},
        icmp6_message(wire::icmpv6_type::kPacketTooBig, 0, 1300, sent, kPeer6, kFwd6));
  };
  Ipv6InputResult r = s.feed(error_quoting(kFwd6));
  ASSERT_EQ(r.action, InputAction::kIcmpError);
  ASSERT_TRUE(r.icmp_error.has_value());
  EXPECT_EQ(r.icmp_error->kind, IcmpErrorKind::kPathMtu);
  EXPECT_EQ(r.icmp_error->next_hop_mtu, 1300);
  EXPECT_EQ(r.icmp_error->local_addr, IpAddr(kFwd6));
  EXPECT_EQ(r.icmp_error->remote_port, 40000);
  EXPECT_EQ(s.feed(error_quoting(kLocal6)).action, InputAction::kDrop);
  EXPECT_EQ(s.in.counters().get(IpCounter::icmp6_errors_bad_quote), 1u);
}

TEST(ForwardedPrefix, Ipv6TcpIsDeliveredEchoOnlyWhenAsked) {
  const auto tcp = tcp_header(40000, 80, 1);
  const auto echo =
      icmp6_message(wire::icmpv6_type::kEchoRequest, 0, 0x00010001, pattern(8), kPeer6, kFwd6);
  {
    V6 s(false);
    Ipv6InputResult r = s.feed(ip6_packet({.dst = kFwd6, .next_header = 6}, tcp));
    EXPECT_EQ(r.action, InputAction::kTcp);
    EXPECT_EQ(r.dst, kFwd6);
    EXPECT_EQ(s.feed(ip6_packet({.dst = kFwd6, .next_header = 58}, echo)).action,
              InputAction::kDrop);
    EXPECT_EQ(s.feed(ip6_packet({.dst = kFwd6, .next_header = 17}, pattern(16))).action,
              InputAction::kDrop);
    const wire::Ipv6Addr outside(0x2001, 0xdb9, 0, 0, 0, 0, 0, 1);
    EXPECT_EQ(s.feed(ip6_packet({.dst = outside, .next_header = 6}, tcp)).action,
              InputAction::kDrop);
    EXPECT_EQ(s.in.counters().get(IpCounter::in6_not_for_us), 3u);
  }
  {
    V6 s(true);
    Ipv6InputResult r = s.feed(ip6_packet({.dst = kFwd6, .next_header = 58}, echo));
    ASSERT_EQ(r.action, InputAction::kReply);
    auto reply = wire::Ipv6Packet::parse(r.reply);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->src(), kFwd6);
    EXPECT_EQ(reply->dst(), kPeer6);
    // An error quoting no packet of ours is a bad quote; informational ICMPv6 other than
    // echo (an echo reply) is not for us.
    const auto unreachable =
        icmp6_message(wire::icmpv6_type::kDestUnreachable, 4, 0, pattern(48), kPeer6, kFwd6);
    EXPECT_EQ(s.feed(ip6_packet({.dst = kFwd6, .next_header = 58}, unreachable)).action,
              InputAction::kDrop);
    EXPECT_EQ(s.in.counters().get(IpCounter::icmp6_errors_bad_quote), 1u);
    const auto echo_reply =
        icmp6_message(wire::icmpv6_type::kEchoReply, 0, 0x00010001, pattern(8), kPeer6, kFwd6);
    EXPECT_EQ(s.feed(ip6_packet({.dst = kFwd6, .next_header = 58}, echo_reply)).action,
              InputAction::kDrop);
    EXPECT_EQ(s.in.counters().get(IpCounter::in6_not_for_us), 1u);
  }
}

}  // namespace
}  // namespace utcp::ip
