// SPDX-License-Identifier: BSD-2-Clause
// TCP over IPv6 between two dual-stack Stacks on the in-memory link (issue 12): bulk transfer
// both ways byte-exact, clean and through the fault injector; a dual-stack listener taking one
// IPv4 and one IPv6 connection; IPv6-only and IPv4-only listeners; closed ports refused over
// IPv6; the MSS over IPv6 (MTU - 60). Virtual time, fixed seeds (printed).
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "support/both_ways_transfer.hpp"
#include "support/counters.hpp"
#include "support/sim_net.hpp"

namespace utcp::test {
namespace {

// A connected pair from A to B's `addr` (either family) on `port`, with a listener `options`.
SimPair connect_to(SimNet& net, IpAddr addr, uint16_t port, const ListenOptions& options = {}) {
  std::error_code ec;
  SimPair p;
  p.listener = net.b().listen(port, options, ec);
  EXPECT_FALSE(ec) << ec.message();
  p.client = net.a().connect(addr, port, ec);
  EXPECT_FALSE(ec) << ec.message();
  p.server = accept_connected(net, p.listener, p.client);
  return p;
}

void transfer_both_ways(SimNet& net, size_t bytes, uint64_t seed, Duration budget) {
  const IpAddr b6 = net.b().config().address6;
  SimPair p = connect_to(net, b6, 5000);
  ASSERT_NE(p.server, kNoSocket) << "IPv6 handshake did not complete";
  // Both ends see IPv6 endpoints.
  EXPECT_EQ(net.a().remote_endpoint(p.client).addr, b6);
  EXPECT_EQ(net.a().local_endpoint(p.client).addr, IpAddr(net.a().config().address6));
  EXPECT_EQ(net.b().remote_endpoint(p.server).addr, IpAddr(net.a().config().address6));
  EXPECT_EQ(net.b().local_endpoint(p.server).addr, b6);
  exchange_both_ways(net, p, bytes, seed, budget);
}

TEST(Ipv6Transfer, LosslessBothWaysByteExact) {
  SimNet net;
  transfer_both_ways(net, 4 << 20, 1, std::chrono::seconds(60));
  // Nothing went over IPv4, and the IPv6 input saw it all.
  EXPECT_GT(counter(net.b(), "ip6.in"), 1000u);
  EXPECT_EQ(counter(net.b(), "ip.in"), 0u);
}

class Ipv6TransferLossy : public ::testing::TestWithParam<uint64_t> {};

TEST_P(Ipv6TransferLossy, FaultyLinkBothWaysByteExact) {
  const uint64_t seed = GetParam();
  std::printf("fault seed %llu\n", static_cast<unsigned long long>(seed));
  const dev::FaultConfig faults{.drop = 0.05,
                                .duplicate = 0.02,
                                .corrupt = 0.01,
                                .reorder = 0.05,
                                .delay = std::chrono::milliseconds(5),
                                .jitter = std::chrono::milliseconds(2)};
  SimNet net(faulty_link(faults, seed, seed * 7919 + 1));
  transfer_both_ways(net, 1 << 20, seed, std::chrono::seconds(1200));
  EXPECT_GT(net.faults_a()->tx_counters().dropped, 0u);
  EXPECT_GT(net.faults_a()->tx_counters().corrupted, 0u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, Ipv6TransferLossy, ::testing::Values(1, 2, 3));

// RFC 9293 §3.7.1 with RFC 8200's 40-byte header: the MSS over IPv6 is the MTU less 60, and
// the same stack's IPv4 connection keeps MTU - 40.
TEST(Ipv6Transfer, MssIsMtuMinusSixtyOverIpv6) {
  SimNet net;
  SimPair v6 = connect_to(net, net.b().config().address6, 5001);
  ASSERT_NE(v6.server, kNoSocket);
  std::error_code ec;
  const SocketId c4 = net.a().connect(net.b().config().address, 5001, ec);
  ASSERT_FALSE(ec);
  const SocketId s4 = accept_connected(net, v6.listener, c4);
  ASSERT_NE(s4, kNoSocket);
  const size_t mtu = net.a().capabilities().mtu;
  // The peer's MSS option: MTU - 60 (v6), MTU - 40 (v4); the sending MSS less 12 for the
  // timestamp option both ends use (RFC 6691).
  EXPECT_EQ(net.a().tcp_info(v6.client)->rcv_mss, mtu - 60);
  EXPECT_EQ(net.a().tcp_info(c4)->rcv_mss, mtu - 40);
  EXPECT_EQ(net.a().tcp_info(v6.client)->snd_mss, mtu - 60 - 12);
  EXPECT_EQ(net.b().tcp_info(v6.server)->snd_mss, mtu - 60 - 12);
  EXPECT_EQ(net.a().tcp_info(c4)->snd_mss, mtu - 40 - 12);
}

// A listener takes both families by default (dual stack): one IPv4 and one IPv6 connection
// on the same port, each with its own family's endpoints, each carrying its own bytes.
TEST(DualStack, ListenerAcceptsOneIpv4AndOneIpv6Connection) {
  SimNet net;
  std::error_code ec;
  const SocketId l = net.b().listen(80, ec);
  ASSERT_FALSE(ec);
  const SocketId c4 = net.a().connect(net.b().config().address, 80, ec);
  ASSERT_FALSE(ec);
  const SocketId c6 = net.a().connect(net.b().config().address6, 80, ec);
  ASSERT_FALSE(ec);
  std::vector<SocketId> accepted;
  ASSERT_TRUE(net.run_until(
      [&] {
        Endpoint peer;
        const SocketId s = net.b().accept(l, ec, &peer);
        if (s != kNoSocket) accepted.push_back(s);
        return accepted.size() == 2 && (net.a().readiness(c4) & ready::kConnected) &&
               (net.a().readiness(c6) & ready::kConnected);
      },
      std::chrono::seconds(10)));
  const std::string four = "over IPv4", six = "over IPv6";
  net.a().send(c4, std::span(reinterpret_cast<const uint8_t*>(four.data()), four.size()), ec);
  net.a().send(c6, std::span(reinterpret_cast<const uint8_t*>(six.data()), six.size()), ec);
  net.advance(std::chrono::milliseconds(10));
  int seen4 = 0, seen6 = 0;
  for (SocketId s : accepted) {
    const Endpoint peer = net.b().remote_endpoint(s);
    uint8_t buf[64];
    const size_t n = net.b().recv(s, buf, ec);
    const std::string got(reinterpret_cast<const char*>(buf), n);
    if (peer.addr.is_v4()) {
      ++seen4;
      EXPECT_EQ(peer.addr, IpAddr(net.a().config().address));
      EXPECT_EQ(net.b().local_endpoint(s).addr, IpAddr(net.b().config().address));
      EXPECT_EQ(got, four);
    } else {
      ++seen6;
      EXPECT_EQ(peer.addr, IpAddr(net.a().config().address6));
      EXPECT_EQ(net.b().local_endpoint(s).addr, IpAddr(net.b().config().address6));
      EXPECT_EQ(got, six);
    }
  }
  EXPECT_EQ(seen4, 1);
  EXPECT_EQ(seen6, 1);
}

bool refused(SimNet& net, IpAddr addr, uint16_t port) {
  std::error_code ec;
  const SocketId c = net.a().connect(addr, port, ec);
  if (ec) return false;
  const bool failed = net.run_until([&] { return (net.a().readiness(c) & ready::kError) != 0; },
                                    std::chrono::seconds(10));
  const bool is_refused =
      failed && net.a().error(c) == std::make_error_code(std::errc::connection_refused);
  net.a().close(c);
  return is_refused;
}

// IPV6_V6ONLY: an IPv4 SYN to the port is answered with a RST (nothing listens for IPv4),
// while IPv6 connections are accepted.
TEST(DualStack, V6OnlyListenerRefusesIpv4WithRst) {
  SimNet net;
  std::error_code ec;
  ListenOptions v6only;
  v6only.v6only = true;
  const SocketId l = net.b().listen(81, v6only, ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(net.b().local_endpoint(l).addr, IpAddr(net.b().config().address6));
  EXPECT_TRUE(refused(net, net.b().config().address, 81));
  const SocketId c6 = net.a().connect(net.b().config().address6, 81, ec);
  ASSERT_FALSE(ec);
  EXPECT_NE(accept_connected(net, l, c6, std::chrono::seconds(10)), kNoSocket);
}

// An IPv4-only and an IPv6-only listener share a port (an AF_INET and an IPV6_V6ONLY socket
// in Linux); a dual-stack one then finds the port taken, and so does a second of one family.
TEST(DualStack, PerFamilyListenersShareAPort) {
  SimNet net;
  std::error_code ec;
  ListenOptions v4only, v6only;
  v4only.v4only = true;
  v6only.v6only = true;
  const SocketId l4 = net.b().listen(82, v4only, ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(net.b().listen(82, ec), kNoSocket);
  EXPECT_EQ(ec, std::make_error_code(std::errc::address_in_use));
  const SocketId l6 = net.b().listen(82, v6only, ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(net.b().listen(82, v6only, ec), kNoSocket);
  EXPECT_EQ(ec, std::make_error_code(std::errc::address_in_use));
  ListenOptions both_only;
  both_only.v4only = both_only.v6only = true;
  EXPECT_EQ(net.b().listen(83, both_only, ec), kNoSocket);
  EXPECT_EQ(ec, std::make_error_code(std::errc::invalid_argument));

  const SocketId c4 = net.a().connect(net.b().config().address, 82, ec);
  const SocketId c6 = net.a().connect(net.b().config().address6, 82, ec);
  EXPECT_NE(accept_connected(net, l4, c4, std::chrono::seconds(10)), kNoSocket);
  EXPECT_NE(accept_connected(net, l6, c6, std::chrono::seconds(10)), kNoSocket);
  EXPECT_EQ(net.b().accept(l4, ec), kNoSocket);  // each took only its own family
  EXPECT_EQ(net.b().accept(l6, ec), kNoSocket);
  // Closing the IPv4 listener frees only the IPv4 side.
  net.b().close(l4);
  EXPECT_TRUE(refused(net, net.b().config().address, 82));
  EXPECT_NE(net.b().listen(82, v4only, ec), kNoSocket);
}

// RFC 9293 §3.10.7.1: a SYN to a closed port gets a RST, over IPv6 as over IPv4.
TEST(DualStack, ClosedPortRefusedOverIpv6) {
  SimNet net;
  EXPECT_TRUE(refused(net, net.b().config().address6, 4444));
  EXPECT_GE(counter(net.b(), "tcp.rst-for-unmatched"), 1u);
}

// connect() checks for IPv6 (RFC 9293 §3.9.1.1 MUST-46, MUST-43): no multicast, unspecified,
// loopback or own address; a local address must be ours; IPv4-mapped means IPv4.
TEST(DualStack, ConnectRulesOverIpv6) {
  SimNet net;
  std::error_code ec;
  for (const char* bad : {"::", "::1", "ff02::1", "fd77::2"}) {
    EXPECT_EQ(net.a().connect(*IpAddr::parse(bad), 80, ec), kNoSocket) << bad;
    EXPECT_EQ(ec, std::make_error_code(std::errc::network_unreachable)) << bad;
  }
  ConnectOptions wrong;
  wrong.local_addr = *IpAddr::parse("fd77::99");
  EXPECT_EQ(net.a().connect(net.b().config().address6, 80, wrong, ec), kNoSocket);
  EXPECT_EQ(ec, std::make_error_code(std::errc::address_not_available));
  // An IPv4 local address for an IPv6 destination is not ours for that family.
  ConnectOptions v4local;
  v4local.local_addr = net.a().config().address;
  EXPECT_EQ(net.a().connect(net.b().config().address6, 80, v4local, ec), kNoSocket);
  EXPECT_EQ(ec, std::make_error_code(std::errc::address_not_available));

  const SocketId l = net.b().listen(80, ec);
  const SocketId mapped = net.a().connect(*IpAddr::parse("::ffff:10.77.0.1"), 80, ec);
  ASSERT_FALSE(ec);
  EXPECT_TRUE(net.a().remote_endpoint(mapped).addr.is_v4());
  EXPECT_NE(accept_connected(net, l, mapped, std::chrono::seconds(10)), kNoSocket);
}

// With IPv6 off the stack is IPv4-only: IPv6 connects fail and IPv6 packets count as a bad
// version, as before issue 12.
TEST(DualStack, Ipv6CanBeTurnedOff) {
  SimNetConfig cfg;
  cfg.b.ipv6 = false;
  SimNet net(cfg);
  std::error_code ec;
  EXPECT_EQ(net.b().connect(net.a().config().address6, 80, ec), kNoSocket);
  EXPECT_EQ(ec, std::make_error_code(std::errc::address_family_not_supported));
  ListenOptions v6only;
  v6only.v6only = true;
  EXPECT_EQ(net.b().listen(80, v6only, ec), kNoSocket);
  const SocketId l = net.b().listen(80, ec);
  ASSERT_FALSE(ec);
  const SocketId c = net.a().connect(net.b().config().address6, 80, ec);
  ASSERT_FALSE(ec);
  net.advance(std::chrono::milliseconds(100));
  EXPECT_EQ(net.b().accept(l, ec), kNoSocket);
  EXPECT_FALSE(net.a().readiness(c) & ready::kConnected);
  uint64_t bad_version = 0;
  for (auto [name, v] : net.b().counters()) {
    if (name == "ip.drop.bad-version") bad_version = v;
  }
  EXPECT_GE(bad_version, 1u);
}

}  // namespace
}  // namespace utcp::test
