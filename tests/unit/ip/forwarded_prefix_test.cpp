// SPDX-License-Identifier: BSD-2-Clause
// Forwarded prefixes in the IP inputs (issue 13): TCP to an address in them is delivered as
// if local; ICMP echo to them is answered from the forwarded address only when
// forwarded_echo is on; other ICMP, UDP and addresses outside the prefixes stay not for us.
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
  // Any other ICMP to a forwarded address is still not for us (no error to decode).
  const auto unreachable = icmp_message(3, 3, 0, pattern(28));
  EXPECT_EQ(s.feed(ip_packet({.dst = kFwd, .protocol = 1}, unreachable)).action,
            InputAction::kDrop);
  EXPECT_EQ(s.in.counters().get(IpCounter::in_not_for_us), 1u);
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
    const auto unreachable =
        icmp6_message(wire::icmpv6_type::kDestUnreachable, 4, 0, pattern(48), kPeer6, kFwd6);
    EXPECT_EQ(s.feed(ip6_packet({.dst = kFwd6, .next_header = 58}, unreachable)).action,
              InputAction::kDrop);
    EXPECT_EQ(s.in.counters().get(IpCounter::in6_not_for_us), 1u);
  }
}

}  // namespace
}  // namespace utcp::ip
