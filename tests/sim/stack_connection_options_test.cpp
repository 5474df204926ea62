// SPDX-License-Identifier: BSD-2-Clause
// Per-connection parameters of RFC 9293 §3.9.1 at the Stack, checked on the packets the
// stacks emit: the local address of an active OPEN (MUST-43), the Diffserv field
// (MUST-48, SHLD-21, SHLD-22), soft errors for the application (SHLD-25, SHLD-9), and a new
// SYN reopening a connection in TIME-WAIT (MAY-2, SHLD-4). Two stacks on virtual time.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <vector>

#include "support/counters.hpp"
#include "support/sim_net.hpp"
#include "utcp/memory_link.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace utcp::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// What one emitted packet looked like on the wire.
struct Sent {
  uint8_t dscp = 0;
  uint8_t ecn = 0;
  uint8_t flags = 0;
  uint32_t seq = 0;
  size_t len = 0;  // TCP payload bytes
  std::vector<uint8_t> bytes;
};

// Passes packets through to the link and records every transmitted one; `drop` may lose some.
class Recorder : public dev::Device {
 public:
  explicit Recorder(dev::Device& inner) : inner_(inner) {}
  std::vector<Sent> sent;
  std::function<bool(const Sent&)> drop;

  size_t mtu() const override { return inner_.mtu(); }
  size_t receive(std::span<dev::PacketSlot> slots, Instant now) override {
    return inner_.receive(slots, now);
  }
  size_t transmit(std::span<const std::span<const uint8_t>> packets, Instant now) override {
    for (auto p : packets) {
      Sent s;
      s.bytes.assign(p.begin(), p.end());
      auto ip = wire::Ipv4Packet::parse(p);
      EXPECT_TRUE(ip.ok());
      if (!ip.ok()) continue;
      s.dscp = ip->dscp();
      s.ecn = ip->ecn();
      if (auto tcp = wire::TcpPacket::parse(ip->payload(), ip->src(), ip->dst()); tcp.ok()) {
        s.flags = tcp->flags();
        s.seq = tcp->seq().raw();
        s.len = tcp->payload().size();
      }
      const bool lost = drop && drop(s);
      sent.push_back(std::move(s));
      if (!lost) inner_.transmit_one(p, now);
    }
    return packets.size();
  }
  Instant next_deadline() const override { return inner_.next_deadline(); }

 private:
  dev::Device& inner_;
};

// Two stacks whose output is recorded: A (10.77.0.2) and B (10.77.0.1).
struct RecordedNet {
  explicit RecordedNet(const SimNetConfig& cfg = {})
      : ra(link.a()), rb(link.b()), sa(ra, cfg.a), sb(rb, cfg.b) {}
  dev::MemoryLink link;
  Recorder ra, rb;
  Stack sa, sb;
  Instant now{};

  Stack& a() { return sa; }
  Stack& b() { return sb; }

  template <class Pred>
  bool run_until(Pred pred, Duration budget) {
    return run_pair_until(sa, sb, now, pred, budget);
  }
  void advance(Duration d) {
    run_until([] { return false; }, d);
  }
};

using Flag = uint8_t;
constexpr Flag kSyn = wire::tcp_flag::kSyn, kAck = wire::tcp_flag::kAck,
               kFin = wire::tcp_flag::kFin, kRst = wire::tcp_flag::kRst;

bool is_pure_ack(const Sent& s) {
  return s.flags == kAck && s.len == 0;
}

// ---- MUST-43: the local address of an active OPEN ----

TEST(StackConnectOptions, LocalAddressUnspecifiedOrOwnIsAcceptedAnyOtherRefused) {
  SimNet net;
  std::error_code ec;
  SocketId l = net.b().listen(80, ec);
  ASSERT_FALSE(ec);
  ConnectOptions any;  // 0.0.0.0
  SocketId c1 = net.a().connect(net.b().config().address, 80, any, ec);
  ASSERT_FALSE(ec) << ec.message();
  ConnectOptions own;
  own.local_addr = net.a().config().address;
  own.local_port = 41000;
  SocketId c2 = net.a().connect(net.b().config().address, 80, own, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(net.a().local_endpoint(c2).addr, net.a().config().address);
  EXPECT_EQ(net.a().local_endpoint(c2).port, 41000);
  ConnectOptions foreign;
  foreign.local_addr = wire::Ipv4Addr(10, 77, 0, 9);
  EXPECT_EQ(net.a().connect(net.b().config().address, 80, foreign, ec), kNoSocket);
  EXPECT_EQ(ec, std::make_error_code(std::errc::address_not_available));
  EXPECT_EQ(net.a().connection_count(), 2u);  // the refused OPEN created nothing
  int accepted = 0;
  ASSERT_TRUE(net.run_until(
      [&] {
        while (net.b().accept(l, ec) != kNoSocket) ++accepted;
        return accepted == 2 && (net.a().readiness(c1) & ready::kConnected) &&
               (net.a().readiness(c2) & ready::kConnected);
      },
      seconds(5)));
}

// ---- MUST-48, SHLD-21, SHLD-22: the Diffserv field ----

constexpr uint8_t kEf = 46 << 2;    // DSCP 46 (Expedited Forwarding), RFC 3246
constexpr uint8_t kAf11 = 10 << 2;  // DSCP 10, RFC 2597

// Set before the OPEN, it is on every segment the connection sends: SYN, data, a
// retransmission, pure ACKs, FIN; changed during the connection, every later segment carries
// the new value, down to the RST of an abort. The ECN bits of the value are ignored.
TEST(StackTos, EverySegmentCarriesTheDiffservFieldAndAChangeAppliesAtOnce) {
  RecordedNet net;
  std::error_code ec;
  ConnectOptions opts;
  opts.tos = kEf | 0x03;  // the low (ECN) bits must not reach the header
  const SimPair pair = establish(net, 80, opts, seconds(5));
  ASSERT_NE(pair.server, kNoSocket);
  const SocketId c = pair.client, s = pair.server;
  EXPECT_EQ(net.a().tos(c), kEf);
  // A's first data segment is lost once: it is retransmitted.
  bool lost_one = false;
  net.ra.drop = [&](const Sent& p) {
    if (lost_one || p.len == 0) return false;
    lost_one = true;
    return true;
  };
  std::vector<uint8_t> data(3000, 0x42), buf(8192);
  ASSERT_EQ(net.a().send(c, data, ec), data.size());
  ASSERT_EQ(net.b().send(s, data, ec), data.size());  // A answers B's data with ACKs
  size_t got_a = 0, got_b = 0;
  ASSERT_TRUE(net.run_until(
      [&] {
        got_b += net.b().recv(s, buf, ec);
        got_a += net.a().recv(c, buf, ec);
        return got_a == data.size() && got_b == data.size();
      },
      seconds(10)));
  net.a().shutdown_write(c, ec);
  net.advance(milliseconds(100));
  const size_t phase1 = net.ra.sent.size();

  net.a().set_tos(c, kAf11 | 0x01);  // SHLD-21: changed during the connection
  EXPECT_EQ(net.a().tos(c), kAf11);
  ASSERT_EQ(net.b().send(s, data, ec), data.size());
  got_a = 0;
  ASSERT_TRUE(net.run_until(
      [&] {
        got_a += net.a().recv(c, buf, ec);
        return got_a == data.size();
      },
      seconds(10)));
  net.a().abort(c);
  net.advance(milliseconds(10));

  bool syn = false, fin = false, ack = false, rst = false;
  std::vector<uint32_t> data_seqs;
  for (size_t i = 0; i < net.ra.sent.size(); ++i) {
    const Sent& p = net.ra.sent[i];
    const uint8_t want = i < phase1 ? kEf : kAf11;
    EXPECT_EQ(p.dscp, want >> 2) << "packet " << i << " flags " << int{p.flags};
    EXPECT_EQ(p.ecn, 0) << "packet " << i;
    if (i < phase1) {
      syn |= (p.flags & kSyn) != 0;
      fin |= (p.flags & kFin) != 0;
      if (p.len > 0) data_seqs.push_back(p.seq);
    } else {
      ack |= is_pure_ack(p);
      rst |= (p.flags & kRst) != 0;
    }
  }
  EXPECT_TRUE(syn && fin && ack && rst) << syn << fin << ack << rst;
  std::sort(data_seqs.begin(), data_seqs.end());
  EXPECT_NE(std::adjacent_find(data_seqs.begin(), data_seqs.end()), data_seqs.end())
      << "no retransmission was seen";
  // B never set a value: its packets carry zero.
  for (const Sent& p : net.rb.sent) EXPECT_EQ(p.dscp, 0);
}

// The ECN codepoint stays the ECN logic's (RFC 3168): ECT(0) on data, next to the Diffserv
// field the application chose.
TEST(StackTos, EcnCodepointSitsBesideTheDiffservField) {
  SimNetConfig cfg;
  cfg.a.tcp.ecn = true;
  cfg.b.tcp.ecn = true;
  RecordedNet net(cfg);
  std::error_code ec;
  ConnectOptions opts;
  opts.tos = kEf | 0x03;
  const SimPair pair = establish(net, 80, opts, seconds(5));
  ASSERT_NE(pair.server, kNoSocket);
  const SocketId c = pair.client, s = pair.server;
  std::vector<uint8_t> data(2000, 1), buf(4096);
  ASSERT_EQ(net.a().send(c, data, ec), data.size());
  size_t got = 0;
  ASSERT_TRUE(net.run_until(
      [&] {
        got += net.b().recv(s, buf, ec);
        return got == data.size();
      },
      seconds(5)));
  size_t data_packets = 0;
  for (const Sent& p : net.ra.sent) {
    EXPECT_EQ(p.dscp, kEf >> 2);
    if (p.len > 0) {
      ++data_packets;
      EXPECT_EQ(p.ecn, 0b10);  // ECT(0)
    } else {
      EXPECT_EQ(p.ecn, 0);  // RFC 3168 §6.1.1/§6.1.4: not on SYN or pure ACK
    }
  }
  EXPECT_GT(data_packets, 0u);
}

// A listener's value is on its SYN-ACKs, and connections accepted from it inherit it.
TEST(StackTos, AcceptedConnectionsInheritTheListenersValue) {
  RecordedNet net;
  std::error_code ec;
  SocketId l = net.b().listen(80, ec);
  net.b().set_tos(l, kAf11);
  EXPECT_EQ(net.b().tos(l), kAf11);
  SocketId c = net.a().connect(net.b().config().address, 80, ec);
  const SocketId s = accept_connected(net, l, c, seconds(5));
  ASSERT_NE(s, kNoSocket);
  EXPECT_EQ(net.b().tos(s), kAf11);
  const uint8_t msg[] = "inherited";
  ASSERT_EQ(net.b().send(s, msg, ec), sizeof msg);
  net.advance(milliseconds(100));
  bool synack = false, data = false;
  for (const Sent& p : net.rb.sent) {
    EXPECT_EQ(p.dscp, kAf11 >> 2);
    synack |= (p.flags & (kSyn | kAck)) == (kSyn | kAck);
    data |= p.len > 0;
  }
  EXPECT_TRUE(synack && data);
  for (const Sent& p : net.ra.sent) EXPECT_EQ(p.dscp, 0);  // the client set nothing
}

TEST(StackTos, CookieSynAckCarriesTheListenersValue) {
  // RFC 9293 §3.9.1.9 / RFC 4987 §3.6: a SYN-ACK answered statelessly with a SYN cookie is still
  // the listener's segment and carries its Diffserv field, as a queued SYN-ACK does.
  SimNetConfig cfg;
  cfg.b.syn_backlog = 0;  // every SYN is answered with a cookie
  RecordedNet net(cfg);
  std::error_code ec;
  SocketId l = net.b().listen(80, ec);
  net.b().set_tos(l, kAf11);
  SocketId c = net.a().connect(net.b().config().address, 80, ec);
  const SocketId s = accept_connected(net, l, c, seconds(5));
  ASSERT_NE(s, kNoSocket);
  uint64_t cookies = 0;
  for (auto [n, v] : net.b().counters()) {
    if (n == "tcp.syncookies.sent") cookies = v;
  }
  EXPECT_EQ(cookies, 1u);
  bool synack = false;
  for (const Sent& p : net.rb.sent) {
    if ((p.flags & (kSyn | kAck)) != (kSyn | kAck)) continue;
    synack = true;
    EXPECT_EQ(p.dscp, kAf11 >> 2);
    EXPECT_EQ(p.ecn, 0);  // a SYN-ACK is never ECN-capable (RFC 3168 §6.1.1)
  }
  EXPECT_TRUE(synack);
  EXPECT_EQ(net.b().tos(s), kAf11);
}

// ---- SHLD-25, SHLD-9: soft errors reach the application, the connection lives on ----

// An ICMP Destination Unreachable from a router between A and B, quoting `quoted`.
std::vector<uint8_t> icmp_unreachable(uint8_t code, const std::vector<uint8_t>& quoted,
                                      wire::Ipv4Addr to) {
  const std::span<const uint8_t> q(quoted.data(), std::min<size_t>(quoted.size(), 28));
  const wire::IcmpRepr icmp = wire::IcmpRepr::dest_unreachable(code, 0, q);
  std::vector<uint8_t> out(wire::kIpv4HeaderMin + icmp.total_len());
  wire::Ipv4Repr ip;
  ip.src = wire::Ipv4Addr(10, 77, 0, 254);
  ip.dst = to;
  ip.protocol = wire::ip_proto::kIcmp;
  ip.payload_len = static_cast<uint16_t>(icmp.total_len());
  EXPECT_GT(ip.emit(out), 0u);
  EXPECT_GT(icmp.emit(std::span(out).subspan(wire::kIpv4HeaderMin)), 0u);
  return out;
}

TEST(StackSoftError, IcmpUnreachableCodesZeroOneFiveAreReportedAndTheConnectionLives) {
  const std::pair<uint8_t, std::errc> cases[] = {{0, std::errc::network_unreachable},
                                                 {1, std::errc::host_unreachable},
                                                 {5, std::errc::operation_not_supported}};
  for (auto [code, want] : cases) {
    RecordedNet net;
    std::error_code ec;
    const SimPair pair = establish(net, 80, seconds(5));
    ASSERT_NE(pair.server, kNoSocket);
    const SocketId c = pair.client, s = pair.server;
    std::vector<std::pair<SocketId, uint32_t>> told;
    net.a().set_readiness_callback([&](SocketId id, uint32_t r) { told.emplace_back(id, r); });
    const uint8_t msg[] = {'x'};
    ASSERT_EQ(net.a().send(c, msg, ec), 1u);
    net.a().flush(net.now);
    ASSERT_FALSE(net.ra.sent.empty());
    EXPECT_FALSE(net.a().readiness(c) & ready::kSoftError);
    net.link.b().transmit_one(
        icmp_unreachable(code, net.ra.sent.back().bytes, net.a().config().address), net.now);
    net.a().process(net.now);
    EXPECT_TRUE(net.a().readiness(c) & ready::kSoftError) << int{code};
    EXPECT_FALSE(net.a().readiness(c) & ready::kError);
    ASSERT_FALSE(told.empty());
    EXPECT_EQ(told.back().first, c);
    EXPECT_TRUE(told.back().second & ready::kSoftError);
    EXPECT_EQ(net.a().take_soft_error(c), std::make_error_code(want)) << int{code};
    EXPECT_FALSE(net.a().take_soft_error(c));  // cleared by reading
    EXPECT_FALSE(net.a().readiness(c) & ready::kSoftError);
    EXPECT_EQ(net.a().state(c), tcp::State::kEstablished);
    uint8_t buf[4];
    ASSERT_TRUE(net.run_until([&] { return net.b().recv(s, buf, ec) == 1; }, seconds(5)));
  }
}

// SHLD-9: with every packet from A lost, the third retransmission (R1, default 3) is told as
// timed_out without closing; once the path heals the data goes through.
TEST(StackSoftError, RetransmissionsReachingR1AreToldWithoutClosing) {
  RecordedNet net;
  std::error_code ec;
  const SimPair pair = establish(net, 80, seconds(5));
  ASSERT_NE(pair.server, kNoSocket);
  const SocketId c = pair.client, s = pair.server;
  net.advance(seconds(1));
  bool path_down = true;
  size_t copies = 0;
  net.ra.drop = [&](const Sent& p) {
    if (p.len > 0) ++copies;
    return path_down;
  };
  const uint8_t msg[] = "hello";
  ASSERT_EQ(net.a().send(c, msg, ec), sizeof msg);
  ASSERT_TRUE(
      net.run_until([&] { return (net.a().readiness(c) & ready::kSoftError) != 0; }, seconds(30)));
  EXPECT_GE(copies, 4u);  // the original and (at least) three retransmissions
  EXPECT_EQ(net.a().state(c), tcp::State::kEstablished);
  EXPECT_FALSE(net.a().readiness(c) & ready::kError);
  EXPECT_EQ(net.a().take_soft_error(c), std::make_error_code(std::errc::timed_out));
  path_down = false;
  uint8_t buf[16];
  size_t got = 0;
  ASSERT_TRUE(net.run_until(
      [&] {
        got += net.b().recv(s, std::span(buf).subspan(got), ec);
        return got == sizeof msg;
      },
      seconds(60)));
  EXPECT_EQ(net.a().state(c), tcp::State::kEstablished);
  EXPECT_FALSE(net.a().error(c));
}

// ---- MAY-2, SHLD-4: a new SYN for a connection in TIME-WAIT ----

// B closes first, so B holds the connection in TIME-WAIT for 2*MSL (60 s). A connects again
// from the same port a few seconds later: as in Linux, the SYN (newer timestamp, higher
// sequence number) opens a new incarnation at once instead of waiting out the 60 s.
TEST(StackTimeWait, NewSynFromTheSamePortOpensANewIncarnation) {
  for (bool timestamps : {true, false}) {
    SimNetConfig cfg;
    cfg.a.tcp.timestamps = timestamps;
    SimNet net(cfg);
    std::error_code ec;
    ConnectOptions from_40000;
    from_40000.local_port = 40000;
    const SimPair pair = establish(net, 80, from_40000, seconds(5));
    ASSERT_NE(pair.server, kNoSocket);
    const SocketId c = pair.client, s = pair.server;
    const uint8_t msg[] = "first incarnation";
    ASSERT_EQ(net.a().send(c, msg, ec), sizeof msg);
    uint8_t buf[64];
    ASSERT_TRUE(net.run_until([&] { return net.b().recv(s, buf, ec) == sizeof msg; }, seconds(5)));
    net.b().shutdown_write(s, ec);  // B closes first: B will be in TIME-WAIT
    ASSERT_TRUE(net.run_until([&] { return net.a().readiness(c) & ready::kHangup; }, seconds(5)));
    net.a().close(c);
    ASSERT_TRUE(
        net.run_until([&] { return net.b().state(s) == tcp::State::kTimeWait; }, seconds(5)));
    net.b().close(s);
    net.advance(seconds(2));
    ASSERT_EQ(net.b().connection_count(), 1u);  // the TIME-WAIT connection

    SocketId c2 = net.a().connect(net.b().config().address, 80, ec, 40000);
    ASSERT_FALSE(ec) << ec.message();
    const SocketId s2 = accept_connected(net, pair.listener, c2, seconds(5));
    ASSERT_NE(s2, kNoSocket) << "timestamps " << timestamps;
    EXPECT_EQ(counter(net.b(), "tcp.time-wait-reopened"), 1u);
    EXPECT_EQ(net.b().remote_endpoint(s2).port, 40000);
    const uint8_t msg2[] = "second incarnation";
    ASSERT_EQ(net.a().send(c2, msg2, ec), sizeof msg2);
    ASSERT_TRUE(
        net.run_until([&] { return net.b().recv(s2, buf, ec) == sizeof msg2; }, seconds(5)));
    EXPECT_EQ(0, std::memcmp(buf, msg2, sizeof msg2));
    EXPECT_EQ(net.b().connection_count(), 1u);  // the old TCB is gone
  }
}

}  // namespace
}  // namespace utcp::test
