// SPDX-License-Identifier: BSD-2-Clause
// Sender pacing: the rate Linux's tcp_update_pacing_rate would choose, the burst quantum, and
// release times on a virtual clock (one wakeup per quantum, the average rate kept); then a
// connection that holds new data for its pacer, wakes on its own deadline, and never holds a
// retransmission.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "support/tcp_harness.hpp"
#include "tcp/pacing.hpp"

namespace utcp::test {
namespace {

using tcp::Pacer;
using tcp::PacerConfig;

constexpr Duration k40ms{40'000};
constexpr uint64_t kNoSsthresh = UINT32_MAX;

TEST(Pacer, SlowStartRateIsTwiceTheWindowPerRoundTrip) {
  const Pacer p;
  // 10 segments of 1460 bytes per 40 ms is 365,000 B/s; slow start paces at 200 %.
  EXPECT_EQ(p.rate(14'600, kNoSsthresh, 0, k40ms), 730'000u);
  // Still slow start while cwnd < ssthresh / 2 (Linux's rule).
  EXPECT_EQ(p.rate(49'999, 100'000, 0, k40ms), 49'999u * 2 * 25);
}

TEST(Pacer, CongestionAvoidanceRateIs120Percent) {
  const Pacer p;
  EXPECT_EQ(p.rate(100'000, 100'000, 0, k40ms), 3'000'000u);
  // From ssthresh / 2 on: the window nears ssthresh, growth slows, 120 % is enough.
  EXPECT_EQ(p.rate(50'000, 100'000, 0, k40ms), 1'500'000u);
}

TEST(Pacer, FlightAboveCwndIsNotSlowedBelowItself) {
  const Pacer p;
  // After a reduction the flight may exceed cwnd: Linux paces max(cwnd, packets_out).
  EXPECT_EQ(p.rate(50'000, 50'000, 200'000, k40ms), 6'000'000u);
}

TEST(Pacer, RatiosAreConfigurable) {
  const Pacer p(PacerConfig{.ss_ratio_percent = 300, .ca_ratio_percent = 100});
  EXPECT_EQ(p.rate(14'600, kNoSsthresh, 0, k40ms), 1'095'000u);
  EXPECT_EQ(p.rate(100'000, 100'000, 0, k40ms), 2'500'000u);
}

TEST(Pacer, NoRateWithoutAnRttSampleOrWhenOff) {
  EXPECT_EQ(Pacer().rate(14'600, kNoSsthresh, 0, Duration(0)), 0u);
  EXPECT_EQ(Pacer(PacerConfig{.enabled = false}).rate(14'600, kNoSsthresh, 0, k40ms), 0u);
  EXPECT_EQ(Pacer().quantum(0, 1460), 0u);
}

TEST(Pacer, QuantumIsAMillisecondOfTheRateWithinBounds) {
  const Pacer p;
  EXPECT_EQ(p.quantum(30'000'000, 1460), 30'000u);         // 240 Mbit/s: 30 kB per ms
  EXPECT_EQ(p.quantum(1'000'000, 1460), 14'600u);          // at least 10 segments
  EXPECT_EQ(p.quantum(1'000'000'000, 1460), 64u * 1024u);  // at most 64 KiB
  // A TSO segment larger than 64 KiB raises the ceiling (Sender passes tso_max_bytes).
  Pacer tso;
  tso.set_max_quantum(131'072);
  EXPECT_EQ(tso.quantum(1'000'000'000, 1460), 131'072u);
}

// Sends 1460-byte segments whenever the pacer lets them go, jumping the clock to its release
// time otherwise (woken `late` after it), for `span` of virtual time.
struct PacedRun {
  uint64_t bytes = 0;
  uint64_t wakeups = 0;
  uint64_t first_burst = 0;
};
PacedRun run_paced(uint64_t rate, uint64_t quantum, Duration span, Duration late) {
  Pacer p;
  PacedRun r;
  const Instant start = instant_from_us(5'000'000);
  Instant now = start;
  bool first = true;
  while (now < start + span) {
    if (p.holds(now)) {
      first = false;
      now = p.release_time() + late;
      ++r.wakeups;
      continue;
    }
    p.on_sent(1460, now, rate, quantum);
    r.bytes += 1460;
    if (first) r.first_burst += 1460;
  }
  return r;
}

TEST(Pacer, ReleasesInQuantaAtTheAverageRate) {
  const uint64_t rate = 10'000'000;  // 1460 bytes every 146 us
  const uint64_t q = Pacer().quantum(rate, 1460);
  ASSERT_EQ(q, 14'600u);
  const PacedRun r = run_paced(rate, q, Duration(1'000'000), Duration(0));
  // A second of sending moves one second of the rate, plus the burst an idle sender may make.
  EXPECT_GE(r.bytes, rate);
  EXPECT_LE(r.bytes, rate + 2 * q);
  // One wakeup per quantum, not per segment (684 quanta against 6849 segments).
  EXPECT_LE(r.wakeups, rate / q + 1);
  EXPECT_GE(r.wakeups, rate / (q + 1460) - 1);
  // From idle: the credit of half a quantum plus one quantum, then the pacer holds.
  EXPECT_EQ(r.first_burst, 16u * 1460u);
}

TEST(Pacer, LateWakeupsCatchUpWithinHalfAQuantum) {
  const uint64_t rate = 10'000'000;
  const uint64_t q = Pacer().quantum(rate, 1460);
  // Every wakeup 500 us late (a busy event loop): less than half a quantum (730 us) is made up.
  const PacedRun late = run_paced(rate, q, Duration(1'000'000), Duration(500));
  EXPECT_GE(late.bytes, rate - q);
  // 1.5 ms late is more than the credit: the lost time is gone, the rate drops.
  const PacedRun later = run_paced(rate, q, Duration(1'000'000), Duration(1'500));
  EXPECT_LT(later.bytes, rate * 9 / 10);
}

TEST(Pacer, UnpacedSendsNeverHold) {
  Pacer p;
  const Instant now = instant_from_us(1'000);
  for (int i = 0; i < 1000; ++i) p.on_sent(65'536, now, 0, 0);
  EXPECT_FALSE(p.holds(now));
}

// ---- a connection with its pacer ----

tcp::Config paced_config() {
  tcp::Config c = plain_config();
  c.pacing = true;
  c.send_buffer = 200'000;
  return c;
}

// Active open with a 40 ms handshake round trip (the SYN is timed: srtt 40 ms).
void establish_40ms(Harness& h, uint16_t peer_win = 65'535) {
  h.conn.open_active(h.now, kLocalIss);
  ASSERT_TRUE(h.pop());
  h.advance(k40ms);
  h.send(seg().syn().at(kRemoteIss).ack(kLocalIss + 1).win(peer_win).mss(1460));
  ASSERT_TRUE(h.pop());  // our ACK
  ASSERT_EQ(h.conn.state(), tcp::State::kEstablished);
  ASSERT_EQ(h.conn.sender().rto().srtt(), k40ms);
  h.events();
}

std::vector<Seg> drain(Harness& h) {
  std::vector<Seg> v;
  while (auto s = h.pop()) v.push_back(std::move(*s));
  return v;
}

TEST(PacedConnection, InitialWindowGoesAtOnceThenDataWaitsForTheRelease) {
  Harness h(paced_config());
  establish_40ms(h);
  h.app_send_bytes(pattern(200'000));
  // The initial window (10 segments) leaves at once: nothing was in flight.
  const std::vector<Seg> iw = drain(h);
  ASSERT_EQ(iw.size(), 10u);
  EXPECT_FALSE(h.conn.timers().running(tcp::TimerKind::kPacing));
  // One ACK for all of it: reno slow start doubles cwnd to 20 segments, rate 2 x 20 x 1460 /
  // 40 ms = 1.46 MB/s, quantum 14,600 bytes. The pacer lets 1.5 quanta go (it was idle), not
  // the 20 segments cwnd allows (16: the 16th takes it past the quantum).
  h.advance(k40ms);
  h.send(seg().at(R(1)).ack(L(1) + 14'600).win(65'535));
  const std::vector<Seg> burst = drain(h);
  EXPECT_EQ(burst.size(), 16u);
  EXPECT_EQ(h.conn.tcp_info().pacing_rate, 1'460'000u);
  ASSERT_TRUE(h.conn.timers().running(tcp::TimerKind::kPacing));
  // The connection's own deadline is the release: one quantum later, the rest of cwnd.
  const Instant release = h.conn.timers().at(tcp::TimerKind::kPacing);
  EXPECT_EQ(h.conn.next_deadline(), release);
  EXPECT_GT(release, h.now);
  // 16 segments at 1 ms each (1460 bytes at 1.46 MB/s) from half a quantum (5 ms) back.
  EXPECT_EQ(release - h.now, Duration(11'000));
  h.advance(Duration(10'999));
  EXPECT_TRUE(drain(h).empty()) << "released early";
  h.advance(Duration(1));
  const std::vector<Seg> next = drain(h);
  EXPECT_EQ(next.size(), 4u);  // cwnd (20 segments) is now full
  EXPECT_EQ(next.front().seq, burst.back().seq + 1460u);
  EXPECT_FALSE(h.conn.timers().running(tcp::TimerKind::kPacing));
}

TEST(PacedConnection, PureAcksAndRetransmissionsAreNotHeld) {
  Harness h(paced_config());
  establish_40ms(h);
  h.app_send_bytes(pattern(200'000));
  ASSERT_EQ(drain(h).size(), 10u);
  h.advance(k40ms);
  h.send(seg().at(R(1)).ack(L(1) + 14'600).win(65'535));
  ASSERT_EQ(drain(h).size(), 16u);
  ASSERT_TRUE(h.conn.timers().running(tcp::TimerKind::kPacing));
  // Peer data wants an ACK (two full segments: RFC 5681 §4.2): it goes while data is held.
  h.send(seg().at(R(1)).ack(L(1) + 14'600).win(65'535).bytes(pattern(1460)));
  h.send(seg().at(R(1461)).ack(L(1) + 14'600).win(65'535).bytes(pattern(1460)));
  const std::vector<Seg> acks = drain(h);
  ASSERT_FALSE(acks.empty());
  for (const Seg& a : acks) EXPECT_TRUE(a.payload.empty()) << a;
  EXPECT_EQ(acks.back().ack_no, R(2921));
  // Three duplicate ACKs: the fast retransmission of SND.UNA leaves at once.
  for (int i = 0; i < 3; ++i) h.send(seg().at(R(2921)).ack(L(1) + 14'600).win(65'535));
  const std::vector<Seg> rtx = drain(h);
  ASSERT_FALSE(rtx.empty());
  EXPECT_EQ(rtx[0].seq, L(1) + 14'600);
  EXPECT_EQ(rtx[0].payload.size(), 1460u);
}

TEST(PacedConnection, PacingOffSendsTheWholeWindow) {
  tcp::Config c = paced_config();
  c.pacing = false;
  Harness h(c);
  establish_40ms(h);
  h.app_send_bytes(pattern(200'000));
  ASSERT_EQ(drain(h).size(), 10u);
  h.advance(k40ms);
  h.send(seg().at(R(1)).ack(L(1) + 14'600).win(65'535));
  EXPECT_EQ(drain(h).size(), 20u);
  EXPECT_EQ(h.conn.tcp_info().pacing_rate, 0u);
  EXPECT_FALSE(h.conn.timers().running(tcp::TimerKind::kPacing));
}

}  // namespace
}  // namespace utcp::test
