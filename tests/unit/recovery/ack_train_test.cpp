// SPDX-License-Identifier: BSD-2-Clause
// The ACK-train slow-start exit (src/tcp/ack_train.hpp) on virtual-clock ACK sequences, alone
// and inside CUBIC (on by default; "cubic-rfc9438" turns it off).
#include <gtest/gtest.h>

#include "tcp/ack_train.hpp"
#include "tcp/congestion_control.hpp"
#include "tcp/cubic.hpp"

namespace utcp::tcp {
namespace {

constexpr uint32_t kMss = 1000;
Instant at_us(int64_t us) {
  return instant_from_us(us);
}

// One round of `acks` ACKs of one segment each, `gap_us` apart from `start_us`. Returns whether
// the detector fired, and at which ACK (index) through `fired_at`.
bool round(AckTrain& t, int64_t start_us, int acks, int64_t gap_us, uint32_t cwnd,
           int* fired_at = nullptr) {
  for (int i = 0; i < acks; ++i) {
    if (t.on_ack(at_us(start_us + i * gap_us), kMss, cwnd, kMss)) {
      if (fired_at) *fired_at = i;
      return true;
    }
  }
  return false;
}

TEST(AckTrain, ExitsOnceTheTrainSpansTheThresholdNotBefore) {
  // min RTT 40 ms, threshold 50 %: a train must last 20 ms. 100 ACKs 250 us apart (a 100-segment
  // window through a bottleneck of 4,000 segments/s, BDP 160) span 24.75 ms.
  AckTrain t(50);
  t.on_rtt_sample(Duration{40'000});
  t.reset(100 * kMss);
  int fired = -1;
  ASSERT_TRUE(round(t, 0, 100, 250, 100 * kMss, &fired));
  EXPECT_EQ(fired, 80);  // 80 * 250 us = 20 ms: the first ACK at or past half the min RTT
  EXPECT_TRUE(t.exited());
  // Fires once per slow start.
  EXPECT_FALSE(t.on_ack(at_us(30'000), kMss, 100 * kMss, kMss));
}

TEST(AckTrain, FullMinRttThresholdForAPacedSender) {
  // Threshold 100 %: the same 24.75 ms train is not enough; one spanning 40 ms is.
  AckTrain t(100);
  t.on_rtt_sample(Duration{40'000});
  t.reset(100 * kMss);
  EXPECT_FALSE(round(t, 0, 100, 250, 100 * kMss));
  EXPECT_EQ(t.longest_train(), Duration{24'750});
  int fired = -1;
  ASSERT_TRUE(round(t, 100'000, 200, 250, 200 * kMss, &fired));
  EXPECT_EQ(fired, 160);  // 160 * 250 us = 40 ms
}

TEST(AckTrain, AGapEndsTheTrain) {
  // The round's ACKs come in bursts 5 ms apart (more than kAckSpacing): each burst is short, so
  // however long the round lasts, no train spans the threshold.
  AckTrain t(50);
  t.on_rtt_sample(Duration{40'000});
  t.reset(100 * kMss);
  for (int b = 0; b < 10; ++b) {
    EXPECT_FALSE(round(t, b * 5'000, 10, 100, 100 * kMss)) << "burst " << b;
  }
  EXPECT_LE(t.longest_train(), Duration{900});
  EXPECT_FALSE(t.exited());
}

TEST(AckTrain, NoExitOnAShortPathOrBelowTheMinimumWindow) {
  // A 1 ms path: ACKs 100 us apart over a whole round of 10 ms would pass half the RTT, but a
  // window under kMinWindowSegments never exits.
  AckTrain small(50);
  small.on_rtt_sample(Duration{1'000});
  small.reset(10 * kMss);
  EXPECT_FALSE(round(small, 0, 15, 100, 15 * kMss));
  EXPECT_FALSE(small.exited());
  // On a short path whose ACKs arrive in one burst (the window is below the BDP), nothing fires
  // either: 64 ACKs 2 us apart span 126 us, under half of 1 ms.
  AckTrain burst(50);
  burst.on_rtt_sample(Duration{1'000});
  burst.reset(64 * kMss);
  for (int r = 0; r < 5; ++r) EXPECT_FALSE(round(burst, r * 1'000, 64, 2, 64 * kMss));
  EXPECT_FALSE(burst.exited());
  // Without an RTT sample there is no threshold.
  AckTrain no_rtt(50);
  no_rtt.reset(100 * kMss);
  EXPECT_FALSE(round(no_rtt, 0, 200, 250, 100 * kMss));
}

TEST(AckTrain, RoundsFollowAckedBytes) {
  // A round is one window of acknowledged bytes: the second round's train starts at its own
  // first ACK, so a train never spans two rounds.
  AckTrain t(50);
  t.on_rtt_sample(Duration{40'000});
  t.reset(50 * kMss);
  // Round 1: 50 ACKs 300 us apart = 14.7 ms; round 2 right after it: 14.7 ms again.
  EXPECT_FALSE(round(t, 0, 50, 300, 50 * kMss));
  EXPECT_FALSE(round(t, 15'000, 50, 300, 50 * kMss));
  EXPECT_EQ(t.longest_train(), Duration{14'700});
}

TEST(AckTrain, CubicEntersAvoidanceAtTheExitWithKZero) {
  // RFC 9438 §4.10: leaving slow start without a loss, cwnd_prior = cwnd, ssthresh = cwnd, and
  // the first epoch starts at W_max = cwnd with K = 0.
  CubicCongestion cc(CubicOptions{.ack_train = true, .ack_train_percent = 50});
  cc.init(kMss, 10);
  cc.on_rtt_sample(Duration{40'000}, Duration{40'000});
  // Slow start through a 4,000 segments/s bottleneck: each round's ACKs 250 us apart.
  int64_t now = 0;
  while (cc.in_slow_start() && now < 10'000'000) {
    const uint32_t acks = cc.cwnd() / kMss;
    for (uint32_t i = 0; i < acks && cc.in_slow_start(); ++i) {
      cc.on_ack(kMss, cc.cwnd(), at_us(now + i * 250));
    }
    now += 40'000;
  }
  ASSERT_FALSE(cc.in_slow_start());
  // The 80-segment round's train spans 79 * 250 us = 19.75 ms, just short of 20 ms; the
  // 160-segment round's passes it at its 81st ACK, when cwnd is 160 + 80 segments (the BDP is
  // 160; slow start without the exit would go on doubling until a loss).
  EXPECT_EQ(cc.cwnd(), 240u * kMss);
  EXPECT_EQ(cc.ssthresh(), 240u * kMss);
  cc.on_ack(kMss, cc.cwnd(), at_us(now));
  EXPECT_DOUBLE_EQ(cc.w_max(), 240.0);
  EXPECT_DOUBLE_EQ(cc.k(), 0.0);
}

TEST(AckTrain, OnlyInTheInitialSlowStartAndOffInCubicRfc9438) {
  // The same evenly spread ACKs as above: the default CUBIC leaves slow start, "cubic-rfc9438"
  // (RFC 5681 slow start) does not; after an RTO, slow start runs up to ssthresh.
  auto drive = [](CongestionControl& cc, int64_t from_us, int rounds) {
    int64_t now = from_us;
    for (int r = 0; r < rounds; ++r) {
      const uint32_t acks = cc.cwnd() / kMss;
      for (uint32_t i = 0; i < acks; ++i) cc.on_ack(kMss, cc.cwnd(), at_us(now + i * 250));
      now += 40'000;
    }
    return now;
  };
  auto def = make_congestion_control("cubic");
  auto rfc = make_congestion_control("cubic-rfc9438");
  ASSERT_NE(def, nullptr);
  ASSERT_NE(rfc, nullptr);
  EXPECT_STREQ(def->name(), "cubic");
  EXPECT_STREQ(rfc->name(), "cubic-rfc9438");
  for (auto* cc : {def.get(), rfc.get()}) {
    cc->init(kMss, 10);
    cc->on_rtt_sample(Duration{10'000}, Duration{10'000});  // threshold 10 ms: 40 ACKs
  }
  drive(*def, 0, 4);
  drive(*rfc, 0, 4);
  EXPECT_LT(def->ssthresh(), UINT32_MAX);  // left slow start: the train passed 10 ms
  EXPECT_EQ(rfc->ssthresh(), UINT32_MAX);  // still in slow start
  EXPECT_EQ(rfc->cwnd(), 160u * kMss);

  // After an RTO (ssthresh = 0.7 * 1000 segments) the train no longer ends slow start early:
  // the 64-segment round's train passes 10 ms at cwnd 104, far below ssthresh.
  def->on_rto(1000 * kMss, at_us(200'000));
  ASSERT_EQ(def->ssthresh(), 700u * kMss);
  drive(*def, 300'000, 11);
  EXPECT_EQ(def->ssthresh(), 700u * kMss);
  EXPECT_GE(def->cwnd(), 700u * kMss);
}

}  // namespace
}  // namespace utcp::tcp
