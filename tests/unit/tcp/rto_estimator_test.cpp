// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/rto_estimator.hpp"

#include <gtest/gtest.h>

namespace utcp::tcp {
namespace {

using std::chrono::milliseconds;

TEST(RtoEstimator, InitialRtoIsOneSecond) {
  // RFC 6298 §2.1.
  const RtoEstimator est;
  EXPECT_FALSE(est.has_sample());
  EXPECT_EQ(est.rto(), milliseconds(1000));
  EXPECT_EQ(est.backoff_count(), 0u);
}

TEST(RtoEstimator, FirstSampleSetsSrttAndHalfVariance) {
  // RFC 6298 §2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4*RTTVAR).
  RtoEstimator est;
  est.on_sample(milliseconds(100));
  EXPECT_TRUE(est.has_sample());
  EXPECT_EQ(est.srtt(), milliseconds(100));
  EXPECT_EQ(est.rttvar(), milliseconds(50));
  EXPECT_EQ(est.rto(), milliseconds(300));
}

TEST(RtoEstimator, LaterSamplesUseExactRfc6298Arithmetic) {
  RtoEstimator est;
  est.on_sample(milliseconds(400));  // SRTT 400, RTTVAR 200
  // RFC 6298 §2.3 with R' = 800 ms:
  //   RTTVAR = 3/4 * 200 + 1/4 * |400 - 800| = 150 + 100 = 250
  //   SRTT   = 7/8 * 400 + 1/8 * 800 = 350 + 100 = 450
  est.on_sample(milliseconds(800));
  EXPECT_EQ(est.rttvar(), milliseconds(250));
  EXPECT_EQ(est.srtt(), milliseconds(450));
  EXPECT_EQ(est.rto(), milliseconds(450 + 4 * 250));
  // R' = 50 ms: RTTVAR = 3/4*250 + 1/4*400 = 187.5 + 100 = 287.5 ms; SRTT = 7/8*450 + 50/8 =
  // 393.75 + 6.25 = 400 ms.
  est.on_sample(milliseconds(50));
  EXPECT_EQ(est.rttvar(), Duration(287'500));
  EXPECT_EQ(est.srtt(), milliseconds(400));
  EXPECT_EQ(est.rto(), Duration(400'000 + 4 * 287'500));
}

TEST(RtoEstimator, ClockGranularityBoundsTheVarianceTerm) {
  // With a steady RTT, RTTVAR decays toward 0 and max(G, 4*RTTVAR) becomes G = 1 ms.
  RtoConfig cfg;
  cfg.min = Duration(0);
  RtoEstimator est(cfg);
  for (int i = 0; i < 200; ++i) est.on_sample(milliseconds(300));
  EXPECT_EQ(est.srtt(), milliseconds(300));
  EXPECT_LT(4 * est.rttvar(), milliseconds(1));
  EXPECT_EQ(est.rto(), milliseconds(301));
}

TEST(RtoEstimator, ClampsToMinimum) {
  // Deviation documented in docs/conformance.md: floor 200 ms instead of RFC 6298 §2.4's 1 s.
  RtoEstimator est;
  est.on_sample(milliseconds(10));  // 10 + 4*5 = 30 ms raw
  EXPECT_EQ(est.rto(), milliseconds(200));
}

TEST(RtoEstimator, ClampsToMaximum) {
  // RFC 6298 §2.5: an upper bound may be placed on RTO provided it is at least 60 s.
  RtoEstimator est;
  est.on_sample(std::chrono::seconds(30));  // 30 + 4*15 = 90 s raw
  EXPECT_EQ(est.rto(), std::chrono::seconds(60));
}

TEST(RtoEstimator, BackoffDoublesAndIsBoundedByMax) {
  // RFC 6298 §5.5.
  RtoEstimator est;
  est.on_sample(milliseconds(100));  // RTO 300 ms
  est.backoff();
  EXPECT_EQ(est.backoff_count(), 1u);
  EXPECT_EQ(est.rto(), milliseconds(600));
  est.backoff();
  EXPECT_EQ(est.rto(), milliseconds(1200));
  for (int i = 0; i < 20; ++i) est.backoff();
  EXPECT_EQ(est.backoff_count(), 22u);  // keeps counting retransmissions
  EXPECT_EQ(est.rto(), std::chrono::seconds(60));
}

TEST(RtoEstimator, BackoffWithoutSampleStartsFromInitial) {
  RtoEstimator est;
  est.backoff();
  EXPECT_EQ(est.rto(), milliseconds(2000));
  est.backoff();
  EXPECT_EQ(est.rto(), milliseconds(4000));
}

TEST(RtoEstimator, ResetBackoffRestoresComputedRto) {
  RtoEstimator est;
  est.on_sample(milliseconds(100));
  est.backoff();
  est.backoff();
  est.reset_backoff();
  EXPECT_EQ(est.backoff_count(), 0u);
  EXPECT_EQ(est.rto(), milliseconds(300));
}

TEST(RtoEstimator, ResetReturnsToInitialState) {
  // RFC 6298 §5.7: after SYN timeouts the RTO is re-initialised.
  RtoEstimator est;
  est.on_sample(milliseconds(100));
  est.backoff();
  est.reset();
  EXPECT_FALSE(est.has_sample());
  EXPECT_EQ(est.backoff_count(), 0u);
  EXPECT_EQ(est.rto(), milliseconds(1000));
  est.on_sample(milliseconds(80));  // treated as a first sample again
  EXPECT_EQ(est.srtt(), milliseconds(80));
  EXPECT_EQ(est.rttvar(), milliseconds(40));
}

TEST(RtoEstimator, NegativeSampleIsIgnored) {
  RtoEstimator est;
  est.on_sample(Duration(-5));
  EXPECT_FALSE(est.has_sample());
  EXPECT_EQ(est.rto(), milliseconds(1000));
}

}  // namespace
}  // namespace utcp::tcp
