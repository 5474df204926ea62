// SPDX-License-Identifier: BSD-2-Clause
// TimedPacketQueue: packets leave by release time, in arrival order among equal times, whether
// they were pushed in release order (the FIFO path) or not (the heap path), and mixed.
#include "dev/timed_packet_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

#include "support/test_stream.hpp"

namespace utcp::dev {
namespace {

using test::test_seed;

Instant at(int64_t us) {
  return instant_from_us(us);
}

// Pops everything due at `now`; each packet is one byte naming it.
std::vector<int> drain(TimedPacketQueue& q, Instant now) {
  std::vector<int> out;
  while (q.due(now)) {
    out.push_back(q.front()[0]);
    q.pop();
  }
  return out;
}

TEST(TimedPacketQueue, ReleaseOrderThenArrivalOrder) {
  TimedPacketQueue q(8, 16);
  const uint8_t p[5] = {0, 1, 2, 3, 4};
  ASSERT_TRUE(q.push({&p[0], 1}, at(10)));
  ASSERT_TRUE(q.push({&p[1], 1}, at(20)));
  ASSERT_TRUE(q.push({&p[2], 1}, at(5)));   // earlier than the last: out of order
  ASSERT_TRUE(q.push({&p[3], 1}, at(20)));  // equal time: after packet 1
  ASSERT_TRUE(q.push({&p[4], 1}, at(5)));   // equal to packet 2: after it
  EXPECT_EQ(q.size(), 5u);
  EXPECT_EQ(q.next_release(), at(5));
  EXPECT_EQ(drain(q, at(9)), (std::vector<int>{2, 4}));
  EXPECT_EQ(drain(q, at(10)), (std::vector<int>{0}));
  EXPECT_EQ(drain(q, at(100)), (std::vector<int>{1, 3}));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.next_release(), kNever);
}

TEST(TimedPacketQueue, FullAndOversizedAreRefusedAndSlotsAreReused) {
  TimedPacketQueue q(3, 4);
  const uint8_t p[5] = {7, 7, 7, 7, 7};
  EXPECT_FALSE(q.push({p, 5}, at(1)));
  for (int round = 0; round < 10; ++round) {  // wraps the FIFO ring several times
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(q.push({p, 4}, at(round)));
    EXPECT_TRUE(q.full());
    EXPECT_FALSE(q.push({p, 1}, at(round)));
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(q.due(at(round)));
      EXPECT_EQ(q.front().size(), 4u);
      q.pop();
    }
  }
  EXPECT_TRUE(q.empty());
}

TEST(TimedPacketQueue, RandomPushesMatchAStableSortByReleaseTime) {
  const uint32_t seed = test_seed("TimedPacketQueue.RandomPushesMatchAStableSortByReleaseTime");
  std::mt19937 rng(seed);
  for (int trial = 0; trial < 200; ++trial) {
    TimedPacketQueue q(64, 8);
    struct Ref {
      int64_t release;
      uint64_t order;
      uint8_t id;
    };
    std::vector<Ref> ref;
    uint64_t order = 0;
    int64_t now = 0, last = 0;
    for (int step = 0; step < 300; ++step) {
      if (rng() % 3 != 0 && !q.full()) {
        // Mostly monotone releases (the FIFO path), sometimes earlier (the heap path).
        const int64_t release =
            rng() % 4 == 0 ? now + static_cast<int64_t>(rng() % 50) : last + rng() % 3;
        last = std::max(last, release);
        const uint8_t id = static_cast<uint8_t>(order);
        ASSERT_TRUE(q.push({&id, 1}, at(release)));
        ref.push_back(Ref{release, order++, id});
      } else {
        now += rng() % 20;
        std::stable_sort(ref.begin(), ref.end(), [](const Ref& a, const Ref& b) {
          return a.release != b.release ? a.release < b.release : a.order < b.order;
        });
        while (!ref.empty() && ref.front().release <= now) {
          ASSERT_TRUE(q.due(at(now))) << "seed " << seed << " trial " << trial;
          ASSERT_EQ(q.front()[0], ref.front().id) << "seed " << seed << " trial " << trial;
          q.pop();
          ref.erase(ref.begin());
        }
        ASSERT_FALSE(q.due(at(now))) << "seed " << seed << " trial " << trial;
        ASSERT_EQ(q.size(), ref.size());
        ASSERT_EQ(q.next_release(), ref.empty() ? kNever : at(ref.front().release));
      }
    }
  }
}

}  // namespace
}  // namespace utcp::dev
