// SPDX-License-Identifier: BSD-2-Clause
// ICMP errors for TCP validated before they act (RFC 5927 §4.1, RFC 9293 §3.9.2.2): the quoted
// sequence number must lie in the flight, and "fragmentation needed" never lowers the path MTU
// below the TCP floor. The pure checks, then on a real engine connection.
#include <gtest/gtest.h>

#include "stack/icmp_errors.hpp"
#include "tcp/connection.hpp"
#include "wire/icmp.hpp"

namespace utcp::stack {
namespace {

using wire::SeqNum;

tcp::Tcb flight(uint32_t una, uint32_t max) {
  tcp::Tcb t;
  t.snd_una = SeqNum(una);
  t.snd_nxt = SeqNum(max);
  t.snd_max = SeqNum(max);
  return t;
}

TEST(IcmpValidation, QuotedSequenceMustLieBetweenSndUnaAndSndMax) {
  const tcp::Tcb t = flight(1000, 5000);
  EXPECT_TRUE(icmp_quote_in_flight(t, SeqNum(1000)));   // SND.UNA
  EXPECT_TRUE(icmp_quote_in_flight(t, SeqNum(3000)));   // inside
  EXPECT_TRUE(icmp_quote_in_flight(t, SeqNum(5000)));   // SND.NXT: a pure ACK or probe
  EXPECT_FALSE(icmp_quote_in_flight(t, SeqNum(999)));   // already acknowledged
  EXPECT_FALSE(icmp_quote_in_flight(t, SeqNum(5001)));  // never sent
  EXPECT_FALSE(icmp_quote_in_flight(t, SeqNum(1000 + 0x80000000u)));
}

TEST(IcmpValidation, FlightAcrossTheSequenceWrapIsStillOneRange) {
  const tcp::Tcb t = flight(0xFFFFFF00u, 0x100);
  EXPECT_TRUE(icmp_quote_in_flight(t, SeqNum(0xFFFFFF00u)));
  EXPECT_TRUE(icmp_quote_in_flight(t, SeqNum(0xFFFFFFFFu)));
  EXPECT_TRUE(icmp_quote_in_flight(t, SeqNum(0)));
  EXPECT_TRUE(icmp_quote_in_flight(t, SeqNum(0x100)));
  EXPECT_FALSE(icmp_quote_in_flight(t, SeqNum(0x101)));
  EXPECT_FALSE(icmp_quote_in_flight(t, SeqNum(0xFFFFFEFFu)));
}

TEST(IcmpValidation, NothingInFlightAcceptsOnlySndNxt) {
  const tcp::Tcb t = flight(7, 7);
  EXPECT_TRUE(icmp_quote_in_flight(t, SeqNum(7)));
  EXPECT_FALSE(icmp_quote_in_flight(t, SeqNum(6)));
  EXPECT_FALSE(icmp_quote_in_flight(t, SeqNum(8)));
}

TEST(IcmpValidation, PathMtuHasATcpFloorAndNeverRises) {
  EXPECT_EQ(tcp_path_mtu_for(68, 1500), kTcpMinPathMtu);
  EXPECT_EQ(tcp_path_mtu_for(551, 1500), 552);
  EXPECT_EQ(tcp_path_mtu_for(1000, 1500), 1000);
  EXPECT_EQ(tcp_path_mtu_for(0, 1500), 576);  // the router did not say: RFC 1122's 576
  EXPECT_EQ(tcp_path_mtu_for(9000, 1500), 1500);
  // A path already below the floor (a small-MTU device) is not raised by an ICMP message.
  EXPECT_EQ(tcp_path_mtu_for(68, 400), 400);
}

// RFC 8201 §4: a Packet Too Big never takes the path below 1280 (RFC 8200 §5), nor above
// what it is; jumbo values stop at 65535.
TEST(IcmpValidation, Ipv6PathMtuHas1280FloorAndNeverRises) {
  EXPECT_EQ(tcp_path_mtu6_for(0, 1500), 1280);
  EXPECT_EQ(tcp_path_mtu6_for(576, 1500), 1280);
  EXPECT_EQ(tcp_path_mtu6_for(1279, 1500), 1280);
  EXPECT_EQ(tcp_path_mtu6_for(1400, 1500), 1400);
  EXPECT_EQ(tcp_path_mtu6_for(9000, 1500), 1500);
  EXPECT_EQ(tcp_path_mtu6_for(100000, 65535), 65535);
}

// On an established engine connection with two segments in flight.
struct Established {
  Established() {
    tcp::Config cfg;
    cfg.path_mtu = 1500;
    conn = std::make_unique<tcp::Connection>(tcp::Endpoints{}, cfg);
    conn->listen(SeqNum(100));
    wire::TcpRepr syn;
    syn.flags = wire::tcp_flag::kSyn;
    syn.seq = SeqNum(5000);
    syn.window = 65535;
    syn.options.mss = 1460;
    conn->on_segment(syn, now);
    drain();
    wire::TcpRepr ack;
    ack.flags = wire::tcp_flag::kAck;
    ack.seq = SeqNum(5001);
    ack.ack = SeqNum(101);
    ack.window = 65535;
    conn->on_segment(ack, now);
    EXPECT_EQ(conn->state(), tcp::State::kEstablished);
    std::vector<uint8_t> data(2920, 'x');  // two full segments: Nagle holds no tail
    EXPECT_EQ(conn->send(data, now), data.size());
    drain();
    EXPECT_EQ(conn->tcb().snd_max, SeqNum(3021));
  }
  void drain() {
    std::vector<uint8_t> buf(2000);
    while (conn->poll_transmit(now, buf) > 0) {
    }
  }
  ip::IcmpError frag_needed(uint16_t mtu, uint32_t seq) const {
    ip::IcmpError e;
    e.kind = ip::IcmpErrorKind::kPathMtu;
    e.type = wire::icmp_type::kDestUnreachable;
    e.code = 4;
    e.next_hop_mtu = mtu;
    e.seq = SeqNum(seq);
    return e;
  }
  Instant now{};
  std::unique_ptr<tcp::Connection> conn;
};

TEST(IcmpValidation, ForgedFragNeededOutsideTheFlightLeavesTheMssAlone) {
  Established h;
  const uint32_t mss = h.conn->effective_mss();
  ASSERT_EQ(mss, 1460u);
  EXPECT_FALSE(deliver_icmp_error(*h.conn, h.frag_needed(68, 50), h.now));     // acknowledged
  EXPECT_FALSE(deliver_icmp_error(*h.conn, h.frag_needed(68, 90000), h.now));  // never sent
  EXPECT_EQ(h.conn->effective_mss(), mss);
  EXPECT_EQ(h.conn->config().path_mtu, 1500);
}

TEST(IcmpValidation, FragNeededInTheFlightStopsAtTheFloor) {
  Established h;
  EXPECT_TRUE(deliver_icmp_error(*h.conn, h.frag_needed(68, 1561), h.now));
  EXPECT_EQ(h.conn->config().path_mtu, kTcpMinPathMtu);
  EXPECT_EQ(h.conn->effective_mss(), kTcpMinPathMtu - 40u);
}

TEST(IcmpValidation, SoftErrorOutsideTheFlightIsNotReported) {
  Established h;
  ip::IcmpError e = h.frag_needed(0, 99);
  e.kind = ip::IcmpErrorKind::kSoft;
  e.code = 1;  // host unreachable
  EXPECT_FALSE(deliver_icmp_error(*h.conn, e, h.now));
  EXPECT_FALSE(h.conn->soft_error());
  e.seq = SeqNum(101);
  EXPECT_TRUE(deliver_icmp_error(*h.conn, e, h.now));
  EXPECT_TRUE(h.conn->soft_error());
}

}  // namespace
}  // namespace utcp::stack
