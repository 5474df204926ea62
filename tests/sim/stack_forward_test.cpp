// SPDX-License-Identifier: BSD-2-Clause
// Forwarding (issue 13): stack B terminates TCP for any destination in 198.18.0.0/15 and
// 2001:db8::/32, and A (an ordinary stack) connects to arbitrary addresses there over the
// in-memory link. Checks the request B's application sees, accept (IPv4 and IPv6, bytes
// compared both ways, the original destination as B's local endpoint), accept deferred past
// a retransmitted SYN, reset, ICMP and ICMPv6 rejection, the pending limit, the decision
// timeout, half-close, and that a foreign address outside the prefixes is still not for us.
// Virtual clock; the stacks' secrets are fixed (SimNetConfig), no other randomness but the
// payload's seed, printed.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string_view>
#include <vector>

#include "support/forward_sim.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace utcp::test {
namespace {

std::vector<uint8_t> random_bytes(size_t n, uint64_t seed) {
  std::printf("payload seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// Waits for B's next connection request; a short budget keeps the clock from reaching A's
// SYN retransmission (1 s), so a decision right after it crosses no second SYN.
std::optional<ConnectionRequest> wait_request(SimNet& net,
                                              Duration budget = std::chrono::milliseconds(50)) {
  std::optional<ConnectionRequest> r;
  net.run_until([&] { return (r = net.b().next_request()).has_value(); }, budget);
  return r;
}

// Sends `data` from one end and reads it at the other until the sender's FIN arrives.
std::vector<uint8_t> send_all(SimNet& net, Stack& from, SocketId fs, Stack& to, SocketId ts,
                              const std::vector<uint8_t>& data) {
  size_t written = 0;
  bool shut = false, eof = false;
  std::vector<uint8_t> got;
  std::error_code ec;
  net.run_until(
      [&] {
        while (written < data.size()) {
          const size_t n = from.send(fs, std::span(data).subspan(written), ec);
          if (n == 0) break;
          written += n;
        }
        if (written == data.size() && !shut) {
          from.shutdown_write(fs, ec);
          shut = true;
        }
        uint8_t buf[16384];
        for (;;) {
          const size_t n = to.recv(ts, buf, ec);
          if (n == 0) {
            if (!ec) eof = true;
            break;
          }
          got.insert(got.end(), buf, buf + n);
        }
        return eof;
      },
      std::chrono::seconds(60));
  EXPECT_TRUE(eof) << "no end of stream after " << got.size() << " bytes";
  return got;
}

// A connects to `dst`:`port`; B accepts the request at once. Returns {A's, B's} sockets.
std::pair<SocketId, SocketId> forwarded_pair(SimNet& net, IpAddr dst, uint16_t port) {
  std::error_code ec;
  const SocketId client = net.a().connect(dst, port, ec);
  EXPECT_FALSE(ec) << ec.message();
  auto req = wait_request(net);
  EXPECT_TRUE(req.has_value());
  if (!req) return {client, kNoSocket};
  const SocketId server = net.b().accept_request(req->id, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(net.run_until(
      [&] {
        return (net.a().readiness(client) & ready::kConnected) &&
               (net.b().readiness(server) & ready::kConnected);
      },
      std::chrono::seconds(5)));
  return {client, server};
}

void transfer_to_any_destination(IpAddr dst, uint64_t seed) {
  SimNet net(forwarding_sim_config());
  std::error_code ec;
  // A listener on the same port must not see SYNs to forwarded destinations.
  const SocketId listener = net.b().listen(443, ec);
  ASSERT_FALSE(ec);
  const SocketId client = net.a().connect(dst, 443, ec);
  ASSERT_FALSE(ec) << ec.message();
  auto req = wait_request(net);
  ASSERT_TRUE(req.has_value()) << "no connection request";
  // Nothing was answered before the decision: A is still in SYN-SENT.
  EXPECT_EQ(net.a().state(client), tcp::State::kSynSent);
  EXPECT_EQ(req->local, (Endpoint{dst, 443}));
  EXPECT_EQ(req->remote, net.a().local_endpoint(client));
  // A's SYN options, as utcp offers them by default.
  EXPECT_TRUE(req->mss.has_value());
  EXPECT_TRUE(req->window_scale.has_value());
  EXPECT_TRUE(req->sack_permitted);
  EXPECT_TRUE(req->timestamps);
  EXPECT_EQ(net.b().pending_requests(), 1u);
  const SocketId server = net.b().accept_request(req->id, ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(net.run_until([&] { return net.a().readiness(client) & ready::kConnected; },
                            std::chrono::seconds(5)));
  EXPECT_EQ(net.b().accept(listener, ec), kNoSocket);
  EXPECT_EQ(net.b().local_endpoint(server), (Endpoint{dst, 443}));
  EXPECT_EQ(net.b().remote_endpoint(server), net.a().local_endpoint(client));
  EXPECT_EQ(net.a().remote_endpoint(client), (Endpoint{dst, 443}));
  const auto up = random_bytes(1 << 20, seed);
  const auto down = random_bytes(300'000, seed + 1);
  EXPECT_TRUE(send_all(net, net.a(), client, net.b(), server, up) == up) << "a->b bytes differ";
  EXPECT_TRUE(send_all(net, net.b(), server, net.a(), client, down) == down) << "b->a differ";
  // A full connection: SACK and timestamps negotiated, tcp_info available.
  auto info = net.b().tcp_info(server);
  ASSERT_TRUE(info.has_value());
  EXPECT_GT(info->bytes_received, 0u);
  EXPECT_EQ(counter(net.b(), "fwd.requests"), 1u);
  EXPECT_EQ(counter(net.b(), "fwd.accepted"), 1u);
  net.a().close(client);
  net.b().close(server);
  EXPECT_TRUE(
      net.run_until([&] { return net.b().connection_count() == 0; }, std::chrono::seconds(200)));
}

TEST(Forwarding, AnyIpv4DestinationHandshakeAndTransfer) {
  transfer_to_any_destination(*IpAddr::parse("198.19.200.7"), 11);
}

TEST(Forwarding, AnyIpv6DestinationHandshakeAndTransfer) {
  transfer_to_any_destination(*IpAddr::parse("2001:db8:77::5"), 12);
}

TEST(Forwarding, DeferredAcceptAfterRetransmittedSyn) {
  SimNet net(forwarding_sim_config());
  std::error_code ec;
  const SocketId client = net.a().connect(*IpAddr::parse("198.18.0.9"), 8080, ec);
  ASSERT_FALSE(ec);
  auto req = wait_request(net);
  ASSERT_TRUE(req.has_value());
  // The application tries its upstream for a while: A's SYN is retransmitted (RTO 1 s,
  // RFC 6298 §2.1), absorbed, and never answered.
  net.advance(std::chrono::milliseconds(3500));
  EXPECT_GE(counter(net.b(), "fwd.syn-retransmit-absorbed"), 2u);
  EXPECT_EQ(net.a().state(client), tcp::State::kSynSent);
  EXPECT_EQ(net.b().pending_requests(), 1u);
  EXPECT_FALSE(net.b().next_request().has_value()) << "a retransmission is no new request";
  const SocketId server = net.b().accept_request(req->id, ec);
  ASSERT_FALSE(ec);
  ASSERT_TRUE(net.run_until([&] { return net.a().readiness(client) & ready::kConnected; },
                            std::chrono::seconds(5)));
  const auto up = random_bytes(50'000, 21);
  EXPECT_TRUE(send_all(net, net.a(), client, net.b(), server, up) == up);
  // Deciding twice is an error.
  net.b().accept_request(req->id, ec);
  EXPECT_EQ(ec, std::errc::invalid_argument);
}

TEST(Forwarding, ResetRequestRefusesTheConnection) {
  SimNet net(forwarding_sim_config());
  std::error_code ec;
  const SocketId client = net.a().connect(*IpAddr::parse("2001:db8::80"), 80, ec);
  ASSERT_FALSE(ec);
  auto req = wait_request(net);
  ASSERT_TRUE(req.has_value());
  net.b().reset_request(req->id, ec);
  ASSERT_FALSE(ec);
  ASSERT_TRUE(net.run_until([&] { return net.a().readiness(client) & ready::kError; },
                            std::chrono::seconds(2)));
  EXPECT_EQ(net.a().error(client), std::errc::connection_refused);
  EXPECT_EQ(net.b().pending_requests(), 0u);
  EXPECT_EQ(counter(net.b(), "fwd.reset"), 1u);
}

// A's view of a rejection: port unreachable ends a SYN-SENT connection (RFC 1122 §4.2.3.9
// allows it; Linux does), host unreachable and administratively prohibited are soft errors.
void expect_rejection(IpAddr dst, RejectReason why) {
  SimNet net(forwarding_sim_config());
  std::error_code ec;
  const SocketId client = net.a().connect(dst, 25, ec);
  ASSERT_FALSE(ec);
  auto req = wait_request(net);
  ASSERT_TRUE(req.has_value());
  net.b().reject_request(req->id, why, ec);
  ASSERT_FALSE(ec);
  const uint32_t want = why == RejectReason::kPortUnreachable ? ready::kError : ready::kSoftError;
  ASSERT_TRUE(net.run_until([&] { return net.a().readiness(client) & want; },
                            std::chrono::milliseconds(500)))
      << dst.to_string();
  EXPECT_EQ(counter(net.a(), "icmp.error-to-connection"), 1u);
  if (why == RejectReason::kPortUnreachable) {
    EXPECT_EQ(net.a().error(client), std::errc::connection_refused);
  } else {
    EXPECT_EQ(net.a().take_soft_error(client), std::errc::host_unreachable);
  }
  EXPECT_EQ(counter(net.b(), "fwd.rejected"), 1u);
}

TEST(Forwarding, RejectWithIcmpPortUnreachable) {
  expect_rejection(*IpAddr::parse("198.18.44.1"), RejectReason::kPortUnreachable);
}
TEST(Forwarding, RejectWithIcmpHostUnreachable) {
  expect_rejection(*IpAddr::parse("198.18.44.2"), RejectReason::kHostUnreachable);
}
TEST(Forwarding, RejectWithIcmpAdminProhibited) {
  expect_rejection(*IpAddr::parse("198.18.44.3"), RejectReason::kAdminProhibited);
}
TEST(Forwarding, RejectWithIcmpv6PortUnreachable) {
  expect_rejection(*IpAddr::parse("2001:db8::44:1"), RejectReason::kPortUnreachable);
}
TEST(Forwarding, RejectWithIcmpv6AdminProhibited) {
  expect_rejection(*IpAddr::parse("2001:db8::44:3"), RejectReason::kAdminProhibited);
}

TEST(Forwarding, PendingLimitDropsTheSyn) {
  SimNetConfig cfg = forwarding_sim_config();
  cfg.b.max_pending_requests = 2;
  SimNet net(cfg);
  std::error_code ec;
  SocketId clients[3];
  for (int i = 0; i < 3; ++i) {
    clients[i] = net.a().connect(*IpAddr::parse("198.18.1.1"), static_cast<uint16_t>(1000 + i), ec);
    ASSERT_FALSE(ec);
  }
  net.advance(std::chrono::milliseconds(100));
  EXPECT_EQ(net.b().pending_requests(), 2u);
  EXPECT_EQ(counter(net.b(), "fwd.drop.pending-full"), 1u);
  EXPECT_EQ(counter(net.b(), "fwd.requests"), 2u);
  // Deciding one frees room: the third SYN's retransmission becomes a request.
  auto first = net.b().next_request();
  ASSERT_TRUE(first.has_value());
  net.b().reset_request(first->id, ec);
  ASSERT_FALSE(ec);
  net.advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(counter(net.b(), "fwd.requests"), 3u);
  EXPECT_EQ(net.b().pending_requests(), 2u);
  for (SocketId c : clients) EXPECT_NE(c, kNoSocket);
}

TEST(Forwarding, UndecidedRequestIsResetAfterTimeout) {
  SimNetConfig cfg = forwarding_sim_config();
  cfg.b.request_timeout = std::chrono::seconds(2);
  SimNet net(cfg);
  std::error_code ec;
  const SocketId client = net.a().connect(*IpAddr::parse("198.18.9.9"), 9, ec);
  ASSERT_FALSE(ec);
  ASSERT_TRUE(wait_request(net).has_value());
  net.advance(std::chrono::milliseconds(1900));
  EXPECT_EQ(net.b().pending_requests(), 1u);
  ASSERT_TRUE(net.run_until([&] { return net.a().readiness(client) & ready::kError; },
                            std::chrono::seconds(1)));
  EXPECT_EQ(net.a().error(client), std::errc::connection_refused);
  EXPECT_EQ(net.b().pending_requests(), 0u);
  EXPECT_EQ(counter(net.b(), "fwd.reset.timeout"), 1u);
}

// A TCP segment from the peer 10.77.0.2:40000 to 198.18.9.10:9, put straight into B.
void inject(SimNet& net, uint8_t flags, uint32_t seq) {
  wire::TcpRepr t;
  t.src_port = 40000;
  t.dst_port = 9;
  t.seq = wire::SeqNum(seq);
  t.flags = flags;
  t.window = 65535;
  if (flags & wire::tcp_flag::kSyn) t.options.mss = 1460;
  const Ipv4Addr src(10, 77, 0, 2), dst(198, 18, 9, 10);
  std::vector<uint8_t> p(20 + t.total_len());
  const size_t n = t.emit(std::span(p).subspan(20), src, dst);
  wire::Ipv4Repr ip{.src = src, .dst = dst, .protocol = 6, .payload_len = static_cast<uint16_t>(n)};
  ip.emit(p);
  net.b().input(p, net.now());
}

// RFC 9293 §3.10.7.2: a RST for a pending request is never answered; it cancels the request
// only with the peer's own next sequence number (its ISS + 1), so a blind RST does not.
TEST(Forwarding, PeerResetCancelsPendingRequestOnlyInSequence) {
  SimNet net(forwarding_sim_config());
  inject(net, wire::tcp_flag::kSyn, 1000);
  ASSERT_EQ(net.b().pending_requests(), 1u);
  inject(net, wire::tcp_flag::kRst, 5555);  // blind
  inject(net, wire::tcp_flag::kAck, 1001);  // nothing to acknowledge: dropped
  EXPECT_EQ(net.b().pending_requests(), 1u);
  EXPECT_EQ(counter(net.b(), "fwd.canceled-by-peer"), 0u);
  inject(net, wire::tcp_flag::kRst, 1001);
  EXPECT_EQ(net.b().pending_requests(), 0u);
  EXPECT_EQ(counter(net.b(), "fwd.canceled-by-peer"), 1u);
  EXPECT_EQ(counter(net.b(), "tcp.out"), 0u) << "nothing was answered";
}

TEST(Forwarding, HalfCloseOnForwardedConnection) {
  SimNet net(forwarding_sim_config());
  // Plain variables, not a structured binding: clang 14 cannot capture those in a lambda.
  const auto pair = forwarded_pair(net, *IpAddr::parse("2001:db8:1::1"), 7);
  const SocketId client = pair.first;
  const SocketId server = pair.second;
  ASSERT_NE(server, kNoSocket);
  // A finishes sending; B still sends afterwards, and A reads all of it.
  const auto up = random_bytes(10'000, 31);
  EXPECT_TRUE(send_all(net, net.a(), client, net.b(), server, up) == up);
  EXPECT_EQ(net.b().state(server), tcp::State::kCloseWait);
  const auto down = random_bytes(200'000, 32);
  EXPECT_TRUE(send_all(net, net.b(), server, net.a(), client, down) == down);
  EXPECT_TRUE(net.run_until(
      [&] {
        return net.a().state(client) == tcp::State::kTimeWait &&
               net.b().state(server) == tcp::State::kClosed;
      },
      std::chrono::seconds(10)));
}

TEST(Forwarding, ForeignAddressOutsideThePrefixesIsNotForUs) {
  SimNet net(forwarding_sim_config());
  std::error_code ec;
  const uint64_t before = counter(net.b(), "ip.drop.not-for-us");
  const SocketId c4 = net.a().connect(*IpAddr::parse("198.20.0.1"), 80, ec);  // just past /15
  ASSERT_FALSE(ec);
  const SocketId c6 = net.a().connect(*IpAddr::parse("2001:db9::1"), 80, ec);
  ASSERT_FALSE(ec);
  net.advance(std::chrono::milliseconds(100));
  EXPECT_EQ(counter(net.b(), "ip.drop.not-for-us"), before + 1);
  EXPECT_EQ(counter(net.b(), "ip6.drop.not-for-us"), 1u);
  EXPECT_FALSE(net.b().next_request().has_value());
  EXPECT_EQ(net.a().state(c4), tcp::State::kSynSent);
  EXPECT_EQ(net.a().state(c6), tcp::State::kSynSent);
  // UDP and ICMP to a forwarded address are not for us either (TCP only).
  const SocketId u = net.a().udp_connect(Endpoint{*IpAddr::parse("198.18.0.1"), 53}, ec);
  ASSERT_FALSE(ec);
  const uint8_t hello[] = {1, 2, 3};
  net.a().send_to(u, hello, nullptr, ec);
  ASSERT_FALSE(ec);
  net.advance(std::chrono::milliseconds(100));
  EXPECT_EQ(counter(net.b(), "ip.drop.not-for-us"), before + 2);
  EXPECT_EQ(counter(net.b(), "icmp.out.port-unreachable"), 0u);
}

TEST(IpPrefix, ParseAndContains) {
  EXPECT_TRUE(kForwardNet4.contains(*IpAddr::parse("198.19.255.255")));
  EXPECT_FALSE(kForwardNet4.contains(*IpAddr::parse("198.20.0.0")));
  EXPECT_FALSE(kForwardNet4.contains(*IpAddr::parse("::ffff:198.18.0.1")));  // the family counts
  EXPECT_TRUE(kForwardNet6.contains(*IpAddr::parse("2001:db8:ffff::1")));
  EXPECT_FALSE(kForwardNet6.contains(*IpAddr::parse("2001:db9::")));
  EXPECT_TRUE(IpPrefix::parse("0.0.0.0/0")->contains(*IpAddr::parse("1.2.3.4")));
  EXPECT_TRUE(IpPrefix::parse("10.0.0.1/32")->contains(*IpAddr::parse("10.0.0.1")));
  EXPECT_FALSE(IpPrefix::parse("10.0.0.1/32")->contains(*IpAddr::parse("10.0.0.2")));
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0/33").has_value());
  EXPECT_FALSE(IpPrefix::parse("::/129").has_value());
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0").has_value());
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0/").has_value());
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0/1x").has_value());
  EXPECT_EQ(IpPrefix::parse("2001:db8::/32")->to_string(), "2001:db8::/32");
}

}  // namespace
}  // namespace utcp::test
