#include "tcp/challenge_ack_limiter.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace utcp::tcp
