// SPDX-License-Identifier: BSD-2-Clause
#include "stack/timer_heap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

namespace utcp::stack {
namespace {

Instant at(int64_t us) {
  return instant_from_us(us);
}

TEST(TimerHeap, PopsInDeadlineOrder) {
  TimerHeap h;
  h.schedule(3, at(30));
  h.schedule(1, at(10));
  h.schedule(2, at(20));
  EXPECT_EQ(h.earliest(), at(10));
  TimerHeap::Id id;
  EXPECT_FALSE(h.pop_expired(at(9), id));
  ASSERT_TRUE(h.pop_expired(at(25), id));
  EXPECT_EQ(id, 1u);
  ASSERT_TRUE(h.pop_expired(at(25), id));
  EXPECT_EQ(id, 2u);
  EXPECT_FALSE(h.pop_expired(at(25), id));
  EXPECT_EQ(h.size(), 1u);
}

TEST(TimerHeap, RescheduleMovesBothWays) {
  TimerHeap h;
  h.schedule(1, at(10));
  h.schedule(2, at(20));
  h.schedule(1, at(30));  // later
  EXPECT_EQ(h.earliest_id(), 2u);
  h.schedule(1, at(5));  // earlier
  EXPECT_EQ(h.earliest_id(), 1u);
  EXPECT_EQ(h.deadline_of(1), at(5));
  EXPECT_EQ(h.size(), 2u);
}

TEST(TimerHeap, CancelAndNeverRemove) {
  TimerHeap h;
  h.schedule(1, at(10));
  h.schedule(2, at(20));
  h.cancel(1);
  EXPECT_FALSE(h.scheduled(1));
  h.schedule(2, kNever);
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.earliest(), kNever);
  h.cancel(7);  // unknown ids are fine
}

// Against a std::map model with random operations; the seed is printed for replay.
TEST(TimerHeap, MatchesModelUnderRandomOperations) {
  const uint32_t seed = 12345;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  TimerHeap h;
  std::map<uint32_t, int64_t> model;
  int64_t now = 0;
  for (int step = 0; step < 20000; ++step) {
    uint32_t id = rng() % 500;
    switch (rng() % 4) {
      case 0:
      case 1: {
        int64_t d = now + static_cast<int64_t>(rng() % 1000);
        h.schedule(id, at(d));
        model[id] = d;
        break;
      }
      case 2:
        h.cancel(id);
        model.erase(id);
        break;
      case 3: {
        now += rng() % 50;
        TimerHeap::Id got;
        while (h.pop_expired(at(now), got)) {
          ASSERT_TRUE(model.count(got));
          ASSERT_LE(model[got], now);
          // Nothing left in the model may be earlier than what was popped.
          for (auto& [mid, md] : model) ASSERT_GE(md, model[got]) << "id " << mid;
          model.erase(got);
        }
        for (auto& [mid, md] : model) ASSERT_GT(md, now);
        break;
      }
    }
    ASSERT_EQ(h.size(), model.size());
  }
}

}  // namespace
}  // namespace utcp::stack
