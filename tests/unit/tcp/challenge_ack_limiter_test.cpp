// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/challenge_ack_limiter.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

namespace utcp::tcp {
namespace {

int count_allowed(ChallengeAckLimiter& lim, Instant t, int attempts) {
  int n = 0;
  for (int i = 0; i < attempts; ++i) n += lim.allow(t);
  return n;
}

TEST(ChallengeAckLimiter, DefaultAllowsOneThousandPerSecond) {
  // RFC 5961 §7: bounded number of challenge ACKs per interval.
  ChallengeAckLimiter lim;
  const Instant t0 = instant_from_us(5'000'000);
  EXPECT_EQ(count_allowed(lim, t0, 5000), 1000);
  EXPECT_FALSE(lim.allow(t0 + std::chrono::microseconds(999)));  // not yet one token back
  EXPECT_TRUE(lim.allow(t0 + std::chrono::milliseconds(1)));     // 1 ms = 1 token
  EXPECT_FALSE(lim.allow(t0 + std::chrono::milliseconds(1)));
}

TEST(ChallengeAckLimiter, RefillsAtConfiguredRateAndCapsAtOneSecond) {
  ChallengeAckLimiter lim(10);
  Instant t = instant_from_us(0);
  EXPECT_EQ(count_allowed(lim, t, 100), 10);
  t += std::chrono::milliseconds(500);
  EXPECT_EQ(count_allowed(lim, t, 100), 5);
  t += std::chrono::seconds(3600);  // a long quiet period refills to at most one second's worth
  EXPECT_EQ(count_allowed(lim, t, 100), 10);
}

TEST(ChallengeAckLimiter, SustainedRateOverManySeconds) {
  ChallengeAckLimiter lim(100);
  int allowed = 0;
  // 10 attempts every millisecond for 10 s: far above the limit.
  for (int ms = 0; ms < 10'000; ++ms) allowed += count_allowed(lim, instant_from_us(ms * 1000), 10);
  // Initial burst of 100 plus 100/s for the 9.999 s that follow.
  EXPECT_GE(allowed, 1099);
  EXPECT_LE(allowed, 1100);
}

TEST(ChallengeAckLimiter, TimeGoingBackwardsDoesNotRefill) {
  ChallengeAckLimiter lim(2);
  const Instant t = instant_from_us(10'000'000);
  EXPECT_EQ(count_allowed(lim, t, 5), 2);
  EXPECT_FALSE(lim.allow(t - std::chrono::seconds(5)));
  EXPECT_FALSE(lim.allow(t));
  EXPECT_TRUE(lim.allow(t + std::chrono::milliseconds(500)));
}

TEST(ChallengeAckLimiter, ZeroRateNeverAllows) {
  ChallengeAckLimiter lim(0);
  EXPECT_FALSE(lim.allow(instant_from_us(0)));
  EXPECT_FALSE(lim.allow(instant_from_us(10'000'000)));
}

// ---- per connection and jitter (CVE-2016-5696) ----

int count_allowed(ChallengeAckLimiter& lim, ChallengeAckLimiter::ConnectionBudget& c, Instant t,
                  int attempts) {
  int n = 0;
  for (int i = 0; i < attempts; ++i) n += lim.allow(t, c);
  return n;
}

TEST(ChallengeAckLimiter, EachConnectionHasItsOwnBudget) {
  ChallengeAckLimiter lim(1000, 2);
  ChallengeAckLimiter::ConnectionBudget a, b;
  Instant t = instant_from_us(0);
  EXPECT_EQ(count_allowed(lim, a, t, 50), 2);
  EXPECT_EQ(count_allowed(lim, b, t, 50), 2);  // a's exhaustion does not touch b's
  t += std::chrono::milliseconds(500);         // 2 per second: one token back
  EXPECT_EQ(count_allowed(lim, a, t, 50), 1);
  t += std::chrono::seconds(10);  // at most one second's worth comes back
  EXPECT_EQ(count_allowed(lim, a, t, 50), 2);
}

TEST(ChallengeAckLimiter, AConnectionOverItsBudgetSpendsNothingStackWide) {
  ChallengeAckLimiter lim(3, 2);
  ChallengeAckLimiter::ConnectionBudget a, b, c;
  const Instant t = instant_from_us(0);
  EXPECT_EQ(count_allowed(lim, a, t, 100), 2);
  EXPECT_EQ(count_allowed(lim, b, t, 100), 1);  // the stack-wide 3 is the limit now
  EXPECT_EQ(count_allowed(lim, c, t, 100), 0);
  // b was refused stack-wide, not by its own budget: it keeps its second token.
  EXPECT_EQ(count_allowed(lim, b, t + std::chrono::milliseconds(400), 100), 1);
}

TEST(ChallengeAckLimiter, CountsSentAndRateLimitedForTheStacksCounters) {
  ChallengeAckLimiter lim(3, 2);
  ChallengeAckLimiter::ConnectionBudget a, b;
  const Instant t = instant_from_us(0);
  EXPECT_EQ(count_allowed(lim, a, t, 5), 2);  // 3 refused by a's own budget
  EXPECT_EQ(count_allowed(lim, b, t, 4), 1);  // 3 refused stack-wide
  EXPECT_EQ(lim.sent(), 3u);
  EXPECT_EQ(lim.limited(), 6u);
}

TEST(ChallengeAckLimiter, ZeroPerConnectionMeansOnlyTheStackWideLimit) {
  ChallengeAckLimiter lim(10, 0);
  ChallengeAckLimiter::ConnectionBudget a;
  EXPECT_EQ(count_allowed(lim, a, instant_from_us(0), 100), 10);
}

// Allowed per one-second window over `seconds` windows, 5000 attempts in each.
std::vector<int> per_second_counts(uint64_t seed, int seconds) {
  ChallengeAckLimiter lim(1000, 0, seed);
  std::vector<int> out;
  for (int s = 0; s < seconds; ++s) {
    out.push_back(count_allowed(lim, instant_from_us(int64_t{s} * 1'000'000), 5000));
  }
  return out;
}

TEST(ChallengeAckLimiter, JitteredBudgetIsDrawnEachSecondBetweenHalfAndOneAndAHalf) {
  const uint64_t seed = 0x5EED;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  const std::vector<int> counts = per_second_counts(seed, 50);
  int distinct = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    EXPECT_GE(counts[i], 500);
    EXPECT_LT(counts[i], 1500);
    if (i > 0 && counts[i] != counts[i - 1]) ++distinct;
  }
  EXPECT_GT(distinct, 40);                         // it varies from second to second
  EXPECT_EQ(per_second_counts(seed, 50), counts);  // and replays exactly from the seed
  EXPECT_NE(per_second_counts(seed + 1, 50), counts);
}

}  // namespace
}  // namespace utcp::tcp
