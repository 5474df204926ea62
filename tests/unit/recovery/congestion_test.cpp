// SPDX-License-Identifier: BSD-2-Clause
// CUBIC (RFC 9438) against its equations, HyStart++ (RFC 9406), PRR (RFC 6937) send quantities
// and the NewReno (RFC 6582) recovery episode.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "tcp/congestion_control.hpp"
#include "tcp/cubic.hpp"
#include "tcp/hystart.hpp"
#include "tcp/prr.hpp"
#include "tcp/recovery_state.hpp"

namespace utcp::tcp {
namespace {

constexpr uint32_t kMss = 1000;
Instant at_ms(double ms) {
  return instant_from_us(static_cast<int64_t>(ms * 1000));
}

// Drives `cc` for `rounds` round trips of `rtt_ms`, one ACK per segment spread evenly over the
// round; returns the time reached.
double run_rounds(CongestionControl& cc, double start_ms, double rtt_ms, int rounds) {
  double now = start_ms;
  for (int r = 0; r < rounds; ++r) {
    const uint32_t acks = std::max<uint32_t>(cc.cwnd() / kMss, 1);
    for (uint32_t i = 0; i < acks; ++i) {
      now += rtt_ms / acks;
      cc.on_ack(kMss, cc.cwnd(), at_ms(now));
    }
  }
  return now;
}

// Puts a CUBIC controller at cwnd = `segs` segments in slow start, then a loss with full flight.
void grow_to(CubicCongestion& cc, uint32_t segs) {
  cc.init(kMss, 10);
  while (cc.cwnd() < segs * kMss) cc.on_ack(std::min(kMss, segs * kMss - cc.cwnd()), 0, at_ms(0));
  ASSERT_EQ(cc.cwnd(), segs * kMss);
}

TEST(Cubic, MultiplicativeDecreaseAndK) {
  CubicCongestion cc(CubicOptions{.fast_convergence = true});
  grow_to(cc, 100);
  cc.on_fast_retransmit(100 * kMss, at_ms(0));
  // RFC 9438 Figure 5: ssthresh = flight * 0.7; W_max = cwnd before reduction (§4.7 no FC yet).
  EXPECT_EQ(cc.ssthresh(), 70 * kMss);
  EXPECT_DOUBLE_EQ(cc.w_max(), 100.0);
  EXPECT_EQ(cc.cwnd(), 73 * kMss);  // RFC 5681 inflation during recovery
  cc.on_recovery_exit();
  EXPECT_EQ(cc.cwnd(), 70 * kMss);
  cc.on_rtt_sample(Duration(100'000), Duration(100'000));
  cc.on_ack(kMss, 70 * kMss, at_ms(1000));
  // Figure 2: K = cbrt((W_max - cwnd_epoch) / C) = cbrt(30 / 0.4).
  EXPECT_NEAR(cc.k(), std::cbrt(75.0), 1e-9);
  // Figure 1 at a few points.
  for (double t : {0.0, 1.0, 2.5, cc.k(), 6.0}) {
    EXPECT_NEAR(cc.w_cubic(t), 0.4 * std::pow(t - std::cbrt(75.0), 3) + 100.0, 1e-9);
  }
  EXPECT_NEAR(cc.w_cubic(cc.k()), 100.0, 1e-9);
}

TEST(Cubic, ConcaveThenConvexGrowthFollowsWcubic) {
  CubicCongestion cc;
  grow_to(cc, 100);
  cc.on_fast_retransmit(100 * kMss, at_ms(0));
  cc.on_recovery_exit();
  const double rtt = 200;  // ms: long enough that W_cubic stays above W_est
  cc.on_rtt_sample(Duration(200'000), Duration(200'000));
  const double t0 = 1000;
  cc.on_ack(kMss, 0, at_ms(t0));  // starts the epoch
  const double k = std::cbrt(75.0);
  auto w = [&](double t) { return 0.4 * std::pow(t - k, 3) + 100.0; };
  double now = t0;
  for (int second = 1; second <= 7; ++second) {
    now = run_rounds(cc, now, rtt, 5);
    const double t = (now - t0) / 1000.0;
    // RFC 9438 §4.2: each window moves cwnd toward target = W_cubic(t + RTT), so cwnd lies
    // between the curve now and the curve one RTT ahead.
    EXPECT_GE(cc.cwnd_segments(), w(t) - 1.5) << "t=" << t;
    EXPECT_LE(cc.cwnd_segments(), w(t + rtt / 1000.0) + 0.5) << "t=" << t;
    EXPECT_GT(cc.cwnd_segments(), cc.w_est()) << "t=" << t;  // not Reno-friendly here
  }
  EXPECT_GT(cc.cwnd_segments(), 100.0);  // convex region: probing past W_max
}

TEST(Cubic, RenoFriendlyRegionGrowsByAlphaPerRtt) {
  CubicCongestion cc;
  grow_to(cc, 20);
  cc.on_fast_retransmit(20 * kMss, at_ms(0));
  cc.on_recovery_exit();
  EXPECT_EQ(cc.cwnd(), 14 * kMss);
  cc.on_rtt_sample(Duration(10'000), Duration(10'000));  // short RTT: W_est dominates
  cc.on_ack(kMss, 0, at_ms(100));
  const double after_first = cc.cwnd_segments();
  run_rounds(cc, 100, 10, 5);
  // RFC 9438 §4.3: W_est grows by alpha_cubic = 3*0.3/1.7 segments per window acked.
  const double alpha = 3.0 * 0.3 / 1.7;
  EXPECT_NEAR(CubicCongestion::kAlpha, alpha, 1e-12);
  EXPECT_NEAR(cc.cwnd_segments(), after_first + 5 * alpha, 0.35);
  EXPECT_NEAR(cc.w_est(), cc.cwnd_segments(), 1e-6);
  // Once W_est passes cwnd_prior (20) alpha becomes 1: about one segment per RTT.
  run_rounds(cc, 200, 10, 20);
  const double before = cc.cwnd_segments();
  ASSERT_GT(before, 20.0);
  run_rounds(cc, 500, 10, 4);
  EXPECT_NEAR(cc.cwnd_segments(), before + 4.0, 0.5);
}

TEST(Cubic, FastConvergenceReducesWmax) {
  CubicCongestion cc;
  grow_to(cc, 100);
  cc.on_fast_retransmit(100 * kMss, at_ms(0));
  cc.on_recovery_exit();
  ASSERT_FALSE(cc.in_slow_start());
  // A loss in congestion avoidance at 70, below the W_max of 100 that the slow-start loss left:
  // no fast convergence against a slow-start overshoot (RFC 9438 §4.10; cubic.cpp reduce()).
  cc.on_fast_retransmit(70 * kMss, at_ms(10));
  EXPECT_DOUBLE_EQ(cc.w_max(), 70.0);
  EXPECT_EQ(cc.ssthresh(), 49 * kMss);
  cc.on_recovery_exit();
  // A further loss below that avoidance W_max: W_max = cwnd * (1 + beta) / 2 (RFC 9438 §4.7).
  cc.on_fast_retransmit(49 * kMss, at_ms(20));
  EXPECT_NEAR(cc.w_max(), 49.0 * 1.7 / 2.0, 1e-9);

  // RFC 9438 as written: fast convergence against the slow-start W_max too.
  CubicCongestion rfc(CubicOptions{.fast_convergence_after_slow_start = true});
  grow_to(rfc, 100);
  rfc.on_fast_retransmit(100 * kMss, at_ms(0));
  rfc.on_recovery_exit();
  rfc.on_fast_retransmit(70 * kMss, at_ms(10));
  EXPECT_NEAR(rfc.w_max(), 70.0 * 1.7 / 2.0, 1e-9);

  CubicCongestion no_fc(CubicOptions{.fast_convergence = false});
  grow_to(no_fc, 100);
  no_fc.on_fast_retransmit(100 * kMss, at_ms(0));
  no_fc.on_recovery_exit();
  no_fc.on_fast_retransmit(70 * kMss, at_ms(10));
  no_fc.on_recovery_exit();
  no_fc.on_fast_retransmit(49 * kMss, at_ms(20));
  EXPECT_DOUBLE_EQ(no_fc.w_max(), 49.0);
}

TEST(Cubic, SsthreshFloorAndEcnReduction) {
  CubicCongestion cc;
  cc.init(kMss, 10);
  cc.on_fast_retransmit(2 * kMss, at_ms(0));
  EXPECT_EQ(cc.ssthresh(), 2 * kMss);  // max(ssthresh, 2 SMSS)
  CubicCongestion e;
  e.init(kMss, 10);
  e.on_ecn_echo(1 * kMss, at_ms(0));
  EXPECT_EQ(e.cwnd(), kMss);  // ECE: cwnd >= 1 SMSS
  EXPECT_EQ(e.ssthresh(), 2 * kMss);
  CubicCongestion f;
  grow_to(f, 50);
  f.on_ecn_echo(50 * kMss, at_ms(0));
  EXPECT_EQ(f.cwnd(), 35 * kMss);
}

TEST(Cubic, TimeoutThenAvoidanceStartsWithKZero) {
  CubicCongestion cc;
  grow_to(cc, 100);
  cc.on_rto(100 * kMss, at_ms(0));
  EXPECT_EQ(cc.cwnd(), kMss);
  EXPECT_EQ(cc.ssthresh(), 70 * kMss);
  // Slow start back to ssthresh, then the first avoidance ACK: RFC 9438 §4.8 K = 0,
  // W_max = cwnd_epoch.
  while (cc.in_slow_start()) cc.on_ack(kMss, 0, at_ms(5));
  cc.on_rtt_sample(Duration(50'000), Duration(50'000));
  const double epoch_cwnd = cc.cwnd_segments();
  cc.on_ack(kMss, 0, at_ms(10));
  EXPECT_DOUBLE_EQ(cc.k(), 0.0);
  EXPECT_DOUBLE_EQ(cc.w_max(), epoch_cwnd);
}

TEST(Cubic, SpuriousUndoRestoresWindow) {
  CubicCongestion cc;
  grow_to(cc, 80);
  cc.on_fast_retransmit(80 * kMss, at_ms(0));
  cc.on_recovery_exit();
  EXPECT_EQ(cc.cwnd(), 56 * kMss);
  cc.on_spurious_undo();
  EXPECT_EQ(cc.cwnd(), 80 * kMss);
  EXPECT_EQ(cc.ssthresh(), UINT32_MAX);
  EXPECT_DOUBLE_EQ(cc.w_max(), 0.0);
}

TEST(Cubic, RegisteredByName) {
  auto c = make_congestion_control("cubic");
  ASSERT_NE(c, nullptr);
  EXPECT_STREQ(c->name(), "cubic");
  auto h = make_congestion_control("cubic+hystart");
  ASSERT_NE(h, nullptr);
  EXPECT_STREQ(h->name(), "cubic+hystart");
  auto rfc = make_congestion_control("cubic-rfc9438");
  ASSERT_NE(rfc, nullptr);
  EXPECT_STREQ(rfc->name(), "cubic-rfc9438");
  ASSERT_NE(make_congestion_control("newreno"), nullptr);
  ASSERT_NE(make_congestion_control("reno"), nullptr);
  EXPECT_EQ(make_congestion_control("bbr"), nullptr);
}

TEST(Cubic, SlowStartCountsEveryByteAStretchAckCoversUpToSsthresh) {
  // As Reno: a stretch ACK of ten segments grows cwnd by ten segments, never past ssthresh.
  CubicCongestion cc;
  cc.init(kMss, 10);
  cc.on_ack(10 * kMss, 10 * kMss, at_ms(0));
  EXPECT_EQ(cc.cwnd(), 20 * kMss);
  grow_to(cc, 100);
  cc.on_rto(100 * kMss, at_ms(10));  // ssthresh = 70 segments, cwnd = 1
  ASSERT_EQ(cc.ssthresh(), 70 * kMss);
  cc.on_ack(40 * kMss, kMss, at_ms(20));
  EXPECT_EQ(cc.cwnd(), 41 * kMss);
  cc.on_ack(40 * kMss, 41 * kMss, at_ms(30));
  EXPECT_EQ(cc.cwnd(), 70 * kMss);
  EXPECT_FALSE(cc.in_slow_start());
}

// --- HyStart++ ------------------------------------------------------------------------------

TEST(HyStart, StretchAcksGrowSlowStartByWhatTheyCoverAndCssByAQuarter) {
  CubicCongestion cc(CubicOptions{.hystart = true});
  cc.init(kMss, 10);
  cc.on_ack(16 * kMss, 10 * kMss, at_ms(0));  // more than RFC 9406's L = 8 for non-paced
  EXPECT_EQ(cc.cwnd(), 26 * kMss);
  HyStart h;
  h.reset(10 * kMss);
  uint32_t cwnd = 10 * kMss;
  auto round = [&](int64_t rtt_us) {
    const uint32_t acks = cwnd / kMss;
    for (uint32_t i = 0; i < acks; ++i) {
      h.on_rtt_sample(Duration(rtt_us));
      cwnd += h.on_ack(kMss, cwnd);
    }
  };
  round(50'000);
  round(60'000);  // into CSS
  ASSERT_EQ(h.phase(), HyStart::Phase::kConservative);
  EXPECT_EQ(h.on_ack(16 * kMss, cwnd), 4 * kMss);  // CSS: a quarter of the bytes acked
}

TEST(HyStart, DelayIncreaseEntersCssThenAvoidance) {
  // The delay rule alone: these ACKs, spread over each whole round, are also a train that the
  // ACK-train exit (ack_train_test.cpp) would take for cwnd = BDP.
  CubicCongestion cc(CubicOptions{.hystart = true, .ack_train = false});
  cc.init(kMss, 10);
  double now = 0;
  auto round = [&](double rtt_ms) {
    const uint32_t acks = cc.cwnd() / kMss;
    for (uint32_t i = 0; i < acks; ++i) {
      now += rtt_ms / acks;
      cc.on_rtt_sample(Duration(static_cast<int64_t>(rtt_ms * 1000)), Duration(100'000));
      cc.on_ack(kMss, cc.cwnd(), at_ms(now));
    }
  };
  round(100);
  EXPECT_EQ(cc.cwnd(), 20 * kMss);  // standard slow start doubling
  round(100);
  EXPECT_EQ(cc.cwnd(), 40 * kMss);
  EXPECT_EQ(cc.hystart().phase(), HyStart::Phase::kSlowStart);
  // RttThresh = clamp(100/8, 4, 16) = 12.5 ms: 120 ms trips it.
  round(120);
  EXPECT_EQ(cc.hystart().phase(), HyStart::Phase::kConservative);
  const uint32_t at_css = cc.cwnd();
  EXPECT_LT(at_css, 80 * kMss);  // growth slowed during the round
  round(120);
  // RFC 9406: CSS grows by a quarter of slow start.
  EXPECT_NEAR(cc.cwnd(), at_css + at_css / 4, kMss);
  for (int i = 0; i < 4; ++i) round(120);
  EXPECT_EQ(cc.hystart().phase(), HyStart::Phase::kDone);
  // RFC 9406: ssthresh = cwnd at the end of CSS; avoidance growth after it is slow.
  EXPECT_FALSE(cc.in_slow_start());
  EXPECT_GT(cc.ssthresh(), at_css);
  EXPECT_LE(cc.ssthresh(), cc.cwnd());
  EXPECT_LT(cc.cwnd(), cc.ssthresh() + cc.ssthresh() / 10);
}

TEST(HyStart, RttFallingBackResumesSlowStart) {
  HyStart h;
  h.reset(10 * kMss);
  uint32_t cwnd = 10 * kMss;
  auto round = [&](int64_t rtt_us) {
    const uint32_t acks = cwnd / kMss;
    for (uint32_t i = 0; i < acks; ++i) {
      h.on_rtt_sample(Duration(rtt_us));
      cwnd += h.on_ack(kMss, cwnd);
    }
  };
  round(50'000);
  round(60'000);  // +10 ms > max(4, 50/8=6.25) ms
  EXPECT_EQ(h.phase(), HyStart::Phase::kConservative);
  round(45'000);  // below the CSS baseline: the exit was spurious
  EXPECT_EQ(h.phase(), HyStart::Phase::kSlowStart);
}

// --- PRR ------------------------------------------------------------------------------------

TEST(Prr, ProportionalPartSendsSsthreshOverRecoverFs) {
  // RFC 6937 §3: RecoverFS = 20 segments, ssthresh = 10: one segment per two ACKs while
  // pipe > ssthresh.
  Prr prr;
  prr.enter(10 * kMss, 20 * kMss);
  uint32_t pipe = 19 * kMss;
  uint64_t sent = 0;
  for (int i = 0; i < 16; ++i) {
    const uint32_t snd = prr.on_ack(kMss, pipe, kMss);
    EXPECT_EQ(snd, (i % 2 == 0) ? kMss / 2 : kMss) << i;
    // Send whole segments only, as a sender would.
    const uint32_t whole = prr.remaining() / kMss * kMss;
    prr.consume(whole);
    sent += whole;
    pipe = pipe - kMss + whole;
  }
  EXPECT_EQ(sent, 8 * kMss);  // half of what was delivered
  EXPECT_EQ(prr.prr_out(), 8 * kMss);
  EXPECT_EQ(prr.prr_delivered(), 16 * kMss);
}

TEST(Prr, ReductionBoundsBelowSsthresh) {
  // pipe below ssthresh after a burst of losses: SSRB lets the sender catch up by
  // max(prr_delivered - prr_out, DeliveredData) + MSS; CRB only by prr_delivered - prr_out.
  Prr ssrb(Prr::Bound::kSlowStart);
  Prr crb(Prr::Bound::kConservative);
  ssrb.enter(10 * kMss, 20 * kMss);
  crb.enter(10 * kMss, 20 * kMss);
  EXPECT_EQ(ssrb.on_ack(3 * kMss, 4 * kMss, kMss), 4 * kMss);
  EXPECT_EQ(crb.on_ack(3 * kMss, 4 * kMss, kMss), 3 * kMss);
  // Never more than ssthresh - pipe.
  Prr capped;
  capped.enter(10 * kMss, 20 * kMss);
  EXPECT_EQ(capped.on_ack(8 * kMss, 9 * kMss, kMss), 1 * kMss);
  // Never negative after over-sending.
  Prr over;
  over.enter(10 * kMss, 20 * kMss);
  over.on_sent(15 * kMss);
  EXPECT_EQ(over.on_ack(kMss, 15 * kMss, kMss), 0u);
}

// --- NewReno recovery episode ---------------------------------------------------------------

TEST(RecoveryState, PartialAndFullAcks) {
  RecoveryState r;
  const wire::SeqNum base(0xFFFFFF00u);
  EXPECT_TRUE(r.may_enter(base));
  r.enter(base + 10000);
  EXPECT_TRUE(r.in_recovery());
  EXPECT_EQ(r.on_ack(base, false), RecoveryState::AckKind::kDup);
  EXPECT_EQ(r.on_ack(base + 3000, true), RecoveryState::AckKind::kPartial);
  EXPECT_EQ(r.on_ack(base + 9999, true), RecoveryState::AckKind::kPartial);
  EXPECT_EQ(r.partial_acks(), 2u);
  EXPECT_EQ(r.on_ack(base + 10000, true), RecoveryState::AckKind::kFull);
  EXPECT_FALSE(r.in_recovery());
  EXPECT_EQ(r.on_ack(base + 11000, true), RecoveryState::AckKind::kNone);
}

TEST(RecoveryState, NoReentryBelowRecoverAfterRto) {
  RecoveryState r;
  const wire::SeqNum base(1000);
  r.on_rto(base + 50000);
  // RFC 6582 §3.2 step 2: duplicate ACKs below `recover` do not start a fast retransmit.
  EXPECT_FALSE(r.may_enter(base + 20000));
  EXPECT_TRUE(r.may_enter(base + 50000));
}

}  // namespace
}  // namespace utcp::tcp
