// SPDX-License-Identifier: BSD-2-Clause
// Engine-level tests of the integrated recovery features through a Connection (tcp_harness):
// SACK negotiation and blocks, D-SACK, SACK-driven retransmission of exactly the holes, NewReno
// partial ACKs, TLP, ECN negotiation and CE -> ECE -> CWR, TCP_INFO.
#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"

namespace utcp::test {
namespace {

using wire::SackBlock;
namespace flag = wire::tcp_flag;

tcp::Config sack_config() {
  tcp::Config c = plain_config();
  c.sack = true;
  return c;
}

// Active open where both SYNs carry SACK-permitted.
void establish_sack(Harness& h) {
  h.conn.open_active(h.now, kLocalIss);
  h.expect(seg().syn().at(L(0)).win(64000).mss(1460).sack_permitted());
  h.send(seg().syn().at(R(0)).ack(L(1)).win(64000).mss(1460).sack_permitted());
  h.expect(seg().at(L(1)).ack(R(1)).win(64000));
  ASSERT_TRUE(h.conn.tcb().sack_enabled);
  h.events();
}

Seg with_sacks(Seg s, std::initializer_list<SackBlock> blocks) {
  for (const auto& b : blocks) s.options.sack_blocks[s.options.sack_count++] = b;
  return s;
}

std::vector<SackBlock> sacks_of(const Seg& s) {
  return {s.options.sack_blocks.begin(), s.options.sack_blocks.begin() + s.options.sack_count};
}

TEST(SackEngine, PassiveEchoesSackPermitted) {
  Harness h(sack_config());
  h.conn.listen(kLocalIss);
  h.send(seg().syn().at(R(0)).win(1000).mss(1460).sack_permitted());
  h.expect(seg().syn().at(L(0)).ack(R(1)).win(64000).mss(1460).sack_permitted());
  EXPECT_TRUE(h.conn.tcb().sack_enabled);
  // A peer that does not offer it gets none back and SACK stays off.
  Harness h2(sack_config());
  h2.conn.listen(kLocalIss);
  h2.send(seg().syn().at(R(0)).win(1000).mss(1460));
  h2.expect(seg().syn().at(L(0)).ack(R(1)).win(64000).mss(1460));
  EXPECT_FALSE(h2.conn.tcb().sack_enabled);
}

TEST(SackEngine, ReceiverReportsHolesMostRecentFirstAndDsack) {
  Harness h(sack_config());
  establish_sack(h);
  const auto data = pattern(6000);
  auto piece = [&](uint32_t off, uint32_t len) {
    return std::vector<uint8_t>(data.begin() + off, data.begin() + off + len);
  };
  // Bytes 1000-1999 arrive first: ACK RCV.NXT with one block.
  h.send(seg().at(R(1 + 1000)).ack(L(1)).win(64000).bytes(piece(1000, 1000)));
  auto a = h.pop();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->ack_no, R(1));
  EXPECT_EQ(sacks_of(*a), (std::vector<SackBlock>{{R(1001), R(2001)}}));
  // Then 3000-3999: the newest block first.
  h.send(seg().at(R(1 + 3000)).ack(L(1)).win(64000).bytes(piece(3000, 1000)));
  a = h.pop();
  ASSERT_TRUE(a);
  EXPECT_EQ(sacks_of(*a), (std::vector<SackBlock>{{R(3001), R(4001)}, {R(1001), R(2001)}}));
  // The same out-of-order segment again: D-SACK first, then the block containing it.
  h.send(seg().at(R(1 + 3000)).ack(L(1)).win(64000).bytes(piece(3000, 1000)));
  a = h.pop();
  ASSERT_TRUE(a);
  EXPECT_EQ(sacks_of(*a),
            (std::vector<SackBlock>{{R(3001), R(4001)}, {R(3001), R(4001)}, {R(1001), R(2001)}}));
  // Fill the first hole: ACK moves to 2000, the remaining block stays.
  h.send(seg().at(R(1)).ack(L(1)).win(64000).bytes(piece(0, 1000)));
  a = h.pop();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->ack_no, R(2001));
  EXPECT_EQ(sacks_of(*a), (std::vector<SackBlock>{{R(3001), R(4001)}}));
  // An old segment entirely below RCV.NXT: D-SACK below the ACK (RFC 2883 §4.1).
  h.send(seg().at(R(1)).ack(L(1)).win(64000).bytes(piece(0, 1000)));
  a = h.pop();
  ASSERT_TRUE(a);
  EXPECT_EQ(sacks_of(*a), (std::vector<SackBlock>{{R(1), R(1001)}, {R(3001), R(4001)}}));
  EXPECT_EQ(h.app_recv(), std::string(data.begin(), data.begin() + 2000));
}

TEST(SackEngine, SenderRetransmitsExactlyTheHoles) {
  Harness h(sack_config());
  establish_sack(h);
  const auto data = pattern(14600);
  h.app_send_bytes(data);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(h.pop());
  // Segments 0 and 3 lost; SACKs for 1-2 and 4-9 arrive as duplicate ACKs.
  const SackBlock b12{L(1 + 1460), L(1 + 3 * 1460)};
  const SackBlock b49{L(1 + 4 * 1460), L(1 + 10 * 1460)};
  h.send(with_sacks(seg().at(R(1)).ack(L(1)).win(64000), {b12}));
  h.send(with_sacks(seg().at(R(1)).ack(L(1)).win(64000), {b49, b12}));
  ASSERT_TRUE(h.conn.sender().in_recovery());  // RFC 6675: IsLost(SND.UNA)
  std::vector<uint32_t> resent;
  for (int i = 0; i < 6; ++i) {
    while (auto s = h.pop()) {
      if (s->payload.empty()) continue;
      const uint32_t off = s->seq.distance_from(L(1));
      resent.push_back(off / 1460);
      EXPECT_EQ(s->payload, std::vector<uint8_t>(data.begin() + off, data.begin() + off + 1460));
    }
    if (resent.size() >= 2) break;
    h.send(with_sacks(seg().at(R(1)).ack(L(1)).win(64000), {b49, b12}));
  }
  EXPECT_EQ(resent, (std::vector<uint32_t>{0, 3}));  // no go-back-N: SACKed data stays put
  h.send(seg().at(R(1)).ack(L(1 + 14600)).win(64000));
  EXPECT_FALSE(h.conn.sender().in_recovery());
  EXPECT_EQ(h.conn.sender().rto_count(), 0u);
  const auto info = h.conn.tcp_info();
  EXPECT_TRUE(info.sack_enabled);
  EXPECT_EQ(info.total_retrans, 2u);
  EXPECT_EQ(info.fast_recoveries, 1u);
  EXPECT_EQ(info.bytes_acked, 14600u);
  EXPECT_EQ(info.cwnd, info.ssthresh);  // PRR ends at ssthresh
}

TEST(NewRenoEngine, PartialAckRetransmitsNextHoleWithoutTimeout) {
  Harness h;  // no SACK: RFC 6582
  h.establish();
  const auto data = pattern(14600);
  h.app_send_bytes(data);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(h.pop());
  for (int i = 0; i < 3; ++i) h.send(seg().at(R(1)).ack(L(1)).win(64000));
  auto s = h.pop();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->seq, L(1));  // fast retransmit
  while (h.pop()) {
  }
  // Partial ACK up to segment 5 (segment 5 was lost too): it goes at once.
  h.send(seg().at(R(1)).ack(L(1 + 5 * 1460)).win(64000));
  bool saw = false;
  while (auto r = h.pop()) {
    if (r->seq == L(1 + 5 * 1460) && !r->payload.empty()) saw = true;
  }
  EXPECT_TRUE(saw) << "RFC 6582 §3.2 step 4: retransmit the first unacknowledged segment";
  EXPECT_TRUE(h.conn.sender().in_recovery());
  h.send(seg().at(R(1)).ack(L(1 + 14600)).win(64000));
  EXPECT_FALSE(h.conn.sender().in_recovery());
  EXPECT_EQ(h.conn.sender().rto_count(), 0u);
}

TEST(TlpEngine, TailLossProbeBeforeRto) {
  tcp::Config c = sack_config();
  c.rack = true;
  Harness h(c);
  establish_sack(h);
  // An RTT sample first (TLP needs one), then a flight whose tail is lost.
  h.app_send("a");
  ASSERT_TRUE(h.pop());
  h.advance(Duration(50'000));
  h.send(seg().at(R(1)).ack(L(2)).win(64000));
  const auto data = pattern(3 * 1460);
  h.app_send_bytes(data);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(h.pop());
  const Instant sent = h.now;
  // No ACK comes back: the probe (the last segment again) goes at PTO = 2*SRTT (RFC 8985
  // §7.2), before the RTO (>= 200 ms). (The harness's handshake took no time, so SRTT is small.)
  const Duration srtt = h.conn.sender().rto().srtt();
  ASSERT_GT(srtt, Duration(0));
  const Instant rto_at = h.conn.timers().at(tcp::TimerKind::kRetransmit);
  const Duration waited = h.advance_to_next_deadline();
  auto p = h.pop();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->seq, L(2 + 2 * 1460));
  EXPECT_EQ(p->payload.size(), 1460u);
  EXPECT_EQ(h.now - sent, 2 * srtt);
  EXPECT_EQ(waited, 2 * srtt);
  EXPECT_LT(h.now, rto_at);
  // The RTO is re-armed after the probe (RFC 8985 §7.3), and a second probe waits for an ACK.
  EXPECT_TRUE(h.conn.timers().running(tcp::TimerKind::kRetransmit));
  EXPECT_FALSE(h.conn.timers().running(tcp::TimerKind::kLossDetection));
  EXPECT_EQ(h.conn.tcp_info().tlp_probes, 1u);
}

TEST(TlpEngine, OneSegmentTailProbedAtTheRtoExpiry) {
  // RFC 8985 §7.2 TLP_calc_PTO(): with one segment in flight the PTO (2*SRTT + max_ack_delay)
  // would come after the RTO, so it is cut to the RTO expiry and the probe goes then; §7.3:
  // the RTO is re-armed from the probe. No timeout happens: cwnd and the RTO stay as they were.
  tcp::Config c = sack_config();
  c.rack = true;
  Harness h(c);
  establish_sack(h);
  h.app_send("a");
  ASSERT_TRUE(h.pop());
  h.advance(Duration(100'000));
  h.send(seg().at(R(1)).ack(L(2)).win(64000));  // SRTT 100 ms, RTO 300 ms
  const Duration rto = h.conn.sender().rto().rto();
  ASSERT_LT(rto, 2 * h.conn.sender().rto().srtt() + tcp::TailLossProbe::kMaxAckDelay);
  h.app_send("request");
  ASSERT_TRUE(h.pop());
  const Instant sent = h.now;
  const uint32_t cwnd = h.conn.tcp_info().cwnd;
  EXPECT_EQ(h.advance_to_next_deadline(), rto);
  auto p = h.pop();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->seq, L(2));
  EXPECT_EQ(p->payload.size(), 7u);
  EXPECT_EQ(h.now - sent, rto);
  EXPECT_EQ(h.conn.tcp_info().tlp_probes, 1u);
  EXPECT_EQ(h.conn.sender().rto_count(), 0u);
  EXPECT_EQ(h.conn.tcp_info().cwnd, cwnd);
  EXPECT_EQ(h.conn.timers().at(tcp::TimerKind::kRetransmit), h.now + rto);  // not backed off
  // Still nothing back: the RTO proper, one RTO after the probe.
  EXPECT_EQ(h.advance_to_next_deadline(), rto);
  ASSERT_TRUE(h.pop());
  EXPECT_EQ(h.conn.sender().rto_count(), 1u);
}

TEST(TlpEngine, FinSentAloneIsProbedAlone) {
  // RFC 8985 §7.3: the probe retransmits the most recently sent segment. Data went out, then
  // the FIN in a segment of its own (a shutdown after the write): the probe is that bare FIN,
  // not the last MSS of data with the FIN on it (Linux probes the FIN alone too).
  tcp::Config c = sack_config();
  c.rack = true;
  Harness h(c);
  establish_sack(h);
  h.app_send("a");
  ASSERT_TRUE(h.pop());
  h.advance(Duration(50'000));
  h.send(seg().at(R(1)).ack(L(2)).win(64000));
  const auto data = pattern(3 * 1460);
  h.app_send_bytes(data);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(h.pop());
  h.app_close();
  auto fin = h.pop();
  ASSERT_TRUE(fin);
  ASSERT_TRUE(fin->flags & flag::kFin);
  ASSERT_EQ(fin->payload.size(), 0u);
  h.advance_to_next_deadline();
  auto p = h.pop();
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->flags & flag::kFin);
  EXPECT_EQ(p->seq, L(2 + 3 * 1460));
  EXPECT_EQ(p->payload.size(), 0u);
  EXPECT_EQ(h.conn.tcp_info().tlp_probes, 1u);
  EXPECT_EQ(h.conn.sender().rto_count(), 0u);
}

TEST(EcnEngine, NegotiationCeEchoAndCwr) {
  tcp::Config c = plain_config();
  c.ecn = true;
  Harness h(c);
  h.conn.open_active(h.now, kLocalIss);
  h.expect(seg().syn().flag(flag::kEce | flag::kCwr).at(L(0)).win(64000).mss(1460));
  h.send(seg().syn().flag(flag::kEce).at(R(0)).ack(L(1)).win(64000).mss(1460));
  h.expect(seg().at(L(1)).ack(R(1)).win(64000));
  ASSERT_TRUE(h.conn.ecn().negotiated());
  // A data segment with CE in its IP header: our ACK carries ECE ...
  auto deliver = [&](uint32_t off, std::string_view text, uint8_t ip_ecn, uint8_t extra) {
    wire::TcpRepr r;
    r.src_port = kRemotePort;
    r.dst_port = kLocalPort;
    r.seq = R(1 + off);
    r.ack = L(1);
    r.flags = flag::kAck | extra;
    r.window = 64000;
    r.payload = std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    h.conn.on_segment(r, h.now, ip_ecn);
    h.flush();
  };
  deliver(0, "hello", 3, 0);
  h.advance(Duration(50'000));
  auto a = h.pop();
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->flags & flag::kEce);
  // ... and keeps it on later ACKs for non-CE data, until a segment with CWR arrives.
  deliver(5, "world", 2, 0);
  h.advance(Duration(50'000));
  a = h.pop();
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->flags & flag::kEce);
  deliver(10, "!", 2, flag::kCwr);
  h.advance(Duration(50'000));
  a = h.pop();
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->flags & flag::kEce);
  EXPECT_EQ(h.conn.ecn().ce_received(), 1u);
}

TEST(EcnEngine, SenderReducesOnceAndMarksCwrAndEct) {
  tcp::Config c = plain_config();
  c.ecn = true;
  Harness h(c);
  h.conn.open_active(h.now, kLocalIss);
  h.pop();
  h.send(seg().syn().flag(flag::kEce).at(R(0)).ack(L(1)).win(64000).mss(1460));
  h.pop();
  const auto data = pattern(20 * 1460);
  h.conn.send(data, h.now);
  // Data goes out ECT(0) (RFC 3168 §6.1.2); pure ACKs do not.
  std::vector<uint8_t> buf(2000);
  ASSERT_NE(h.conn.poll_transmit(h.now, buf), 0u);
  EXPECT_EQ(h.conn.ecn_codepoint(), 2);
  h.flush();
  h.outbox.clear();
  const uint32_t cwnd = h.conn.sender().cc().cwnd();
  h.send(seg().flag(flag::kEce).at(R(1)).ack(L(1 + 1460)).win(64000));
  const uint32_t reduced = h.conn.sender().cc().cwnd();
  EXPECT_LT(reduced, cwnd);
  EXPECT_EQ(h.conn.sender().cc().ssthresh(), reduced);
  // A second ECE in the same window: no second reduction.
  h.send(seg().flag(flag::kEce).at(R(1)).ack(L(1 + 2 * 1460)).win(64000));
  EXPECT_GE(h.conn.sender().cc().cwnd(), reduced);
  // The first new data segment after the reduction carries CWR.
  h.send(seg().at(R(1)).ack(L(1 + 10 * 1460)).win(64000));
  bool cwr = false;
  while (auto s = h.pop()) {
    if (!s->payload.empty() && (s->flags & flag::kCwr)) cwr = true;
  }
  EXPECT_TRUE(cwr);
}

}  // namespace
}  // namespace utcp::test
