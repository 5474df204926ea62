// SPDX-License-Identifier: BSD-2-Clause
// UDP sockets, sans-IO: bind rules, ephemeral ports, demultiplexing (connected, specific,
// wildcard; both families), the bounded queue's drops, recv truncation, send building real
// datagrams, and ICMP errors for connected sockets only (RFC 1122 §4.1.3.3).
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "udp/udp_socket_table.hpp"
#include "wire/udp.hpp"

namespace utcp::udp {
namespace {

const IpAddr kMe4(Ipv4Addr(10, 77, 0, 2));
const IpAddr kMe4b(Ipv4Addr(10, 77, 0, 3));
const IpAddr kPeer4(Ipv4Addr(10, 77, 0, 1));
const IpAddr kMe6(Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 2));
const IpAddr kPeer6(Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 1));
const IpAddr kAny4{};
const IpAddr kAny6{Ipv6Addr()};

uint64_t test_seed() {
  static const uint64_t seed = [] {
    const uint64_t s = std::random_device{}();
    std::printf("seed %llu\n", static_cast<unsigned long long>(s));
    return s;
  }();
  return seed;
}

// "<message>". Appended, not `"<" + s`: GCC 12 at -O3 reports that as an overlapping memcpy
// (-Wrestrict, a false positive).
std::string in_angles(const std::error_code& ec) {
  std::string e = "<";
  e += ec.message();
  e += '>';
  return e;
}

struct Table {
  UdpSocketTable t;
  explicit Table(UdpConfig c = {}) : t((c.seed = test_seed(), c)) {
    t.set_local_addresses({kMe4, kMe4b, kMe6});
  }
  UdpId bound(const IpAddr& a, uint16_t port) {
    UdpId id = t.open();
    EXPECT_FALSE(t.bind(id, {a, port})) << a.to_string() << ":" << port;
    return id;
  }
  // A datagram from `from` to `to` as the peer would send it (valid checksum).
  UdpInput deliver(const UdpEndpoint& from, const UdpEndpoint& to, const std::string& text,
                   uint8_t tclass = 0) {
    std::vector<uint8_t> payload(text.begin(), text.end());
    wire::UdpRepr r{.src_port = from.port, .dst_port = to.port, .payload = payload};
    std::vector<uint8_t> d(r.total_len());
    EXPECT_EQ(r.emit(d, from.addr, to.addr), d.size());
    return t.input(from.addr, to.addr, tclass, d);
  }
  std::string read(UdpId id, Received* out = nullptr) {
    std::vector<uint8_t> buf(70000);
    std::error_code ec;
    auto r = t.recv(id, buf, ec);
    if (!r) return in_angles(ec);
    if (out) *out = *r;
    return std::string(buf.begin(), buf.begin() + static_cast<long>(r->copied));
  }
};

TEST(UdpSockets, BindAndReceiveWithSourceDestinationAndTrafficClass) {
  Table tb;
  const UdpId s = tb.bound(kMe4, 5353);
  EXPECT_EQ(tb.deliver({kPeer4, 40000}, {kMe4, 5353}, "query", 0xb9), UdpInput::kDelivered);
  EXPECT_TRUE(tb.t.readable(s));
  Received r;
  EXPECT_EQ(tb.read(s, &r), "query");
  EXPECT_EQ(r.info.src, (UdpEndpoint{kPeer4, 40000}));
  EXPECT_EQ(r.info.dst, (UdpEndpoint{kMe4, 5353}));
  EXPECT_EQ(r.info.traffic_class, 0xb9);
  EXPECT_EQ(r.info.ecn(), 1);
  EXPECT_FALSE(tb.t.readable(s));
  EXPECT_EQ(tb.read(s), in_angles(std::make_error_code(std::errc::operation_would_block)));
  EXPECT_EQ(tb.t.counters().in_delivered, 1u);
}

TEST(UdpSockets, NoSocketIsReportedForPortUnreachable) {
  Table tb;
  tb.bound(kMe4, 5353);
  EXPECT_EQ(tb.deliver({kPeer4, 40000}, {kMe4, 5354}, "x"), UdpInput::kNoSocket);
  // IPv6 sockets are v6-only: a v4 datagram to the same port finds none.
  Table tb6;
  tb6.bound(kAny6, 7000);
  EXPECT_EQ(tb6.deliver({kPeer4, 1}, {kMe4, 7000}, "x"), UdpInput::kNoSocket);
  EXPECT_EQ(tb6.deliver({kPeer6, 1}, {kMe6, 7000}, "x"), UdpInput::kDelivered);
  EXPECT_EQ(tb6.t.counters().in_no_port, 1u);
}

TEST(UdpSockets, MalformedDatagramsAreDroppedAndCounted) {
  Table tb;
  tb.bound(kAny4, 9);
  std::vector<uint8_t> d = {0x9c, 0x40, 0x00, 0x09, 0x00, 0x0c, 0x12, 0x34, 'a', 'b', 'c', 'd'};
  EXPECT_EQ(tb.t.input(kPeer4, kMe4, 0, d), UdpInput::kDropped);  // bad checksum
  d[4] = 0x00;
  d[5] = 0x20;  // Length past the payload
  EXPECT_EQ(tb.t.input(kPeer4, kMe4, 0, d), UdpInput::kDropped);
  EXPECT_EQ(tb.t.counters().in_bad_checksum, 1u);
  EXPECT_EQ(tb.t.counters().in_bad_length, 1u);
  EXPECT_EQ(tb.t.counters().in_delivered, 0u);
}

TEST(UdpSockets, BindRules) {
  Table tb;
  const UdpId a = tb.bound(kAny4, 6000);
  // Same family, overlapping: refused; another family: its own port space.
  UdpId b = tb.t.open();
  EXPECT_EQ(tb.t.bind(b, {kMe4, 6000}), std::errc::address_in_use);
  EXPECT_FALSE(tb.t.bind(b, {kAny6, 6000}));
  // A second bind of one socket is EINVAL; an address not ours EADDRNOTAVAIL.
  EXPECT_EQ(tb.t.bind(b, {kAny6, 6001}), std::errc::invalid_argument);
  UdpId c = tb.t.open();
  EXPECT_EQ(tb.t.bind(c, {IpAddr(Ipv4Addr(192, 0, 2, 1)), 6000}), std::errc::address_not_available);
  // Two specific addresses do not overlap.
  EXPECT_FALSE(tb.t.bind(c, {kMe4b, 6002}));
  UdpId d = tb.t.open();
  EXPECT_FALSE(tb.t.bind(d, {kMe4, 6002}));
  // Closing frees the port at once.
  tb.t.close(a);
  UdpId e = tb.t.open();
  EXPECT_FALSE(tb.t.bind(e, {kMe4, 6000}));
  // Stale handles are refused.
  EXPECT_FALSE(tb.t.valid(a));
  EXPECT_EQ(tb.t.bind(a, {kMe4, 6100}), std::errc::bad_file_descriptor);
}

TEST(UdpSockets, ReuseAddrNeedsBothSidesAndTheLaterBindReceives) {
  Table tb;
  UdpId a = tb.t.open();
  tb.t.set_reuse_addr(a, true);
  ASSERT_FALSE(tb.t.bind(a, {kAny4, 7000}));
  UdpId plain = tb.t.open();
  EXPECT_EQ(tb.t.bind(plain, {kAny4, 7000}), std::errc::address_in_use);
  UdpId b = tb.t.open();
  tb.t.set_reuse_addr(b, true);
  ASSERT_FALSE(tb.t.bind(b, {kAny4, 7000}));
  EXPECT_EQ(tb.deliver({kPeer4, 1}, {kMe4, 7000}, "to b"), UdpInput::kDelivered);
  EXPECT_EQ(tb.read(b), "to b");
  EXPECT_FALSE(tb.t.readable(a));
}

TEST(UdpSockets, MostSpecificSocketWins) {
  Table tb;
  const UdpId wild = tb.bound(kAny4, 8000);
  UdpId spec = tb.t.open();
  tb.t.set_reuse_addr(wild, true);
  tb.t.set_reuse_addr(spec, true);
  ASSERT_FALSE(tb.t.bind(spec, {kMe4, 8000}));
  UdpId conn = tb.t.open();
  tb.t.set_reuse_addr(conn, true);
  ASSERT_FALSE(tb.t.bind(conn, {kMe4, 8000}));
  ASSERT_FALSE(tb.t.connect(conn, {kPeer4, 9999}));
  // Bound before the others, the wildcard still loses to them for its address ...
  EXPECT_EQ(tb.deliver({kPeer4, 9999}, {kMe4, 8000}, "peer"), UdpInput::kDelivered);
  EXPECT_EQ(tb.deliver({kPeer4, 1234}, {kMe4, 8000}, "other"), UdpInput::kDelivered);
  EXPECT_EQ(tb.deliver({kPeer4, 1234}, {kMe4b, 8000}, "second address"), UdpInput::kDelivered);
  EXPECT_EQ(tb.read(conn), "peer");
  EXPECT_EQ(tb.read(spec), "other");
  EXPECT_EQ(tb.read(wild), "second address");
  EXPECT_FALSE(tb.t.readable(conn));
}

TEST(UdpSockets, ConnectedSocketHearsItsPeerOnly) {
  Table tb;
  UdpId s = tb.t.open();
  ASSERT_FALSE(tb.t.connect(s, {kPeer6, 53}));
  auto local = tb.t.local_endpoint(s);
  ASSERT_TRUE(local.has_value());
  EXPECT_EQ(local->addr, kMe6);  // the stack's address of the peer's family
  const auto range = UdpConfig{}.ephemeral_ports;
  EXPECT_GE(local->port, range.first);
  EXPECT_LE(local->port, range.last);
  EXPECT_EQ(tb.t.remote_endpoint(s), (UdpEndpoint{kPeer6, 53}));
  EXPECT_EQ(tb.deliver({kPeer6, 54}, *local, "stranger"), UdpInput::kNoSocket);
  EXPECT_EQ(tb.deliver({kPeer6, 53}, *local, "answer"), UdpInput::kDelivered);
  EXPECT_EQ(tb.read(s), "answer");
  // Disconnecting (an unspecified address) keeps the port and takes anyone again.
  ASSERT_FALSE(tb.t.connect(s, {kAny6, 0}));
  EXPECT_FALSE(tb.t.remote_endpoint(s).has_value());
  EXPECT_EQ(tb.deliver({kPeer6, 54}, *local, "stranger"), UdpInput::kDelivered);
  EXPECT_EQ(tb.read(s), "stranger");
}

TEST(UdpSockets, EphemeralPortsAreDistinctAndExhaustionFails) {
  UdpConfig c;
  c.ephemeral_ports = {40000, 40009};
  Table tb(c);
  std::set<uint16_t> ports;
  std::vector<UdpId> ids;
  for (int i = 0; i < 10; ++i) {
    UdpId id = tb.t.open();
    ASSERT_FALSE(tb.t.bind(id, {kAny4, 0}));
    ports.insert(tb.t.local_endpoint(id)->port);
    ids.push_back(id);
  }
  EXPECT_EQ(ports.size(), 10u);
  EXPECT_EQ(*ports.begin(), 40000);
  EXPECT_EQ(*ports.rbegin(), 40009);
  UdpId more = tb.t.open();
  EXPECT_EQ(tb.t.bind(more, {kAny4, 0}), std::errc::address_in_use);
  // The other family has its own ports.
  EXPECT_FALSE(tb.t.bind(more, {kAny6, 0}));
}

TEST(UdpSockets, FullQueueDropsAndCountsAndNeverGrows) {
  UdpConfig c;
  c.recv_queue = {.bytes = 3000, .datagrams = 8};
  Table tb(c);
  const UdpId s = tb.bound(kAny4, 9000);
  const std::string kilo(1000, 'k');
  int delivered = 0;
  for (int i = 0; i < 100; ++i) {
    if (tb.deliver({kPeer4, 1}, {kMe4, 9000}, kilo) == UdpInput::kDelivered) ++delivered;
  }
  EXPECT_EQ(delivered, 3);
  EXPECT_EQ(tb.t.counters().in_queue_full, 97u);
  EXPECT_EQ(tb.t.queued_datagrams(s), 3u);
  // The count limit too, with empty datagrams.
  tb.t.set_recv_queue_limits(s, {.bytes = 1 << 20, .datagrams = 5});
  for (int i = 0; i < 10; ++i) tb.deliver({kPeer4, 1}, {kMe4, 9000}, "");
  EXPECT_EQ(tb.t.queued_datagrams(s), 5u);
  EXPECT_EQ(tb.t.counters().in_queue_full, 97u + 8);
  // Draining makes room again.
  EXPECT_EQ(tb.read(s), kilo);
  EXPECT_EQ(tb.deliver({kPeer4, 1}, {kMe4, 9000}, "again"), UdpInput::kDelivered);
}

TEST(UdpSockets, ShortBufferTruncatesAndDiscardsTheRest) {
  Table tb;
  const UdpId s = tb.bound(kAny4, 9100);
  tb.deliver({kPeer4, 1}, {kMe4, 9100}, "0123456789");
  tb.deliver({kPeer4, 1}, {kMe4, 9100}, "next");
  EXPECT_EQ(tb.t.next_datagram_len(s), 10u);
  std::vector<uint8_t> small(4);
  std::error_code ec;
  auto peek = tb.t.recv(s, small, ec, true);
  ASSERT_TRUE(peek.has_value());
  EXPECT_EQ(tb.t.queued_datagrams(s), 2u);  // peek leaves it
  auto r = tb.t.recv(s, small, ec);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->copied, 4u);
  EXPECT_EQ(r->datagram_len, 10u);  // MSG_TRUNC: the caller can tell
  EXPECT_EQ(std::string(small.begin(), small.end()), "0123");
  EXPECT_EQ(tb.read(s), "next");  // the rest of the first is gone, not read as a new one
}

TEST(UdpSockets, SendBuildsAChecksummedDatagramInEitherFamily) {
  Table tb;
  const UdpId s = tb.bound(kAny4, 5000);
  const std::string text = "reply";
  const std::vector<uint8_t> payload(text.begin(), text.end());
  std::vector<uint8_t> out(100);
  std::error_code ec;
  const UdpEndpoint to{kPeer4, 40000};
  auto sent = tb.t.send(s, &to, payload, out, ec);
  ASSERT_TRUE(sent.has_value()) << ec.message();
  EXPECT_EQ(sent->len, 13u);
  EXPECT_EQ(sent->src, (UdpEndpoint{kMe4, 5000}));
  EXPECT_EQ(sent->dst, to);
  auto p = wire::UdpPacket::parse(std::span<const uint8_t>(out).first(sent->len), kMe4, kPeer4);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->src_port(), 5000);
  EXPECT_EQ(p->dst_port(), 40000);
  EXPECT_EQ(std::string(p->payload().begin(), p->payload().end()), text);
  // An unbound socket sending to IPv6 binds an ephemeral port on :: and sends from kMe6.
  UdpId u = tb.t.open();
  const UdpEndpoint to6{kPeer6, 53};
  auto sent6 = tb.t.send(u, &to6, payload, out, ec);
  ASSERT_TRUE(sent6.has_value()) << ec.message();
  EXPECT_EQ(sent6->src.addr, kMe6);
  EXPECT_EQ(tb.t.local_endpoint(u)->addr, kAny6);
  EXPECT_TRUE(
      wire::UdpPacket::parse(std::span<const uint8_t>(out).first(sent6->len), kMe6, kPeer6).ok());
  // ... and is then IPv6-only.
  EXPECT_FALSE(tb.t.send(u, &to, payload, out, ec).has_value());
  EXPECT_EQ(ec, std::errc::address_family_not_supported);
  EXPECT_EQ(tb.t.counters().out_datagrams, 2u);
}

// RFC 1122 §4.1.3.5: the application chooses the source address (by binding) or leaves it to
// the stack; a connected socket keeps the one connect() chose.
TEST(UdpSockets, SendsFromTheBoundAddress) {
  Table tb;
  const UdpId s = tb.bound(kMe4b, 5002);
  std::vector<uint8_t> out(64);
  std::error_code ec;
  const UdpEndpoint to{kPeer4, 9};
  auto sent = tb.t.send(s, &to, {}, out, ec);
  ASSERT_TRUE(sent.has_value()) << ec.message();
  EXPECT_EQ(sent->src, (UdpEndpoint{kMe4b, 5002}));
  EXPECT_TRUE(wire::UdpPacket::parse(std::span<const uint8_t>(out).first(8), kMe4b, kPeer4).ok());
  EXPECT_FALSE(wire::UdpPacket::parse(std::span<const uint8_t>(out).first(8), kMe4, kPeer4).ok());
  ASSERT_FALSE(tb.t.connect(s, to));
  EXPECT_EQ(tb.t.local_endpoint(s), (UdpEndpoint{kMe4b, 5002}));
  sent = tb.t.send(s, nullptr, {}, out, ec);
  ASSERT_TRUE(sent.has_value()) << ec.message();
  EXPECT_EQ(sent->src.addr, kMe4b);
  EXPECT_EQ(sent->dst, to);
}

TEST(UdpSockets, SendErrors) {
  Table tb;
  const UdpId s = tb.bound(kAny4, 5001);
  std::vector<uint8_t> out(70000);
  std::error_code ec;
  EXPECT_FALSE(tb.t.send(s, nullptr, {}, out, ec).has_value());
  EXPECT_EQ(ec, std::errc::destination_address_required);
  const UdpEndpoint to{kPeer4, 1};
  std::vector<uint8_t> big(65508);
  EXPECT_FALSE(tb.t.send(s, &to, big, out, ec).has_value());
  EXPECT_EQ(ec, std::errc::message_size);
  big.resize(65507);  // the IPv4 maximum fits
  EXPECT_TRUE(tb.t.send(s, &to, big, out, ec).has_value()) << ec.message();
  std::vector<uint8_t> tiny(10);
  EXPECT_FALSE(tb.t.send(s, &to, big, tiny, ec).has_value());
  EXPECT_EQ(ec, std::errc::no_buffer_space);
  // No local address of the family: nowhere to send from.
  UdpSocketTable bare(UdpConfig{});
  bare.set_local_addresses({kMe4});
  UdpId b = bare.open();
  const UdpEndpoint to6{kPeer6, 1};
  EXPECT_FALSE(bare.send(b, &to6, {}, out, ec).has_value());
  EXPECT_EQ(ec, std::errc::network_unreachable);
}

// RFC 1122 §4.1.3.3 / Linux: a port unreachable about a connected socket's datagram is its
// next call's error (ECONNREFUSED), once; an unconnected socket is not told.
TEST(UdpSockets, IcmpErrorsReachConnectedSocketsOnce) {
  Table tb;
  UdpId conn = tb.t.open();
  ASSERT_FALSE(tb.t.connect(conn, {kPeer4, 7}));
  const UdpEndpoint local = *tb.t.local_endpoint(conn);
  EXPECT_TRUE(tb.t.on_icmp_error(local, {kPeer4, 7}, std::errc::connection_refused));
  EXPECT_TRUE(tb.t.has_error(conn));
  EXPECT_TRUE(tb.t.readable(conn));  // poll() wakes the reader
  std::vector<uint8_t> buf(10);
  std::error_code ec;
  EXPECT_FALSE(tb.t.recv(conn, buf, ec).has_value());
  EXPECT_EQ(ec, std::errc::connection_refused);
  EXPECT_FALSE(tb.t.has_error(conn));
  EXPECT_FALSE(tb.t.recv(conn, buf, ec).has_value());
  EXPECT_EQ(ec, std::errc::operation_would_block);
  // The error is also the next send's.
  EXPECT_TRUE(tb.t.on_icmp_error(local, {kPeer4, 7}, std::errc::connection_refused));
  std::vector<uint8_t> out(64);
  EXPECT_FALSE(tb.t.send(conn, nullptr, {}, out, ec).has_value());
  EXPECT_EQ(ec, std::errc::connection_refused);
  EXPECT_TRUE(tb.t.send(conn, nullptr, {}, out, ec).has_value());
  // About another peer, or to an unconnected socket: ignored and counted.
  EXPECT_FALSE(tb.t.on_icmp_error(local, {kPeer4, 8}, std::errc::connection_refused));
  const UdpId open = tb.bound(kAny4, 5555);
  EXPECT_FALSE(tb.t.on_icmp_error({kMe4, 5555}, {kPeer4, 7}, std::errc::connection_refused));
  EXPECT_FALSE(tb.t.has_error(open));
  EXPECT_EQ(tb.t.counters().icmp_errors_reported, 2u);
  EXPECT_EQ(tb.t.counters().icmp_errors_ignored, 2u);
  // take_error (SO_ERROR) reads and clears it too.
  tb.t.on_icmp_error(local, {kPeer4, 7}, std::errc::host_unreachable);
  EXPECT_EQ(tb.t.take_error(conn), std::errc::host_unreachable);
  EXPECT_FALSE(tb.t.take_error(conn));
}

TEST(UdpSockets, CloseDropsQueuedDatagramsAndFreesTheSlot) {
  Table tb;
  UdpId s = tb.bound(kAny4, 9200);
  tb.deliver({kPeer4, 1}, {kMe4, 9200}, "pending");
  tb.t.close(s);
  EXPECT_EQ(tb.t.size(), 0u);
  EXPECT_EQ(tb.deliver({kPeer4, 1}, {kMe4, 9200}, "late"), UdpInput::kNoSocket);
  UdpId again = tb.bound(kAny4, 9200);
  EXPECT_NE(again, s);  // same slot, new generation
  EXPECT_FALSE(tb.t.readable(again));
}

}  // namespace
}  // namespace utcp::udp
