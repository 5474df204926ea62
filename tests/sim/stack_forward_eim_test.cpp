// SPDX-License-Identifier: BSD-2-Clause
// Endpoint-independent mapping of forwarded UDP (RFC 4787 §4.1 REQ-1, issue 13): with
// StackConfig::udp_endpoint_independent, stack B makes one flow per client endpoint of A
// whatever the destinations; recv_from() tells each datagram's original destination,
// send_from() answers from any of them (A sees each reply come from the address it wrote to),
// and an ICMP port unreachable A sends about such a reply is the flow's next error. Both
// families. Virtual clock, fixed secrets (SimNetConfig).
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "support/forward_sim.hpp"

namespace utcp::test {
namespace {

std::string text(const uint8_t* p, size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

// dst1, dst2: two forwarded destinations; other: a forwarded address of the other family;
// wildcard: A's bind address of the family.
void one_flow_per_client_endpoint(IpAddr dst1, IpAddr dst2, IpAddr other, IpAddr wildcard) {
  SimNet net(forwarding_sim_config(true, true));
  std::error_code ec;
  const SocketId a = net.a().udp_bind(Endpoint{wildcard, 7000}, ec);
  ASSERT_FALSE(ec) << ec.message();
  const Endpoint to1{dst1, 53}, to2{dst2, 5353};
  net.a().send_to(a, bytes("one"), &to1, ec);
  ASSERT_FALSE(ec);
  net.a().send_to(a, bytes("two"), &to2, ec);
  ASSERT_FALSE(ec);
  net.advance(std::chrono::milliseconds(1));

  // One flow for both destinations; its local endpoint is the first one.
  auto flow = net.b().next_udp_flow();
  ASSERT_TRUE(flow.has_value());
  EXPECT_FALSE(net.b().next_udp_flow().has_value());
  EXPECT_EQ(flow->local, to1);
  EXPECT_EQ(flow->remote.port, 7000);
  EXPECT_EQ(counter(net.b(), "fwd.udp.flows"), 1u);
  uint8_t buf[64];
  DatagramInfo info;
  size_t n = net.b().recv_from(flow->socket, buf, ec, nullptr, &info);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(text(buf, n), "one");
  EXPECT_EQ(info.dst, to1);
  EXPECT_EQ(info.src, flow->remote);
  n = net.b().recv_from(flow->socket, buf, ec, nullptr, &info);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(text(buf, n), "two");
  EXPECT_EQ(info.dst, to2);

  // Replies from each original destination; send_to() without an address uses the first.
  EXPECT_EQ(net.b().send_from(flow->socket, bytes("re-two"), to2, ec), 6u);
  ASSERT_FALSE(ec) << ec.message();
  net.b().send_to(flow->socket, bytes("re-one"), nullptr, ec);
  ASSERT_FALSE(ec) << ec.message();
  net.advance(std::chrono::milliseconds(1));
  Endpoint from;
  n = net.a().recv_from(a, buf, ec, &from);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(text(buf, n), "re-two");
  EXPECT_EQ(from, to2);
  n = net.a().recv_from(a, buf, ec, &from);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(text(buf, n), "re-one");
  EXPECT_EQ(from, to1);

  // send_from() speaks only for forwarded addresses of the flow's family, only on flows.
  const Endpoint own{net.b().config().address, 53};
  const Endpoint outside{
      dst1.is_v4() ? *IpAddr::parse("198.20.0.1") : *IpAddr::parse("2001:db9::1"), 53};
  for (const Endpoint& bad : {own, outside, Endpoint{other, 53}, Endpoint{dst2, 0}}) {
    EXPECT_EQ(net.b().send_from(flow->socket, bytes("x"), bad, ec), 0u);
    EXPECT_EQ(ec, std::errc::address_not_available) << bad.addr.to_string();
  }
  const SocketId plain = net.b().udp_bind(Endpoint{IpAddr(), 9999}, ec);
  ASSERT_FALSE(ec);
  net.b().send_from(plain, bytes("x"), to1, ec);
  EXPECT_EQ(ec, std::errc::invalid_argument);

  // Another client port is another flow.
  const SocketId a2 = net.a().udp_bind(Endpoint{wildcard, 7001}, ec);
  ASSERT_FALSE(ec);
  net.a().send_to(a2, bytes("three"), &to1, ec);
  net.advance(std::chrono::milliseconds(1));
  auto flow2 = net.b().next_udp_flow();
  ASSERT_TRUE(flow2.has_value());
  EXPECT_EQ(flow2->remote.port, 7001);
  EXPECT_EQ(counter(net.b(), "fwd.udp.flows"), 2u);

  // RFC 1122 §4.1.3.3: A's port 7000 closes; its port unreachable about a reply from dst2
  // (addressed to dst2, a forwarded address) becomes the flow's error.
  net.a().close(a);
  net.b().send_from(flow->socket, bytes("late"), to2, ec);
  ASSERT_FALSE(ec);
  net.advance(std::chrono::milliseconds(1));
  EXPECT_TRUE(net.b().readiness(flow->socket) & ready::kError);
  net.b().recv_from(flow->socket, buf, ec);
  EXPECT_EQ(ec, std::errc::connection_refused);
  EXPECT_FALSE(net.b().readiness(flow2->socket) & ready::kError);
  EXPECT_EQ(counter(net.b(), "udp.icmp.error-reported"), 1u);
}

TEST(ForwardingUdpIndependent, Ipv4OneFlowPerClientEndpoint) {
  one_flow_per_client_endpoint(*IpAddr::parse("198.18.0.53"), *IpAddr::parse("198.19.7.7"),
                               *IpAddr::parse("2001:db8::53"), IpAddr());
}

TEST(ForwardingUdpIndependent, Ipv6OneFlowPerClientEndpoint) {
  one_flow_per_client_endpoint(*IpAddr::parse("2001:db8::53"), *IpAddr::parse("2001:db8:7::7"),
                               *IpAddr::parse("198.18.0.53"), IpAddr(Ipv6Addr()));
}

TEST(ForwardingUdpIndependent, FlowLimitAndIdleTimeoutFreeTheClientEndpoint) {
  SimNetConfig cfg = forwarding_sim_config(true, true);
  cfg.b.max_udp_flows = 1;
  cfg.b.udp_flow_idle_timeout = std::chrono::seconds(30);
  SimNet net(cfg);
  std::error_code ec;
  const Endpoint to{*IpAddr::parse("198.18.0.53"), 53};
  const SocketId a1 = net.a().udp_bind(Endpoint{IpAddr(), 7000}, ec);
  const SocketId a2 = net.a().udp_bind(Endpoint{IpAddr(), 7001}, ec);
  net.a().send_to(a1, bytes("q"), &to, ec);
  net.a().send_to(a2, bytes("q"), &to, ec);
  net.advance(std::chrono::milliseconds(1));
  auto flow = net.b().next_udp_flow();
  ASSERT_TRUE(flow.has_value());
  EXPECT_FALSE(net.b().next_udp_flow().has_value());
  EXPECT_EQ(counter(net.b(), "fwd.udp.drop.flow-limit"), 1u);
  // Idle past the timeout: closed, and the same client endpoint makes a new flow.
  net.advance(std::chrono::seconds(31));
  EXPECT_EQ(counter(net.b(), "fwd.udp.flow-expired"), 1u);
  net.a().send_to(a1, bytes("again"), &to, ec);
  net.advance(std::chrono::milliseconds(1));
  auto again = net.b().next_udp_flow();
  ASSERT_TRUE(again.has_value());
  uint8_t buf[16];
  const size_t n = net.b().recv_from(again->socket, buf, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(text(buf, n), "again");
  EXPECT_EQ(counter(net.b(), "fwd.udp.flows"), 2u);
}

}  // namespace
}  // namespace utcp::test
