// SPDX-License-Identifier: BSD-2-Clause
// UdpRelay end to end without root (proxy_udp_fixture.hpp): a client Stack's datagrams reach a
// kernel UDP socket on loopback through the relay's Stack and come back from the original
// destination; the upstream socket is prepared by SocketSetup; --dns-server redirects port-53
// flows; fake-IP DNS is answered locally in both families; idle flows end; a refused upstream
// (ICMP port unreachable on loopback) ends its flow; HTTP CONNECT and max_sessions refuse flows.
#include <fcntl.h>

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "dns_message.hpp"
#include "proxy_udp_fixture.hpp"

namespace utcp::proxy::test {
namespace {

class UdpRelayDirect : public RelayFixture {};

TEST_F(UdpRelayDirect, DatagramOutAndReplyFromTheOriginalDestination) {
  const auto local = local_unicast_v4();
  if (!local) GTEST_SKIP() << "no non-loopback IPv4 address on this host (see DnsServer...)";
  ProxyConfig config;
  start(config);
  LoopbackEcho echo(*loop_, *local);
  const SocketId s = client_socket(echo.endpoint());
  Endpoint from;
  const auto reply = round_trip(s, bytes("ping"), &from);
  ASSERT_TRUE(reply) << "no reply through the relay";
  EXPECT_EQ(*reply, bytes("echo:ping"));
  EXPECT_EQ(from, echo.endpoint());  // the reply's source is the original destination
  ASSERT_EQ(echo.received().size(), 1u);
  EXPECT_EQ(echo.received()[0], bytes("ping"));
  EXPECT_EQ(setup_fds_.size(), 1u);  // the upstream socket went through SocketSetup
  // A second datagram of the flow uses the same upstream socket (same kernel source port).
  ASSERT_TRUE(round_trip(s, bytes("again")));
  ASSERT_EQ(echo.senders().size(), 2u);
  EXPECT_EQ(echo.senders()[0], echo.senders()[1]);
  EXPECT_EQ(relay_->flow_count(), 1u);
  const SessionRecord& r = sink_.only();
  EXPECT_TRUE(r.udp);
  EXPECT_EQ(r.client, client_->udp_local_endpoint(s));
  EXPECT_EQ(r.destination, echo.endpoint());
  EXPECT_EQ(r.upstream, "direct");
  EXPECT_EQ(r.bytes_up, 9u);
  EXPECT_EQ(r.bytes_down, 19u);
  EXPECT_EQ(r.end, "");
  EXPECT_EQ(counter("udp.datagrams.up"), 2u);
  EXPECT_EQ(counter("udp.datagrams.down"), 2u);
}

TEST_F(UdpRelayDirect, BurstOfDatagramsAllRelayedInOrder) {
  ProxyConfig config;
  start(config);
  LoopbackEcho echo(*loop_);
  const SocketId s = client_socket(via_dns_server(echo));
  std::error_code ec;
  constexpr int kCount = 100;
  for (int i = 0; i < kCount; ++i) {
    client_->send_to(s, bytes("d" + std::to_string(i)), nullptr, ec);
    ASSERT_FALSE(ec) << ec.message();
  }
  std::vector<Bytes> replies;
  run_until([&] {
    uint8_t buf[64];
    std::error_code rec;
    for (;;) {
      const size_t n = client_->recv_from(s, buf, rec);
      if (rec) break;
      replies.emplace_back(buf, buf + n);
    }
    return replies.size() == kCount;
  });
  ASSERT_EQ(replies.size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(replies[i], bytes("echo:d" + std::to_string(i)));
  EXPECT_EQ(sink_.only().bytes_up, 290u);  // d0..d99: 10 x 2 + 90 x 3 bytes
  EXPECT_EQ(counter("udp.drop.queue-full"), 0u);
}

TEST_F(UdpRelayDirect, FlowEndsWhenIdle) {
  ProxyConfig config;
  config.udp_idle_timeout = 200ms;
  start(config);
  LoopbackEcho echo(*loop_);
  const SocketId s = client_socket(via_dns_server(echo));
  ASSERT_TRUE(round_trip(s, bytes("x")));
  ASSERT_EQ(relay_->flow_count(), 1u);
  const Instant t0 = EventLoop::clock_now();
  EXPECT_TRUE(run_until([&] { return relay_->flow_count() == 0; }, 3s));
  EXPECT_GE(EventLoop::clock_now() - t0, 150ms);  // not before the timeout (less the time
                                                  // the round trip took)
  EXPECT_EQ(sink_.only().end, "idle");
  EXPECT_EQ(counter("udp.idle"), 1u);
  // The client's next datagram makes a new flow, which works again.
  ASSERT_TRUE(round_trip(s, bytes("y")));
  EXPECT_EQ(sink_.records().size(), 2u);
}

TEST_F(UdpRelayDirect, StackExpiryEndsTheFlowToo) {
  ProxyConfig config;
  config.udp_idle_timeout = 0ms;  // none of the relay's own: the stack's timeout ends it
  start(config, [](StackConfig& rc) { rc.udp_flow_idle_timeout = 150ms; });
  LoopbackEcho echo(*loop_);
  const SocketId s = client_socket(via_dns_server(echo));
  ASSERT_TRUE(round_trip(s, bytes("x")));
  EXPECT_TRUE(run_until([&] { return relay_->flow_count() == 0; }, 3s));
  EXPECT_EQ(sink_.only().end, "idle");
}

TEST_F(UdpRelayDirect, RefusedUpstreamEndsTheFlow) {
  ProxyConfig config;
  start(config);
  // A loopback port nobody listens on: the kernel answers with ICMP port unreachable, which
  // the connected upstream socket reports as ECONNREFUSED.
  Endpoint closed;
  {
    LoopbackEcho gone(*loop_);
    closed = gone.endpoint();
  }
  const SocketId s = client_socket(closed);
  std::error_code ec;
  client_->send_to(s, bytes("anyone?"), nullptr, ec);
  EXPECT_TRUE(run_until([&] { return sink_.records().size() == 1 && relay_->flow_count() == 0; }));
  EXPECT_EQ(sink_.only().end, "refused");
  EXPECT_EQ(counter("udp.upstream.refused"), 1u);
}

TEST_F(UdpRelayDirect, SetupFailureEndsTheFlow) {
  ProxyConfig config;
  start(config);
  setup_fails_ = true;
  LoopbackEcho echo(*loop_);
  const SocketId s = client_socket(echo.endpoint());
  EXPECT_FALSE(round_trip(s, bytes("x"), nullptr, 300ms));
  EXPECT_EQ(setup_fds_.size(), 1u);
  EXPECT_TRUE(echo.received().empty());
  EXPECT_EQ(sink_.only().end, "unreachable");
  EXPECT_EQ(relay_->flow_count(), 0u);
}

TEST_F(UdpRelayDirect, DnsServerRedirectsPort53Flows) {
  ProxyConfig config;
  start(config);
  LoopbackEcho echo(*loop_);
  config_.dns_upstream = echo.endpoint();  // --dns-server
  const Endpoint asked{Ipv4Addr(192, 0, 2, 53), 53};
  const SocketId s = client_socket(asked);
  Endpoint from;
  const auto reply = round_trip(s, bytes("query"), &from);
  ASSERT_TRUE(reply);
  EXPECT_EQ(*reply, bytes("echo:query"));
  EXPECT_EQ(from, asked);  // answered from where the client asked
  EXPECT_EQ(sink_.only().destination, asked);
}

TEST_F(UdpRelayDirect, Ipv6FlowRelayedToAnIpv4Upstream) {
  // An IPv6 flow (the client's fd77::1 to 2001:db8::53) whose upstream, by --dns-server, is the
  // IPv4 loopback: the upstream socket's family follows the upstream, the reply the flow.
  ProxyConfig config;
  start(config);
  LoopbackEcho echo(*loop_);
  config_.dns_upstream = echo.endpoint();
  const Endpoint asked{*IpAddr::parse("2001:db8::53"), 53};
  const SocketId s = client_socket(asked);
  Endpoint from;
  const auto reply = round_trip(s, bytes("v6 query"), &from);
  ASSERT_TRUE(reply);
  EXPECT_EQ(*reply, bytes("echo:v6 query"));
  EXPECT_EQ(from, asked);
  EXPECT_EQ(sink_.only().client.addr, *IpAddr::parse("fd77::1"));
}

TEST_F(UdpRelayDirect, HttpConnectUpstreamCannotCarryUdp) {
  ProxyConfig config;
  config.upstream = UpstreamKind::kHttpConnect;
  config.upstream_server = Endpoint{Ipv4Addr(127, 0, 0, 1), 3128};
  start(config);
  LoopbackEcho echo(*loop_);
  const SocketId s = client_socket(echo.endpoint());
  EXPECT_FALSE(round_trip(s, bytes("x"), nullptr, 300ms));
  EXPECT_TRUE(echo.received().empty());
  EXPECT_EQ(sink_.only().end, "unsupported");
  EXPECT_EQ(sink_.only().upstream, "http 127.0.0.1:3128");
  EXPECT_EQ(counter("udp.refused.unsupported"), 1u);
  EXPECT_TRUE(setup_fds_.empty());
}

TEST_F(UdpRelayDirect, MaxSessionsRefusesNewFlows) {
  ProxyConfig config;
  config.max_sessions = 1;
  start(config);
  LoopbackEcho echo(*loop_);
  const SocketId first = client_socket(via_dns_server(echo));
  ASSERT_TRUE(round_trip(first, bytes("1")));
  const SocketId second = client_socket(via_dns_server(echo));
  EXPECT_FALSE(round_trip(second, bytes("2"), nullptr, 300ms));
  EXPECT_EQ(echo.received().size(), 1u);
  ASSERT_EQ(sink_.records().size(), 2u);
  EXPECT_EQ(sink_.records().rbegin()->second.end, "limit");
  EXPECT_EQ(counter("udp.refused.limit"), 1u);
  EXPECT_EQ(relay_->flow_count(), 1u);
}

TEST_F(UdpRelayDirect, DestructorClosesEveryFlow) {
  ProxyConfig config;
  start(config);
  LoopbackEcho echo(*loop_);
  ASSERT_TRUE(round_trip(client_socket(via_dns_server(echo)), bytes("a")));
  ASSERT_TRUE(round_trip(client_socket(via_dns_server(echo)), bytes("b")));
  EXPECT_EQ(relay_->flow_count(), 2u);
  relay_.reset();
  for (const auto& [id, r] : sink_.records()) EXPECT_EQ(r.end, "shutdown");
  for (const int fd : setup_fds_) {
    EXPECT_EQ(::fcntl(fd, F_GETFD), -1) << "upstream socket " << fd << " still open";
  }
}

class UdpRelayFakeIp : public RelayFixture {};

// Sends a query for `name` of `qtype` to `server` and returns the addresses answered.
std::vector<IpAddr> answers_of(const Bytes& r, size_t question_end) {
  std::vector<IpAddr> out;
  size_t at = question_end;
  while (at + 12 <= r.size()) {
    const size_t rdlength = static_cast<size_t>(r[at + 10] << 8 | r[at + 11]);
    if (rdlength == 4) out.push_back(Ipv4Addr(r[at + 12], r[at + 13], r[at + 14], r[at + 15]));
    if (rdlength == 16) out.push_back(Ipv6Addr::from_bytes(&r[at + 12]));
    at += 12 + rdlength;
  }
  return out;
}

TEST_F(UdpRelayFakeIp, QueriesAnsweredLocallyInBothFamilies) {
  ProxyConfig config;
  config.dns = DnsMode::kFakeIp;
  start(config);
  for (const auto& [server, qtype] :
       {std::pair{Endpoint{Ipv4Addr(10, 0, 0, 53), 53}, dns::kTypeA},
        std::pair{Endpoint{*IpAddr::parse("fd00::53"), 53}, dns::kTypeAaaa}}) {
    const SocketId s = client_socket(server);
    const Bytes q = *dns::build_query(0x77, "video.example.net", qtype);
    Endpoint from;
    const auto reply = round_trip(s, q, &from);
    ASSERT_TRUE(reply) << server.addr.to_string();
    EXPECT_EQ(from, server);
    ASSERT_GE(reply->size(), q.size());
    EXPECT_EQ((*reply)[0], 0);
    EXPECT_EQ((*reply)[1], 0x77);
    EXPECT_EQ((*reply)[3] & 0x0f, 0);  // NOERROR
    const auto addrs = answers_of(*reply, q.size());
    ASSERT_EQ(addrs.size(), 1u);
    const IpPrefix& pool = qtype == dns::kTypeA ? config.fake_ip_pool : config.fake_ip_pool6;
    EXPECT_TRUE(pool.contains(addrs[0])) << addrs[0].to_string();
    EXPECT_EQ(relay_->fake_ip_name(addrs[0]), "video.example.net");
  }
  EXPECT_FALSE(relay_->fake_ip_name(*IpAddr::parse("198.18.9.9")));
  EXPECT_EQ(counter("udp.dns.fake-ip-answers"), 2u);
  // Each DNS flow ends once answered; none went upstream.
  EXPECT_TRUE(run_until([&] { return relay_->flow_count() == 0; }, 1s));
  for (const auto& [id, r] : sink_.records()) {
    EXPECT_EQ(r.upstream, "fake-ip dns");
    EXPECT_EQ(r.end, "closed");
  }
  EXPECT_TRUE(setup_fds_.empty());
}

TEST_F(UdpRelayFakeIp, DirectToAFakeAddressWithoutANameIsRefused) {
  ProxyConfig config;
  config.dns = DnsMode::kFakeIp;
  start(config);
  const SocketId s = client_socket(Endpoint{Ipv4Addr(198, 18, 0, 1), 443});  // no name yet
  EXPECT_FALSE(round_trip(s, bytes("quic"), nullptr, 300ms));
  EXPECT_EQ(sink_.only().end, "no-name");
  EXPECT_EQ(counter("udp.refused.no-name"), 1u);
}

TEST_F(UdpRelayFakeIp, DirectToAFakeAddressGoesToItsResolvedName) {
  // "localhost" resolves (getaddrinfo, /etc/hosts) to 127.0.0.1: the flow to its fake address
  // reaches the echo there, and the reply comes back from the fake address. Only from the
  // hosts file: a name the resolver would ask a DNS server about must not leave the host.
  std::ifstream hosts("/etc/hosts");
  const std::string text((std::istreambuf_iterator<char>(hosts)), std::istreambuf_iterator<char>());
  if (text.find("127.0.0.1") == std::string::npos || text.find("localhost") == std::string::npos) {
    GTEST_SKIP() << "/etc/hosts does not name localhost";
  }
  ProxyConfig config;
  config.dns = DnsMode::kFakeIp;
  start(config);
  LoopbackEcho echo(*loop_);
  const Bytes q = *dns::build_query(1, "localhost", dns::kTypeA);
  const auto answer = round_trip(client_socket(Endpoint{Ipv4Addr(10, 0, 0, 53), 53}), q);
  ASSERT_TRUE(answer);
  const auto addrs = answers_of(*answer, q.size());
  ASSERT_EQ(addrs.size(), 1u);
  const Endpoint fake{addrs[0], echo.endpoint().port};
  const SocketId s = client_socket(fake);
  Endpoint from;
  const auto reply = round_trip(s, bytes("by name"), &from);
  ASSERT_TRUE(reply) << "no reply through the resolved name";
  EXPECT_EQ(*reply, bytes("echo:by name"));
  EXPECT_EQ(from, fake);
  const SessionRecord& r = sink_.records().rbegin()->second;
  EXPECT_EQ(r.domain, "localhost");
  EXPECT_EQ(r.destination, fake);
  EXPECT_EQ(r.upstream, "direct");
}

}  // namespace
}  // namespace utcp::proxy::test
