// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/reno.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace utcp::tcp {
namespace {

const Instant kT0 = instant_from_us(1'000'000);

TEST(Reno, FactoryKnowsRenoOnly) {
  auto cc = make_congestion_control("reno");
  ASSERT_NE(cc, nullptr);
  EXPECT_STREQ(cc->name(), "reno");
  EXPECT_EQ(make_congestion_control("nonesuch"), nullptr);
}

TEST(Reno, InitialWindowPerRfc6928) {
  RenoCongestion r;
  r.init(1460, 10);
  EXPECT_EQ(r.cwnd(), 14600u);  // min(10*1460, max(2920, 14600))
  r.init(536, 10);
  EXPECT_EQ(r.cwnd(), 5360u);  // min(5360, max(1072, 14600))
  r.init(8960, 10);
  EXPECT_EQ(r.cwnd(), 17920u);  // jumbo MSS: max(2*MSS, 14600) = 17920
  r.init(1460, 4);
  EXPECT_EQ(r.cwnd(), 4380u);           // RFC 3390 for a 4-segment IW
  EXPECT_EQ(r.ssthresh(), UINT32_MAX);  // RFC 5681 §3.1: arbitrarily high
  EXPECT_TRUE(r.in_slow_start());
}

TEST(Reno, SlowStartCountsEveryByteAStretchAckCovers) {
  // RFC 3465 byte counting with no per-ACK limit, as Linux: a stretch ACK of ten segments
  // grows cwnd by ten segments (with L = 2*SMSS it grew by two).
  RenoCongestion r;
  r.init(1000, 10);
  ASSERT_EQ(r.cwnd(), 10000u);
  r.on_ack(1000, 10000, kT0);
  EXPECT_EQ(r.cwnd(), 11000u);
  r.on_ack(500, 10000, kT0);  // partial segment: counts the bytes
  EXPECT_EQ(r.cwnd(), 11500u);
  r.on_ack(10000, 10000, kT0);  // stretch ACK of ten segments
  EXPECT_EQ(r.cwnd(), 21500u);
  r.on_ack(0, 10000, kT0);  // nothing new acked: no growth
  EXPECT_EQ(r.cwnd(), 21500u);
}

TEST(Reno, SlowStartStopsAtSsthresh) {
  // RFC 5681 §3.1: slow start ends at ssthresh; a stretch ACK does not carry cwnd past it.
  RenoCongestion r;
  r.init(1000, 10);
  r.on_rto(40000, kT0);  // ssthresh = 20000, cwnd = 1000
  ASSERT_EQ(r.ssthresh(), 20000u);
  r.on_ack(16000, 1000, kT0);
  EXPECT_EQ(r.cwnd(), 17000u);
  EXPECT_TRUE(r.in_slow_start());
  r.on_ack(16000, 1000, kT0);
  EXPECT_EQ(r.cwnd(), 20000u);
  EXPECT_FALSE(r.in_slow_start());
  r.on_ack(1000, 20000, kT0);  // congestion avoidance from here: SMSS*SMSS/cwnd
  EXPECT_EQ(r.cwnd(), 20050u);
}

TEST(Reno, SlowStartDoublesPerRoundTrip) {
  RenoCongestion r;
  r.init(1000, 10);
  const uint32_t start = r.cwnd();
  // One round trip: every segment of the window acknowledged individually.
  for (uint32_t i = 0; i < start / 1000; ++i) r.on_ack(1000, start, kT0);
  EXPECT_EQ(r.cwnd(), 2 * start);
}

TEST(Reno, CongestionAvoidanceGrowsAboutOneSegmentPerRtt) {
  RenoCongestion r;
  r.init(1000, 10);
  r.on_rto(40000, kT0);  // ssthresh = 20000, cwnd = 1000
  ASSERT_EQ(r.ssthresh(), 20000u);
  while (r.in_slow_start()) r.on_ack(1000, r.cwnd(), kT0);
  ASSERT_EQ(r.cwnd(), 20000u);
  // RFC 5681 §3.1 eq. 3: each ACK adds SMSS*SMSS/cwnd (1000*1000/20000 = 50 bytes).
  r.on_ack(1000, 20000, kT0);
  EXPECT_EQ(r.cwnd(), 20050u);
  // A full window of ACKs (20 segments) adds about one SMSS in total.
  RenoCongestion s;
  s.init(1000, 10);
  s.on_rto(40000, kT0);
  while (s.in_slow_start()) s.on_ack(1000, s.cwnd(), kT0);
  const uint32_t before = s.cwnd();
  for (int i = 0; i < 20; ++i) s.on_ack(1000, before, kT0);
  EXPECT_GE(s.cwnd() - before, 950u);
  EXPECT_LE(s.cwnd() - before, 1000u);
}

TEST(Reno, CongestionAvoidanceAddsAtLeastOneByte) {
  RenoCongestion r;
  r.init(100, 10);
  // Force congestion avoidance with a huge cwnd: SMSS*SMSS/cwnd rounds to 0, the floor is 1.
  r.on_fast_retransmit(40'000'000, kT0);  // ssthresh 20,000,000; cwnd = ssthresh + 300
  r.on_recovery_exit();
  ASSERT_FALSE(r.in_slow_start());
  const uint32_t before = r.cwnd();
  r.on_ack(100, before, kT0);
  EXPECT_EQ(r.cwnd(), before + 1);
}

TEST(Reno, FastRetransmitAndRecovery) {
  // RFC 5681 §3.2.
  RenoCongestion r;
  r.init(1460, 10);
  r.on_fast_retransmit(29200, kT0);
  EXPECT_EQ(r.ssthresh(), 14600u);         // FlightSize / 2
  EXPECT_EQ(r.cwnd(), 14600u + 3 * 1460);  // step 3: ssthresh + 3*SMSS
  r.on_recovery_dup_ack();
  r.on_recovery_dup_ack();
  EXPECT_EQ(r.cwnd(), 14600u + 5 * 1460);  // step 4: +SMSS per further dup ACK
  r.on_recovery_exit();
  EXPECT_EQ(r.cwnd(), 14600u);  // step 6: deflate to ssthresh
  EXPECT_FALSE(r.in_slow_start());
}

TEST(Reno, LossSsthreshHasTwoSegmentFloor) {
  RenoCongestion r;
  r.init(1460, 10);
  r.on_fast_retransmit(2000, kT0);  // FlightSize/2 = 1000 < 2*SMSS
  EXPECT_EQ(r.ssthresh(), 2920u);
  EXPECT_EQ(r.cwnd(), 2920u + 3 * 1460);
}

TEST(Reno, RtoCollapsesToOneSegment) {
  // RFC 5681 §3.1: ssthresh = max(FlightSize/2, 2*SMSS), cwnd = LW = 1 SMSS.
  RenoCongestion r;
  r.init(1460, 10);
  for (int i = 0; i < 10; ++i) r.on_ack(1460, r.cwnd(), kT0);
  r.on_rto(20000, kT0);
  EXPECT_EQ(r.ssthresh(), 10000u);
  EXPECT_EQ(r.cwnd(), 1460u);
  EXPECT_TRUE(r.in_slow_start());
  r.on_rto(1460, kT0);  // repeated timeout with one segment out
  EXPECT_EQ(r.ssthresh(), 2920u);
  EXPECT_EQ(r.cwnd(), 1460u);
}

TEST(Reno, IdleRestartWindow) {
  // RFC 5681 §4.1: after idle > RTO, cwnd = min(IW, cwnd).
  RenoCongestion r;
  r.init(1460, 10);
  for (int i = 0; i < 20; ++i) r.on_ack(1460, r.cwnd(), kT0);
  ASSERT_EQ(r.cwnd(), 14600u + 20 * 1460);
  r.on_idle(std::chrono::milliseconds(100), std::chrono::milliseconds(300));  // not long enough
  EXPECT_EQ(r.cwnd(), 14600u + 20 * 1460);
  r.on_idle(std::chrono::milliseconds(301), std::chrono::milliseconds(300));
  EXPECT_EQ(r.cwnd(), 14600u);
  // A window already below IW is not raised.
  r.on_rto(10000, kT0);
  r.on_idle(std::chrono::seconds(5), std::chrono::milliseconds(300));
  EXPECT_EQ(r.cwnd(), 1460u);
}

TEST(Reno, SetMssRecomputesInitialWindow) {
  RenoCongestion r;  // defaults to MSS 536
  EXPECT_EQ(r.mss(), 536u);
  EXPECT_EQ(r.cwnd(), 5360u);
  r.set_mss(1460);  // before any growth: the window is still the IW, now for the new MSS
  EXPECT_EQ(r.mss(), 1460u);
  EXPECT_EQ(r.initial_window(), 14600u);
  EXPECT_EQ(r.cwnd(), 14600u);
  r.on_ack(1460, 14600, kT0);
  r.set_mss(1000);  // after growth the window is kept
  EXPECT_EQ(r.cwnd(), 16060u);
  r.on_fast_retransmit(100000, kT0);
  EXPECT_EQ(r.cwnd(), 50000u + 3 * 1000);
}

}  // namespace
}  // namespace utcp::tcp
