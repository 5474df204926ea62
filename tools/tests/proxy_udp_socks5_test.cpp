// SPDX-License-Identifier: BSD-2-Clause
// UdpRelay through SOCKS5 (RFC 1928 §7): a small SOCKS5 server on loopback, run by the relay's
// own loop, takes one UDP ASSOCIATE per flow (with and without RFC 1929 authentication) and
// echoes each wrapped datagram back wrapped. Checked: the request names the datagrams' real
// source, the header carries the original destination (or the fake IP's name, ATYP 3), replies
// come back from the original destination, fragments are dropped, the flow ends with its control
// connection, a refusing server and a silent one end the flow.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "dns_message.hpp"
#include "proxy_udp_fixture.hpp"
#include "socks5_udp.hpp"

namespace utcp::proxy::test {
namespace {

class MiniSocks5 {
 public:
  struct Options {
    std::optional<Credentials> credentials;  // required when set (method 2, RFC 1929)
    uint8_t rep = 0;                         // the request's reply code
    bool bnd_unspecified = false;            // answer BND.ADDR 0.0.0.0
    bool silent = false;                     // never answer the greeting
    bool fragment_first = false;             // send a FRAG=1 copy before each reply
  };

  MiniSocks5(EventLoop& loop, Options options) : loop_(loop), options_(std::move(options)) {
    listen_fd_ = bound_socket(SOCK_STREAM, tcp_);
    EXPECT_EQ(::listen(listen_fd_, 8), 0);
    udp_fd_ = bound_socket(SOCK_DGRAM, udp_);
    loop_.add_fd(listen_fd_, EPOLLIN, [this](uint32_t) {
      const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c < 0) return;
      ++accepted_;
      conn_ = c;
      loop_.add_fd(c, EPOLLIN, [this](uint32_t) { on_control(); });
    });
    loop_.add_fd(udp_fd_, EPOLLIN, [this](uint32_t) { on_udp(); });
  }
  ~MiniSocks5() {
    close_control();
    for (const int fd : {listen_fd_, udp_fd_}) {
      loop_.remove_fd(fd);
      ::close(fd);
    }
  }

  const Endpoint& tcp() const { return tcp_; }
  void close_control() {
    if (conn_ < 0) return;
    loop_.remove_fd(conn_);
    ::close(conn_);
    conn_ = -1;
  }
  int accepted() const { return accepted_; }
  bool associated() const { return phase_ == Phase::kDone; }
  const Endpoint& requested_source() const { return requested_source_; }
  const std::vector<Endpoint>& udp_senders() const { return udp_senders_; }
  const std::vector<Target>& targets() const { return targets_; }

 private:
  enum class Phase { kGreeting, kAuth, kRequest, kDone };

  int bound_socket(int type, Endpoint& where) {
    const int fd = ::socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(Endpoint{Ipv4Addr(127, 0, 0, 1), 0}, ss);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&ss), len), 0);
    len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    where = from_sockaddr(ss);
    return fd;
  }

  void reply(std::initializer_list<uint8_t> b) {
    const Bytes out(b);
    EXPECT_EQ(::send(conn_, out.data(), out.size(), MSG_NOSIGNAL), static_cast<ssize_t>(b.size()));
  }

  void on_control() {
    uint8_t buf[512];
    const ssize_t n = ::recv(conn_, buf, sizeof buf, 0);
    if (n <= 0) {
      if (n == 0) close_control();
      return;
    }
    in_.insert(in_.end(), buf, buf + n);
    if (options_.silent) return;
    for (bool progress = true; progress;) {
      progress = false;
      if (phase_ == Phase::kGreeting && in_.size() >= 2 && in_.size() >= 2u + in_[1]) {
        const uint8_t want = options_.credentials ? 2 : 0;
        const bool offered =
            std::find(in_.begin() + 2, in_.begin() + 2 + in_[1], want) != in_.begin() + 2 + in_[1];
        reply({5, static_cast<uint8_t>(offered ? want : 0xff)});
        in_.erase(in_.begin(), in_.begin() + 2 + in_[1]);
        phase_ = options_.credentials ? Phase::kAuth : Phase::kRequest;
        progress = true;
      } else if (phase_ == Phase::kAuth && in_.size() >= 2 && in_.size() >= 3u + in_[1] &&
                 in_.size() >= 3u + in_[1] + in_[2 + in_[1]]) {
        const size_t ulen = in_[1], plen = in_[2 + ulen];
        const std::string user(in_.begin() + 2, in_.begin() + 2 + static_cast<long>(ulen));
        const std::string pass(in_.begin() + 3 + static_cast<long>(ulen),
                               in_.begin() + 3 + static_cast<long>(ulen + plen));
        const bool ok = user == options_.credentials->user && pass == options_.credentials->pass;
        reply({1, static_cast<uint8_t>(ok ? 0 : 1)});  // RFC 1929 §2
        in_.erase(in_.begin(), in_.begin() + 3 + static_cast<long>(ulen + plen));
        phase_ = Phase::kRequest;
        progress = ok;
      } else if (phase_ == Phase::kRequest && in_.size() >= 10) {
        EXPECT_EQ(in_[1], 3) << "not UDP ASSOCIATE";
        EXPECT_EQ(in_[3], 1) << "the request's DST is not an IPv4 address";
        requested_source_ = Endpoint{Ipv4Addr(in_[4], in_[5], in_[6], in_[7]),
                                     static_cast<uint16_t>(in_[8] << 8 | in_[9])};
        const uint32_t bnd = options_.bnd_unspecified ? 0 : udp_.addr.v4().value;
        reply({5, options_.rep, 0, 1, static_cast<uint8_t>(bnd >> 24),
               static_cast<uint8_t>(bnd >> 16), static_cast<uint8_t>(bnd >> 8),
               static_cast<uint8_t>(bnd), static_cast<uint8_t>(udp_.port >> 8),
               static_cast<uint8_t>(udp_.port)});
        in_.clear();
        phase_ = Phase::kDone;
      }
    }
  }

  void on_udp() {
    uint8_t buf[2048];
    sockaddr_storage from;
    socklen_t flen = sizeof from;
    const ssize_t n =
        ::recvfrom(udp_fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
    if (n < 0) return;
    udp_senders_.push_back(from_sockaddr(from));
    Socks5UdpError error;
    const auto d = decode_socks5_udp(std::span(buf, static_cast<size_t>(n)), error);
    ASSERT_TRUE(d) << "a datagram without a valid RFC 1928 §7 header";
    targets_.push_back(d->address);
    Bytes payload = bytes("echo:");
    payload.insert(payload.end(), d->payload.begin(), d->payload.end());
    Bytes out;
    encode_socks5_udp(d->address, payload, out);
    if (options_.fragment_first) {
      Bytes frag = out;
      frag[2] = 1;  // FRAG 1: the relay does not reassemble, so it must drop this
      ::sendto(udp_fd_, frag.data(), frag.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
    }
    ::sendto(udp_fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
  }

  EventLoop& loop_;
  Options options_;
  int listen_fd_ = -1;
  int udp_fd_ = -1;
  int conn_ = -1;
  int accepted_ = 0;
  Endpoint tcp_;
  Endpoint udp_;
  Phase phase_ = Phase::kGreeting;
  Bytes in_;
  Endpoint requested_source_;
  std::vector<Endpoint> udp_senders_;
  std::vector<Target> targets_;
};

class UdpRelaySocks5 : public RelayFixture {
 protected:
  // Starts the relay with a SOCKS5 upstream: the server is made first (it needs the loop),
  // so the fixture's loop comes up with a placeholder server address, then it is set.
  MiniSocks5& start_socks5(MiniSocks5::Options options, ProxyConfig config = {}) {
    config.upstream = UpstreamKind::kSocks5;
    config.credentials = options.credentials;
    start(config);
    server_.emplace(*loop_, std::move(options));
    config_.upstream_server = server_->tcp();
    return *server_;
  }
  void TearDown() override {
    relay_.reset();
    server_.reset();
  }
  std::optional<MiniSocks5> server_;
};

TEST_F(UdpRelaySocks5, AssociatesAndRelaysWrappedDatagrams) {
  MiniSocks5& server = start_socks5({});
  const Endpoint dst{Ipv4Addr(198, 51, 100, 7), 9999};
  const SocketId s = client_socket(dst);
  Endpoint from;
  const auto reply = round_trip(s, bytes("hello"), &from);
  ASSERT_TRUE(reply);
  EXPECT_EQ(*reply, bytes("echo:hello"));
  EXPECT_EQ(from, dst);
  ASSERT_EQ(server.targets().size(), 1u);
  EXPECT_EQ(server.targets()[0].addr, dst.addr);  // RFC 1928 §7 DST.ADDR / DST.PORT
  EXPECT_EQ(server.targets()[0].port, dst.port);
  EXPECT_TRUE(server.targets()[0].domain.empty());
  // The request announced the address and port the datagrams then came from (§7).
  ASSERT_EQ(server.udp_senders().size(), 1u);
  EXPECT_EQ(server.requested_source(), server.udp_senders()[0]);
  EXPECT_EQ(setup_fds_.size(), 2u);  // the UDP socket and the control connection
  // A second datagram rides the same association.
  ASSERT_TRUE(round_trip(s, bytes("more")));
  EXPECT_EQ(server.accepted(), 1);
  const SessionRecord& r = sink_.only();
  EXPECT_EQ(r.upstream,
            "socks5 " + server.tcp().addr.to_string() + ":" + std::to_string(server.tcp().port));
  EXPECT_EQ(r.bytes_up, 9u);
  EXPECT_EQ(r.bytes_down, 19u);
}

TEST_F(UdpRelaySocks5, UsernamePasswordAndUnspecifiedBoundAddress) {
  MiniSocks5& server =
      start_socks5({.credentials = Credentials{"user", "secret"}, .bnd_unspecified = true});
  const SocketId s = client_socket(Endpoint{*IpAddr::parse("2001:db8::7"), 5000});
  const auto reply = round_trip(s, bytes("v6"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(*reply, bytes("echo:v6"));
  ASSERT_EQ(server.targets().size(), 1u);
  EXPECT_EQ(server.targets()[0].addr, *IpAddr::parse("2001:db8::7"));  // ATYP 4
}

TEST_F(UdpRelaySocks5, FakeIpDestinationGoesByName) {
  ProxyConfig config;
  config.dns = DnsMode::kFakeIp;
  MiniSocks5& server = start_socks5({}, config);
  // Resolve through the relay's fake-IP DNS first.
  const SocketId q = client_socket(Endpoint{Ipv4Addr(10, 0, 0, 53), 53});
  const Bytes query = *dns::build_query(9, "game.example", dns::kTypeA);
  const auto answer = round_trip(q, query);
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->size(), query.size() + 16);
  const Ipv4Addr fake((*answer)[answer->size() - 4], (*answer)[answer->size() - 3],
                      (*answer)[answer->size() - 2], (*answer)[answer->size() - 1]);
  const Endpoint dst{fake, 27015};
  const SocketId s = client_socket(dst);
  Endpoint from;
  const auto reply = round_trip(s, bytes("join"), &from);
  ASSERT_TRUE(reply);
  EXPECT_EQ(*reply, bytes("echo:join"));
  EXPECT_EQ(from, dst);
  ASSERT_EQ(server.targets().size(), 1u);
  EXPECT_EQ(server.targets()[0].domain, "game.example");  // ATYP 3
  EXPECT_EQ(server.targets()[0].port, 27015);
  EXPECT_EQ(sink_.records().rbegin()->second.domain, "game.example");
}

TEST_F(UdpRelaySocks5, FragmentsFromTheRelayAreDropped) {
  start_socks5({.fragment_first = true});
  const SocketId s = client_socket(Endpoint{Ipv4Addr(198, 51, 100, 8), 7});
  const auto reply = round_trip(s, bytes("f"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(*reply, bytes("echo:f"));
  // Nothing else arrives: the FRAG=1 copy was dropped (RFC 1928 §7).
  run_until([] { return false; }, 100ms);
  uint8_t buf[64];
  std::error_code ec;
  client_->recv_from(s, buf, ec);
  EXPECT_EQ(ec, std::errc::operation_would_block);
  EXPECT_EQ(counter("udp.drop.socks5-fragment"), 1u);
  EXPECT_EQ(counter("udp.datagrams.down"), 1u);
}

TEST_F(UdpRelaySocks5, FlowEndsWithItsControlConnection) {
  MiniSocks5& server = start_socks5({});
  const SocketId s = client_socket(Endpoint{Ipv4Addr(198, 51, 100, 9), 9});
  ASSERT_TRUE(round_trip(s, bytes("x")));
  server.close_control();  // RFC 1928 §7: the association ends with the TCP connection
  EXPECT_TRUE(run_until([&] { return relay_->flow_count() == 0; }));
  EXPECT_EQ(sink_.only().end, "upstream-closed");
}

TEST_F(UdpRelaySocks5, RefusedAssociationEndsTheFlow) {
  MiniSocks5& server = start_socks5({.rep = 2});  // connection not allowed by ruleset
  const SocketId s = client_socket(Endpoint{Ipv4Addr(198, 51, 100, 10), 10});
  EXPECT_FALSE(round_trip(s, bytes("x"), nullptr, 300ms));
  EXPECT_TRUE(server.associated());
  EXPECT_TRUE(server.udp_senders().empty());
  EXPECT_EQ(sink_.only().end, "refused");
  EXPECT_EQ(relay_->flow_count(), 0u);
}

TEST_F(UdpRelaySocks5, WrongPasswordEndsTheFlow) {
  ProxyConfig config;
  start_socks5({.credentials = Credentials{"user", "right"}}, config);
  config_.credentials = Credentials{"user", "wrong"};
  const SocketId s = client_socket(Endpoint{Ipv4Addr(198, 51, 100, 11), 11});
  EXPECT_FALSE(round_trip(s, bytes("x"), nullptr, 300ms));
  EXPECT_EQ(sink_.only().end, "upstream-error");
}

TEST_F(UdpRelaySocks5, ServerNotListeningEndsTheFlow) {
  start_socks5({});
  server_.reset();  // its port is closed now: the control connection is refused
  const SocketId s = client_socket(Endpoint{Ipv4Addr(198, 51, 100, 13), 13});
  EXPECT_FALSE(round_trip(s, bytes("x"), nullptr, 300ms));
  EXPECT_EQ(sink_.only().end, "upstream-error");
  EXPECT_EQ(counter("udp.upstream.failed"), 1u);
  EXPECT_EQ(relay_->flow_count(), 0u);
}

TEST_F(UdpRelaySocks5, SilentServerTimesOutAndQueueIsBounded) {
  ProxyConfig config;
  config.connect_timeout = 300ms;
  start_socks5({.silent = true}, config);
  const SocketId s = client_socket(Endpoint{Ipv4Addr(198, 51, 100, 12), 12});
  std::error_code ec;
  // More datagrams than the queue holds while the association is not up.
  for (size_t i = 0; i < UdpRelay::kMaxQueuedDatagrams + 10; ++i) {
    client_->send_to(s, bytes("q"), nullptr, ec);
  }
  EXPECT_TRUE(run_until([&] { return relay_->flow_count() == 0; }, 3s));
  EXPECT_EQ(sink_.only().end, "timeout");
  EXPECT_EQ(counter("udp.drop.queue-full"), 10u);
}

}  // namespace
}  // namespace utcp::proxy::test
