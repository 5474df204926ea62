// SPDX-License-Identifier: BSD-2-Clause
// UdpRelay through SOCKS5 (RFC 1928 §7): a small SOCKS5 server on loopback, run by the relay's
// own loop, takes UDP ASSOCIATEs (with and without RFC 1929 authentication, several at once) and
// echoes each wrapped datagram back wrapped. Checked: the request names the datagrams' real
// source, the header carries the original destination (or the fake IP's name, ATYP 3), replies
// come back from the original destination, fragments are dropped, the flow ends with its control
// connection, a refusing server and a silent one end the flow. One association serves all flows
// of a client address (each reply back to its own flow, DNS by query ID), its close ends them
// all, and it outlives them by --udp-timeout only.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
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
    bool plain_echo = false;                 // reply with the payload as it came (DNS IDs)
    size_t hold = 0;  // answer only once this many datagrams came, then all, the last first
  };

  MiniSocks5(EventLoop& loop, Options options) : loop_(loop), options_(std::move(options)) {
    listen_fd_ = bound_socket(SOCK_STREAM, tcp_);
    EXPECT_EQ(::listen(listen_fd_, 8), 0);
    udp_fd_ = bound_socket(SOCK_DGRAM, udp_);
    loop_.add_fd(listen_fd_, EPOLLIN, [this](uint32_t) {
      const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c < 0) return;
      ++accepted_;
      conns_[c] = Conn{};
      loop_.add_fd(c, EPOLLIN, [this, c](uint32_t) { on_control(c); });
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
  // Closes every control connection (each ends its association, RFC 1928 §7).
  void close_control() {
    while (!conns_.empty()) close_conn(conns_.begin()->first);
  }
  int accepted() const { return accepted_; }
  int open_controls() const { return static_cast<int>(conns_.size()); }
  bool associated() const { return associated_; }
  const Endpoint& requested_source() const { return requested_source_; }
  const std::vector<Endpoint>& udp_senders() const { return udp_senders_; }
  const std::vector<Target>& targets() const { return targets_; }
  const std::vector<Bytes>& payloads() const { return payloads_; }

 private:
  enum class Phase { kGreeting, kAuth, kRequest, kDone };
  struct Conn {
    Phase phase = Phase::kGreeting;
    Bytes in;
  };

  void close_conn(int fd) {
    loop_.remove_fd(fd);
    ::close(fd);
    conns_.erase(fd);
  }

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

  void reply(int conn, std::initializer_list<uint8_t> b) {
    const Bytes out(b);
    EXPECT_EQ(::send(conn, out.data(), out.size(), MSG_NOSIGNAL), static_cast<ssize_t>(b.size()));
  }

  void on_control(int conn) {
    uint8_t buf[512];
    const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
    if (n <= 0) {
      if (n == 0) close_conn(conn);
      return;
    }
    Phase& phase = conns_[conn].phase;
    Bytes& in = conns_[conn].in;
    in.insert(in.end(), buf, buf + n);
    if (options_.silent) return;
    for (bool progress = true; progress;) {
      progress = false;
      if (phase == Phase::kGreeting && in.size() >= 2 && in.size() >= 2u + in[1]) {
        const uint8_t want = options_.credentials ? 2 : 0;
        const bool offered =
            std::find(in.begin() + 2, in.begin() + 2 + in[1], want) != in.begin() + 2 + in[1];
        reply(conn, {5, static_cast<uint8_t>(offered ? want : 0xff)});
        in.erase(in.begin(), in.begin() + 2 + in[1]);
        phase = options_.credentials ? Phase::kAuth : Phase::kRequest;
        progress = true;
      } else if (phase == Phase::kAuth && in.size() >= 2 && in.size() >= 3u + in[1] &&
                 in.size() >= 3u + in[1] + in[2 + in[1]]) {
        const size_t ulen = in[1], plen = in[2 + ulen];
        const std::string user(in.begin() + 2, in.begin() + 2 + static_cast<long>(ulen));
        const std::string pass(in.begin() + 3 + static_cast<long>(ulen),
                               in.begin() + 3 + static_cast<long>(ulen + plen));
        const bool ok = user == options_.credentials->user && pass == options_.credentials->pass;
        reply(conn, {1, static_cast<uint8_t>(ok ? 0 : 1)});  // RFC 1929 §2
        in.erase(in.begin(), in.begin() + 3 + static_cast<long>(ulen + plen));
        phase = Phase::kRequest;
        progress = ok;
      } else if (phase == Phase::kRequest && in.size() >= 10) {
        EXPECT_EQ(in[1], 3) << "not UDP ASSOCIATE";
        EXPECT_EQ(in[3], 1) << "the request's DST is not an IPv4 address";
        requested_source_ = Endpoint{Ipv4Addr(in[4], in[5], in[6], in[7]),
                                     static_cast<uint16_t>(in[8] << 8 | in[9])};
        const uint32_t bnd = options_.bnd_unspecified ? 0 : udp_.addr.v4().value;
        reply(conn, {5, options_.rep, 0, 1, static_cast<uint8_t>(bnd >> 24),
                     static_cast<uint8_t>(bnd >> 16), static_cast<uint8_t>(bnd >> 8),
                     static_cast<uint8_t>(bnd), static_cast<uint8_t>(udp_.port >> 8),
                     static_cast<uint8_t>(udp_.port)});
        in.clear();
        phase = Phase::kDone;
        associated_ = true;
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
    payloads_.emplace_back(d->payload.begin(), d->payload.end());
    Bytes payload = options_.plain_echo ? Bytes() : bytes("echo:");
    payload.insert(payload.end(), d->payload.begin(), d->payload.end());
    Bytes out;
    encode_socks5_udp(d->address, payload, out);
    if (options_.fragment_first) {
      Bytes frag = out;
      frag[2] = 1;  // FRAG 1: the relay does not reassemble, so it must drop this
      ::sendto(udp_fd_, frag.data(), frag.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
    }
    held_.push_back(std::move(out));
    if (held_.size() < options_.hold) return;
    for (; !held_.empty(); held_.pop_back()) {
      ::sendto(udp_fd_, held_.back().data(), held_.back().size(), 0,
               reinterpret_cast<sockaddr*>(&from), flen);
    }
  }

  EventLoop& loop_;
  Options options_;
  int listen_fd_ = -1;
  int udp_fd_ = -1;
  std::map<int, Conn> conns_;  // control connections by descriptor
  int accepted_ = 0;
  bool associated_ = false;
  Endpoint tcp_;
  Endpoint udp_;
  Endpoint requested_source_;
  std::vector<Endpoint> udp_senders_;
  std::vector<Target> targets_;
  std::vector<Bytes> payloads_;
  std::vector<Bytes> held_;  // replies not sent yet (Options::hold)
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

// Flows from one client address to different destinations ride one association: one control
// connection, one relay socket, each reply back to its own flow.
TEST_F(UdpRelaySocks5, FlowsOfOneClientShareOneAssociation) {
  MiniSocks5& server = start_socks5({});
  std::vector<Endpoint> dsts;
  for (uint8_t i = 1; i <= 5; ++i) dsts.push_back(Endpoint{Ipv4Addr(198, 51, 100, i), 7000});
  dsts.push_back(Endpoint{Ipv4Addr(203, 0, 113, 9), 53000});
  std::vector<SocketId> socks;
  for (const Endpoint& d : dsts) socks.push_back(client_socket(d));
  std::error_code ec;
  for (size_t i = 0; i < socks.size(); ++i) {  // all out before any reply is read
    client_->send_to(socks[i], bytes("n" + std::to_string(i)), nullptr, ec);
  }
  std::vector<std::optional<Bytes>> got(socks.size());
  run_until([&] {
    for (size_t i = 0; i < socks.size(); ++i) {
      uint8_t buf[256];
      std::error_code rec;
      Endpoint from;
      const size_t n = client_->recv_from(socks[i], buf, rec, &from);
      if (!rec) {
        EXPECT_EQ(from, dsts[i]);
        got[i] = Bytes(buf, buf + n);
      }
    }
    return std::all_of(got.begin(), got.end(), [](const auto& g) { return g.has_value(); });
  });
  for (size_t i = 0; i < socks.size(); ++i) {
    ASSERT_TRUE(got[i]) << "flow " << i << " got no reply";
    EXPECT_EQ(*got[i], bytes("echo:n" + std::to_string(i))) << "flow " << i;
  }
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(relay_->association_count(), 1u);
  EXPECT_EQ(counter("udp.socks5.associations"), 1u);
  EXPECT_EQ(relay_->flow_count(), socks.size());
  // Every datagram came from the one relay socket the request announced.
  for (const Endpoint& from : server.udp_senders()) EXPECT_EQ(from, server.requested_source());
  EXPECT_EQ(setup_fds_.size(), 2u);
}

// A stub resolver's queries, each from a port of its own to the same server: one association,
// each answer to the flow whose query had its ID.
TEST_F(UdpRelaySocks5, DnsQueriesFromManyPortsShareOneAssociation) {
  MiniSocks5& server = start_socks5({.plain_echo = true});
  const Endpoint dns_server{Ipv4Addr(198, 51, 100, 53), 53};
  constexpr size_t kQueries = 12;
  std::vector<SocketId> socks;
  std::vector<Bytes> queries;
  std::error_code ec;
  for (size_t i = 0; i < kQueries; ++i) {
    socks.push_back(client_socket(dns_server));
    queries.push_back(*dns::build_query(static_cast<uint16_t>(0x1000 + i * 7),
                                        "host" + std::to_string(i) + ".example", dns::kTypeA));
    client_->send_to(socks.back(), queries.back(), nullptr, ec);
  }
  size_t answered = 0;
  run_until([&] {
    for (size_t i = 0; i < kQueries; ++i) {
      uint8_t buf[512];
      std::error_code rec;
      const size_t n = client_->recv_from(socks[i], buf, rec);
      if (!rec) {
        EXPECT_EQ(Bytes(buf, buf + n), queries[i]) << "query " << i << " got another's answer";
        ++answered;
      }
    }
    return answered == kQueries;
  });
  EXPECT_EQ(answered, kQueries);
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(relay_->association_count(), 1u);
  EXPECT_EQ(counter("udp.drop.socks5-no-flow"), 0u);
}

// Two resolvers of one client ask one server with the same ID at once: the later query goes
// upstream with a free ID, and each answer (sent in reverse order) reaches its own port with
// the ID its resolver chose.
TEST_F(UdpRelaySocks5, SameDnsIdFromTwoPortsGoesUpstreamAsTwoIds) {
  MiniSocks5& server = start_socks5({.plain_echo = true, .hold = 3});
  const Endpoint dns_server{Ipv4Addr(198, 51, 100, 53), 53};
  const std::vector<SocketId> socks = {client_socket(dns_server), client_socket(dns_server),
                                       client_socket(dns_server)};
  std::vector<Bytes> queries;
  std::error_code ec;
  for (size_t i = 0; i < socks.size(); ++i) {
    queries.push_back(
        *dns::build_query(0x4242, "same" + std::to_string(i) + ".example", dns::kTypeA));
    client_->send_to(socks[i], queries[i], nullptr, ec);
    ASSERT_FALSE(ec) << ec.message();
  }
  std::vector<std::optional<Bytes>> answers(socks.size());
  run_until([&] {
    for (size_t i = 0; i < socks.size(); ++i) {
      uint8_t buf[512];
      std::error_code rec;
      const size_t n = client_->recv_from(socks[i], buf, rec);
      if (!rec) answers[i] = Bytes(buf, buf + n);
    }
    return std::all_of(answers.begin(), answers.end(), [](const auto& a) { return a.has_value(); });
  });
  for (size_t i = 0; i < socks.size(); ++i) {
    ASSERT_TRUE(answers[i].has_value()) << "query " << i << " got no answer";
    EXPECT_EQ(*answers[i], queries[i]) << "query " << i << " got another's answer or ID";
  }
  // Upstream, the three queries carried three different IDs, the first to go its own.
  ASSERT_EQ(server.payloads().size(), 3u);
  std::set<uint16_t> ids;
  size_t unchanged = 0;
  for (const Bytes& p : server.payloads()) {
    ids.insert(static_cast<uint16_t>(p[0] << 8 | p[1]));
    unchanged += std::count(queries.begin(), queries.end(), p);
  }
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(unchanged, 1u);
  EXPECT_EQ(counter("udp.socks5.dns-ids-rewritten"), 2u);
  EXPECT_EQ(counter("udp.drop.socks5-no-flow"), 0u);
  EXPECT_EQ(relay_->association_count(), 1u);
}

// Two ports of one client to one (non-DNS) destination: the replies' header could not tell
// them apart, so the second gets an association of its own.
TEST_F(UdpRelaySocks5, TwoPortsToOneDestinationGetTwoAssociations) {
  MiniSocks5& server = start_socks5({});
  const Endpoint dst{Ipv4Addr(198, 51, 100, 77), 4000};
  const SocketId a = client_socket(dst);
  const SocketId b = client_socket(dst);
  const auto ra = round_trip(a, bytes("a"));
  const auto rb = round_trip(b, bytes("b"));
  ASSERT_TRUE(ra && rb);
  EXPECT_EQ(*ra, bytes("echo:a"));
  EXPECT_EQ(*rb, bytes("echo:b"));
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_EQ(relay_->association_count(), 2u);
  // A third flow to another destination joins the first association.
  ASSERT_TRUE(round_trip(client_socket(Endpoint{Ipv4Addr(198, 51, 100, 78), 4000}), bytes("c")));
  EXPECT_EQ(server.accepted(), 2);
}

// The association's end (RFC 1928 §7: its control connection closed) ends every flow on it.
TEST_F(UdpRelaySocks5, AssociationCloseEndsAllItsFlows) {
  MiniSocks5& server = start_socks5({});
  for (uint8_t i = 1; i <= 3; ++i) {
    ASSERT_TRUE(round_trip(client_socket(Endpoint{Ipv4Addr(198, 51, 100, i), 99}), bytes("x")));
  }
  ASSERT_EQ(relay_->flow_count(), 3u);
  server.close_control();
  EXPECT_TRUE(run_until([&] { return relay_->flow_count() == 0; }));
  EXPECT_EQ(relay_->association_count(), 0u);
  ASSERT_EQ(sink_.records().size(), 3u);
  for (const auto& [id, r] : sink_.records()) EXPECT_EQ(r.end, "upstream-closed") << id;
}

// After its last flow ended the association waits --udp-timeout for the client's next flow
// (which reuses it), then closes its control connection.
TEST_F(UdpRelaySocks5, AssociationLingersThenCloses) {
  ProxyConfig config;
  config.udp_idle_timeout = 400ms;
  MiniSocks5& server = start_socks5({}, config);
  ASSERT_TRUE(round_trip(client_socket(Endpoint{Ipv4Addr(198, 51, 100, 1), 5}), bytes("1")));
  ASSERT_TRUE(run_until([&] { return relay_->flow_count() == 0; }));  // idle
  EXPECT_EQ(relay_->association_count(), 1u);
  EXPECT_EQ(server.open_controls(), 1);
  ASSERT_TRUE(round_trip(client_socket(Endpoint{Ipv4Addr(198, 51, 100, 2), 5}), bytes("2")));
  EXPECT_EQ(server.accepted(), 1);  // reused
  ASSERT_TRUE(run_until([&] { return relay_->association_count() == 0; }));
  EXPECT_EQ(relay_->flow_count(), 0u);
  EXPECT_TRUE(run_until([&] { return server.open_controls() == 0; }));  // the server saw EOF
  EXPECT_EQ(server.accepted(), 1);
}

}  // namespace
}  // namespace utcp::proxy::test
