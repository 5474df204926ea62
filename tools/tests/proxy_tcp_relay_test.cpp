// SPDX-License-Identifier: BSD-2-Clause
// TcpRelay end to end without root (proxy_tcp_relay_fixture.hpp): a client Stack's connection
// goes through the relay's Stack and a kernel socket to a fake SOCKS5 or HTTP CONNECT proxy on
// loopback. Checked: the exact request the proxy gets, the client's handshake completed only
// after the proxy answered, a refusal as a RST and unreachable as ICMP, bytes the proxy sent
// after its reply delivered first, half-close both ways, resets both ways, back-pressure
// (a client that does not read stops the upstream), the connect and idle timeouts, the
// session limit and the session records.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "proxy_tcp_relay_fixture.hpp"

namespace utcp::proxy::test {
namespace {

const Endpoint kTarget{Ipv4Addr(198, 51, 100, 7), 7};

ProxyConfig socks5_config() {
  ProxyConfig c;
  c.upstream = UpstreamKind::kSocks5;
  return c;
}

// The destination's part: echoes until EOF.
void echo(int fd) {
  uint8_t buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    write_all(fd, buf, static_cast<size_t>(n));
  }
}

using TcpRelayTest = TcpRelayFixture;

TEST_F(TcpRelayTest, Socks5ConnectCarriesTheOriginalDestinationAndEchoes) {
  FakeProxy proxy({.act = echo});
  start(socks5_config(), &proxy);
  const SocketId s = connect_client(kTarget);
  ASSERT_TRUE(connected(s));
  send(s, bytes("hello"));
  std::error_code ec;
  EXPECT_EQ(receive(s, ec, 5), bytes("hello"));
  // RFC 1928 §4: CONNECT, ATYP 1, 198.51.100.7, port 7.
  ASSERT_EQ(proxy.requests().size(), 1u);
  EXPECT_EQ(proxy.requests()[0], std::string("\x05\x01\x00\x01\xc6\x33\x64\x07\x00\x07", 10));
  EXPECT_EQ(setup_fds_.size(), 1u);  // the upstream socket went through the socket setup
  client_->shutdown_write(s, ec);
  EXPECT_TRUE(receive(s, ec).empty());  // the echo server's EOF after ours
  EXPECT_FALSE(ec) << ec.message();
  ASSERT_TRUE(run_until([&] { return relay_->session_count() == 0; }));
  const auto r = ended();
  EXPECT_EQ(r["end"], "closed");
  EXPECT_EQ(r["bytes_up"], 5);
  EXPECT_EQ(r["bytes_down"], 5);
  EXPECT_EQ(r["destination"], "198.51.100.7:7");
  EXPECT_EQ(r["upstream"],
            "socks5 " + tools::format_endpoint(proxy.endpoint().addr, proxy.endpoint().port));
  EXPECT_TRUE(r.contains("tcp_info"));
  EXPECT_EQ(lines_.size(), 1u);  // -v: one line per session
}

// By default the request waits for the method answer, so a server that reads the greeting
// with one recv() and drops the rest (microsocks) still gets it.
TEST_F(TcpRelayTest, Socks5RequestWaitsForTheMethodAnswerByDefault) {
  FakeProxy proxy({.drops_early = true, .act = echo});
  ProxyConfig config = socks5_config();
  config.connect_timeout = 2s;
  start(config, &proxy);
  const SocketId s = connect_client(kTarget);
  ASSERT_TRUE(connected(s));
  send(s, bytes("strict"));
  std::error_code ec;
  EXPECT_EQ(receive(s, ec, 6), bytes("strict"));
  ASSERT_EQ(proxy.requests().size(), 1u);
  client_->abort(s);
}

// --socks5-pipeline: the request rides with the greeting; without it, it never comes early.
class Socks5SendOrder : public TcpRelayFixture, public ::testing::WithParamInterface<bool> {};

TEST_P(Socks5SendOrder, RequestBeforeTheMethodAnswerOnlyWhenPipelined) {
  FakeProxy proxy({.act = echo});
  ProxyConfig config = socks5_config();
  config.socks5_pipeline = GetParam();
  start(config, &proxy);
  const SocketId s = connect_client(kTarget);
  ASSERT_TRUE(connected(s));
  ASSERT_EQ(proxy.request_before_choice().size(), 1u);
  EXPECT_EQ(proxy.request_before_choice()[0], GetParam());
  EXPECT_EQ(proxy.requests()[0], std::string("\x05\x01\x00\x01\xc6\x33\x64\x07\x00\x07", 10));
  client_->abort(s);
}

INSTANTIATE_TEST_SUITE_P(Pipeline, Socks5SendOrder, ::testing::Bool());

TEST_F(TcpRelayTest, HandshakeCompletesOnlyAfterTheUpstreamAnswered) {
  FakeProxy proxy({.delay = 400ms, .act = echo});
  start(socks5_config(), &proxy);
  const SocketId s = connect_client(kTarget);
  run_for(250ms);
  EXPECT_EQ(client_->state(s), tcp::State::kSynSent);  // no SYN-ACK while the proxy thinks
  EXPECT_EQ(proxy.requests().size(), 1u);
  ASSERT_TRUE(connected(s));
}

TEST_F(TcpRelayTest, RefusedUpstreamIsAResetForTheClient) {
  FakeProxy proxy({.rep = 5});  // RFC 1928 §6: connection refused
  start(socks5_config(), &proxy);
  const SocketId s = connect_client(kTarget);
  EXPECT_FALSE(connected(s));
  EXPECT_EQ(client_->error(s), std::errc::connection_refused);
  ASSERT_TRUE(run_until([&] { return relay_->session_count() == 0; }));
  EXPECT_EQ(ended()["end"], "refused");
  EXPECT_NE(ended()["error"].get<std::string>().find("connection refused"), std::string::npos);
}

TEST_F(TcpRelayTest, UnreachableUpstreamIsAnIcmpUnreachable) {
  FakeProxy proxy({.rep = 4});  // host unreachable
  start(socks5_config(), &proxy);
  const SocketId s = connect_client(kTarget);
  // The client's stack hears ICMP host unreachable for its SYN: a soft error while it retries
  // (RFC 1122 §4.2.3.9), not a RST.
  ASSERT_TRUE(run_until([&] { return (client_->readiness(s) & ready::kSoftError) != 0; }));
  EXPECT_EQ(client_->take_soft_error(s), std::errc::host_unreachable);
  EXPECT_EQ(ended()["end"], "unreachable");
  client_->abort(s);
}

TEST_F(TcpRelayTest, HttpConnectAndTheProxysEarlyBytesComeFirst) {
  FakeProxy proxy({.kind = FakeProxy::Kind::kHttp, .early = "SSH-2.0-x\r\n", .act = echo});
  ProxyConfig config;
  config.upstream = UpstreamKind::kHttpConnect;
  config.credentials = Credentials{"u", "p"};
  start(config, &proxy);
  const SocketId s = connect_client(kTarget);
  ASSERT_TRUE(connected(s));
  std::error_code ec;
  EXPECT_EQ(receive(s, ec, 11), bytes("SSH-2.0-x\r\n"));
  send(s, bytes("ping"));
  EXPECT_EQ(receive(s, ec, 4), bytes("ping"));
  ASSERT_EQ(proxy.requests().size(), 1u);
  EXPECT_EQ(proxy.requests()[0],
            "CONNECT 198.51.100.7:7 HTTP/1.1\r\nHost: 198.51.100.7:7\r\n"
            "Proxy-Authorization: Basic dTpw\r\n\r\n");
}

TEST_F(TcpRelayTest, HalfCloseFromTheClientThenDataBack) {
  // The destination reads to EOF, then answers with the count and 300 KB and closes.
  FakeProxy proxy({.act = [](int fd) {
    size_t n = 0;
    uint8_t buf[8192];
    for (ssize_t r; (r = ::recv(fd, buf, sizeof buf, 0)) > 0;) n += static_cast<size_t>(r);
    const std::string head = "got " + std::to_string(n) + "\n";
    write_all(fd, head.data(), head.size());
    const Bytes tail(300000, 'z');
    write_all(fd, tail.data(), tail.size());
  }});
  start(socks5_config(), &proxy);
  const SocketId s = connect_client(kTarget);
  ASSERT_TRUE(connected(s));
  send(s, Bytes(200000, 'a'));
  std::error_code ec;
  client_->shutdown_write(s, ec);  // our FIN: the proxy's recv() sees EOF
  const Bytes got = receive(s, ec);
  EXPECT_FALSE(ec) << ec.message();
  const std::string want_head = "got 200000\n";
  ASSERT_EQ(got.size(), want_head.size() + 300000);
  EXPECT_EQ(std::string(got.begin(), got.begin() + 11), want_head);
  ASSERT_TRUE(run_until([&] { return relay_->session_count() == 0; }));
  EXPECT_EQ(ended()["end"], "closed");
  EXPECT_EQ(ended()["bytes_up"], 200000);
  EXPECT_EQ(ended()["bytes_down"], 300011);
}

TEST_F(TcpRelayTest, UpstreamResetIsAClientReset) {
  FakeProxy proxy({.act = [](int fd) {
    std::this_thread::sleep_for(100ms);
    reset_close(::dup(fd));  // a RST from the destination
  }});
  start(socks5_config(), &proxy);
  const SocketId s = connect_client(kTarget);
  ASSERT_TRUE(connected(s));
  std::error_code ec;
  receive(s, ec);
  EXPECT_EQ(ec, std::errc::connection_reset);
  ASSERT_TRUE(run_until([&] { return relay_->session_count() == 0; }));
  EXPECT_EQ(ended()["end"], "upstream-reset");
}

TEST_F(TcpRelayTest, ClientResetIsAnUpstreamReset) {
  std::atomic<int> outcome{0};  // 1: EOF, 2: reset
  FakeProxy proxy({.act = [&outcome](int fd) {
    uint8_t buf[100];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n == 0) outcome = 1;
      if (n < 0) outcome = errno == ECONNRESET ? 2 : 3;
      if (n <= 0) return;
    }
  }});
  start(socks5_config(), &proxy);
  const SocketId s = connect_client(kTarget);
  ASSERT_TRUE(connected(s));
  send(s, bytes("x"));
  run_for(100ms);
  client_->abort(s);
  ASSERT_TRUE(run_until([&] { return outcome != 0 && relay_->session_count() == 0; }));
  EXPECT_EQ(outcome, 2) << "the destination saw EOF (1) or another error (3), not a reset";
  EXPECT_EQ(ended()["end"], "client-reset");
}

TEST_F(TcpRelayTest, AClientThatDoesNotReadStopsTheUpstream) {
  std::atomic<size_t> sent{0};
  std::atomic<bool> stop{false};
  FakeProxy proxy({.act = [&](int fd) {
    const int small = 64 * 1024;  // keep the kernel's own buffering modest
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    const timeval tv{0, 100000};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const Bytes chunk(16384, 'q');
    while (!stop && sent < (64u << 20)) {
      const ssize_t n = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return;
    }
  }});
  start(socks5_config(), &proxy);
  const SocketId s = connect_client(kTarget);
  ASSERT_TRUE(connected(s));
  run_for(800ms);  // the client reads nothing
  const size_t stalled = sent;
  run_for(400ms);
  // The upstream is held back: what it managed is the client's receive buffer, utcp's send
  // buffer, at most 64 KiB held by the relay and the kernel's socket buffers, and it no longer
  // grows while the client does not read.
  EXPECT_LT(stalled, size_t{24} << 20);
  EXPECT_LE(sent - stalled, size_t{256} << 10);
  // Then the client reads, and everything comes through in order.
  std::error_code ec;
  const Bytes got = receive(s, ec, stalled + (1 << 20), 6s);
  EXPECT_GE(got.size(), stalled);
  stop = true;
  client_->abort(s);
  run_for(100ms);
}

TEST_F(TcpRelayTest, ConnectTimeoutAnswersWithUnreachable) {
  FakeProxy proxy({.silent = true});
  ProxyConfig config = socks5_config();
  config.connect_timeout = 300ms;
  start(config, &proxy);
  const SocketId s = connect_client(kTarget);
  const Instant t0 = EventLoop::clock_now();
  ASSERT_TRUE(run_until([&] { return relay_->session_count() == 0; }));
  EXPECT_GE(EventLoop::clock_now() - t0, 250ms);
  EXPECT_EQ(ended()["end"], "timeout");
  ASSERT_TRUE(run_until([&] { return (client_->readiness(s) & ready::kSoftError) != 0; }));
  EXPECT_EQ(client_->take_soft_error(s), std::errc::host_unreachable);
  client_->abort(s);
}

TEST_F(TcpRelayTest, IdleTimeoutResetsBothWays) {
  FakeProxy proxy({.act = echo});
  ProxyConfig config = socks5_config();
  config.tcp_idle_timeout = 300ms;
  start(config, &proxy);
  const SocketId s = connect_client(kTarget);
  ASSERT_TRUE(connected(s));
  std::error_code ec;
  receive(s, ec, SIZE_MAX, 3s);
  EXPECT_EQ(ec, std::errc::connection_reset);
  EXPECT_EQ(ended()["end"], "idle");
}

TEST_F(TcpRelayTest, SessionLimitResetsTheNextSyn) {
  FakeProxy proxy({.act = echo});
  ProxyConfig config = socks5_config();
  config.max_sessions = 1;
  start(config, &proxy);
  const SocketId a = connect_client(kTarget);
  ASSERT_TRUE(connected(a));
  const SocketId b = connect_client(Endpoint{kTarget.addr, 8});
  EXPECT_FALSE(connected(b));
  EXPECT_EQ(client_->error(b), std::errc::connection_refused);
  EXPECT_EQ(ended()["end"], "limit");
  EXPECT_EQ(proxy.accepted(), 1);  // the second never reached the upstream
}

TEST_F(TcpRelayTest, DrainRefusesNewConnectionsAndAbortAllResets) {
  FakeProxy proxy({.act = echo});
  start(socks5_config(), &proxy);
  const SocketId a = connect_client(kTarget);
  ASSERT_TRUE(connected(a));
  relay_->drain();
  const SocketId b = connect_client(Endpoint{kTarget.addr, 8});
  EXPECT_FALSE(connected(b));
  EXPECT_EQ(relay_->session_count(), 1u);  // the open one carries on
  relay_->abort_all("shutdown");
  std::error_code ec;
  receive(a, ec);
  EXPECT_EQ(ec, std::errc::connection_reset);
}

}  // namespace
}  // namespace utcp::proxy::test
