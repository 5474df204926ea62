// SPDX-License-Identifier: BSD-2-Clause
// Forwarding of UDP (issue 13): stack B with forward_udp makes a flow per 4-tuple for
// datagrams to 198.18.0.0/15 and 2001:db8::/32; its replies leave from the original
// destination (A's connected socket, which only hears its peer, receives them); flows are
// bounded and closed when idle. Virtual clock, fixed secrets (SimNetConfig).
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "support/forward_sim.hpp"

namespace utcp::test {
namespace {

// A sends `msg` to `dst` from a connected socket; B's flow gets it, answers, A reads it.
void round_trip(IpAddr dst) {
  SimNet net(forwarding_sim_config(true));
  std::error_code ec;
  const Endpoint to{dst, 5353};
  const SocketId a = net.a().udp_connect(to, ec);
  ASSERT_FALSE(ec) << ec.message();
  net.a().send_to(a, bytes("question"), nullptr, ec);
  ASSERT_FALSE(ec);
  net.advance(std::chrono::milliseconds(1));
  auto flow = net.b().next_udp_flow();
  ASSERT_TRUE(flow.has_value()) << "no flow for " << dst.to_string();
  EXPECT_EQ(flow->local, to);
  EXPECT_EQ(flow->remote, net.a().udp_local_endpoint(a));
  EXPECT_TRUE(net.b().readiness(flow->socket) & ready::kReadable);
  uint8_t buf[64];
  DatagramInfo info;
  size_t n = net.b().recv_from(flow->socket, buf, ec, nullptr, &info);
  ASSERT_FALSE(ec);
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), bytes("question"));
  EXPECT_EQ(info.dst, to);
  // A second datagram of the same 4-tuple goes to the same flow.
  net.a().send_to(a, bytes("again"), nullptr, ec);
  net.advance(std::chrono::milliseconds(1));
  EXPECT_FALSE(net.b().next_udp_flow().has_value());
  n = net.b().recv_from(flow->socket, buf, ec);
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), bytes("again"));
  // The reply leaves from the original destination: A's connected socket accepts only that.
  net.b().send_to(flow->socket, bytes("answer"), nullptr, ec);
  ASSERT_FALSE(ec);
  net.advance(std::chrono::milliseconds(1));
  Endpoint from;
  n = net.a().recv_from(a, buf, ec, &from);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), bytes("answer"));
  EXPECT_EQ(from, to);
  EXPECT_EQ(counter(net.b(), "fwd.udp.flows"), 1u);
}

TEST(ForwardingUdp, Ipv4FlowRoundTripFromTheOriginalDestination) {
  round_trip(*IpAddr::parse("198.18.200.1"));
}

TEST(ForwardingUdp, Ipv6FlowRoundTripFromTheOriginalDestination) {
  round_trip(*IpAddr::parse("2001:db8:5::53"));
}

TEST(ForwardingUdp, FlowLimitAndIdleTimeout) {
  SimNetConfig cfg = forwarding_sim_config(true);
  cfg.b.max_udp_flows = 2;
  cfg.b.udp_flow_idle_timeout = std::chrono::seconds(30);
  SimNet net(cfg);
  std::vector<SocketId> hangups;
  net.b().set_readiness_callback([&](SocketId s, uint32_t r) {
    if (r & ready::kHangup) hangups.push_back(s);
  });
  std::error_code ec;
  // Three peers (ports) to one destination: two flows, the third datagram dropped.
  for (int i = 0; i < 3; ++i) {
    const SocketId a = net.a().udp_bind(Endpoint{IpAddr(), static_cast<uint16_t>(7000 + i)}, ec);
    ASSERT_FALSE(ec);
    const Endpoint to{*IpAddr::parse("198.18.0.53"), 53};
    net.a().send_to(a, bytes("q"), &to, ec);
    ASSERT_FALSE(ec);
  }
  net.advance(std::chrono::milliseconds(1));
  auto f1 = net.b().next_udp_flow();
  auto f2 = net.b().next_udp_flow();
  ASSERT_TRUE(f1 && f2);
  EXPECT_NE(f1->remote, f2->remote);
  EXPECT_FALSE(net.b().next_udp_flow().has_value());
  EXPECT_EQ(counter(net.b(), "fwd.udp.drop.flow-limit"), 1u);
  // f1 stays in use (a reply every 10 s); f2 goes idle and is closed after 30 s.
  for (int i = 0; i < 4; ++i) {
    net.b().send_to(f1->socket, bytes("keep"), nullptr, ec);
    ASSERT_FALSE(ec);
    net.advance(std::chrono::seconds(10));
  }
  EXPECT_EQ(counter(net.b(), "fwd.udp.flow-expired"), 1u);
  EXPECT_EQ(hangups, std::vector<SocketId>{f2->socket});
  uint8_t buf[8];
  net.b().recv_from(f2->socket, buf, ec);
  EXPECT_EQ(ec, std::errc::bad_file_descriptor);
  net.b().recv_from(f1->socket, buf, ec);
  EXPECT_FALSE(ec) << "f1's datagram is still there: " << ec.message();
}

TEST(ForwardingUdp, OffByDefault) {
  SimNetConfig cfg = forwarding_sim_config(true);
  cfg.b.forward_udp = false;
  SimNet net(cfg);
  std::error_code ec;
  const SocketId a = net.a().udp_connect(Endpoint{*IpAddr::parse("198.18.0.1"), 53}, ec);
  net.a().send_to(a, bytes("q"), nullptr, ec);
  net.advance(std::chrono::milliseconds(1));
  EXPECT_FALSE(net.b().next_udp_flow().has_value());
  EXPECT_EQ(counter(net.b(), "ip.drop.not-for-us"), 1u);
}

}  // namespace
}  // namespace utcp::test
