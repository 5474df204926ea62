// SPDX-License-Identifier: BSD-2-Clause
// The bounded receive queue: FIFO order with addressing kept, both limits enforced (a full
// queue refuses, it never grows past them), contiguous datagrams across the ring's wrap, and
// a seeded random workload checked against a plain model.
#include <gtest/gtest.h>

#include <cstdio>
#include <deque>
#include <random>
#include <vector>

#include "udp/datagram_queue.hpp"

namespace utcp::udp {
namespace {

DatagramInfo from(uint16_t port) {
  DatagramInfo i;
  i.src = UdpEndpoint{IpAddr(Ipv4Addr(10, 77, 0, 1)), port};
  i.dst = UdpEndpoint{IpAddr(Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 2)), 53};
  i.traffic_class = static_cast<uint8_t>(port);
  return i;
}

std::vector<uint8_t> bytes(size_t n, uint8_t fill) {
  return std::vector<uint8_t>(n, fill);
}

TEST(DatagramQueue, KeepsOrderBoundariesAndAddressing) {
  DatagramQueue q;
  ASSERT_TRUE(q.push(from(1), bytes(3, 'a')));
  ASSERT_TRUE(q.push(from(2), {}));  // a zero-length datagram is a datagram
  ASSERT_TRUE(q.push(from(3), bytes(5, 'c')));
  EXPECT_EQ(q.datagrams(), 3u);
  EXPECT_EQ(q.bytes(), 8u);
  EXPECT_EQ(q.front_info().src.port, 1);
  EXPECT_EQ(q.front_info().traffic_class, 1);
  EXPECT_EQ(q.front_info().dst.addr, IpAddr(Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 2)));
  EXPECT_EQ(std::vector<uint8_t>(q.front().begin(), q.front().end()), bytes(3, 'a'));
  q.pop();
  EXPECT_EQ(q.front_info().src.port, 2);
  EXPECT_TRUE(q.front().empty());
  q.pop();
  EXPECT_EQ(std::vector<uint8_t>(q.front().begin(), q.front().end()), bytes(5, 'c'));
  q.pop();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(DatagramQueue, RefusesPastTheByteLimit) {
  DatagramQueue q({.bytes = 1000, .datagrams = 100});
  ASSERT_TRUE(q.push(from(1), bytes(600, 1)));
  EXPECT_FALSE(q.push(from(2), bytes(401, 2)));
  ASSERT_TRUE(q.push(from(3), bytes(400, 3)));  // exactly full
  EXPECT_FALSE(q.push(from(4), bytes(1, 4)));
  EXPECT_EQ(q.bytes(), 1000u);
  EXPECT_LE(q.storage_bytes(), 1000u);  // never allocated beyond the limit
  q.pop();
  EXPECT_TRUE(q.push(from(5), bytes(600, 5)));  // room again once read
  EXPECT_EQ(q.front_info().src.port, 3);
}

TEST(DatagramQueue, RefusesPastTheDatagramLimit) {
  DatagramQueue q({.bytes = 1 << 20, .datagrams = 4});
  for (uint16_t i = 0; i < 4; ++i) ASSERT_TRUE(q.push(from(i), {}));
  EXPECT_FALSE(q.push(from(9), {}));  // zero bytes, but one datagram too many
  EXPECT_EQ(q.datagrams(), 4u);
}

TEST(DatagramQueue, DatagramsStayContiguousAcrossTheWrap) {
  DatagramQueue q({.bytes = 4096, .datagrams = 64});
  ASSERT_TRUE(q.push(from(1), bytes(3000, 1)));
  ASSERT_TRUE(q.push(from(2), bytes(1000, 2)));
  q.pop();  // frees the first 3000 bytes
  // 96 bytes left at the end: the next datagram starts again at offset 0, in one piece.
  ASSERT_TRUE(q.push(from(3), bytes(2000, 3)));
  q.pop();
  ASSERT_EQ(q.front().size(), 2000u);
  for (uint8_t b : q.front()) ASSERT_EQ(b, 3);
  EXPECT_EQ(q.storage_bytes(), 4096u);
}

TEST(DatagramQueue, StartsSmallAndGrowsToTheLimit) {
  DatagramQueue q({.bytes = 212992, .datagrams = 1024});
  ASSERT_TRUE(q.push(from(1), bytes(10, 1)));
  EXPECT_LE(q.storage_bytes(), 4096u);
  size_t pushed = 10;
  while (q.push(from(2), bytes(1400, 2))) pushed += 1400;
  EXPECT_EQ(q.storage_bytes(), 212992u);
  EXPECT_GT(pushed, 212992u - 1400);
  EXPECT_EQ(q.bytes(), pushed);
  // The first datagram survived every regrowth.
  EXPECT_EQ(q.front().size(), 10u);
  EXPECT_EQ(q.front()[9], 1);
}

TEST(DatagramQueue, RandomWorkloadMatchesAModel) {
  const uint32_t seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  const DatagramQueueLimits limits{.bytes = 10000, .datagrams = 40};
  DatagramQueue q(limits);
  std::deque<std::pair<uint16_t, std::vector<uint8_t>>> model;
  size_t model_bytes = 0;
  uint16_t next = 0;
  for (int step = 0; step < 20000; ++step) {
    if (rng() % 3 != 0) {
      std::vector<uint8_t> d(rng() % 1500);
      for (auto& b : d) b = static_cast<uint8_t>(rng());
      const bool ok = q.push(from(next), d);
      const bool within = model.size() < limits.datagrams && model_bytes + d.size() <= limits.bytes;
      // Refused only when a limit is passed, or when the ring (grown to its limit) has no
      // contiguous room: free space is then in two pieces each shorter than the datagram,
      // plus a wasted tail shorter than the largest datagram.
      if (!within) {
        ASSERT_FALSE(ok) << "seed " << seed << " step " << step;
      }
      if (within && !ok) {
        ASSERT_EQ(q.storage_bytes(), limits.bytes) << "seed " << seed;
        ASSERT_GT(model_bytes + 2 * d.size() + 1500, limits.bytes) << "seed " << seed;
      }
      if (ok) {
        model.emplace_back(next, d);
        model_bytes += d.size();
      }
      ++next;
    } else if (!model.empty()) {
      ASSERT_FALSE(q.empty());
      ASSERT_EQ(q.front_info().src.port, model.front().first) << "seed " << seed;
      ASSERT_TRUE(std::equal(q.front().begin(), q.front().end(), model.front().second.begin(),
                             model.front().second.end()))
          << "seed " << seed << " step " << step;
      model_bytes -= model.front().second.size();
      model.pop_front();
      q.pop();
    }
    ASSERT_EQ(q.datagrams(), model.size());
    ASSERT_EQ(q.bytes(), model_bytes);
    ASSERT_LE(q.storage_bytes(), limits.bytes);
  }
}

// The stack-wide budget (StackConfig::buffer_memory_limit): the ring's growth is charged
// to it and refused past it (kNoMemory, the datagram dropped), except up to the guaranteed
// first 4 KiB; what the queue holds is given back when it goes.
TEST(DatagramQueue, RingGrowthIsChargedToTheMemoryBudget) {
  tcp::MemoryBudget budget(16384);
  {
    DatagramQueue q({.bytes = 1 << 20, .datagrams = 1000});
    q.set_budget(&budget);
    size_t queued = 0;
    PushResult r = PushResult::kQueued;
    while ((r = q.try_push(from(1), bytes(1000, 1))) == PushResult::kQueued) ++queued;
    EXPECT_EQ(r, PushResult::kNoMemory);
    EXPECT_EQ(budget.used(), q.storage_bytes());
    EXPECT_LE(budget.used(), budget.limit());
    EXPECT_EQ(queued, q.datagrams());
    EXPECT_GE(queued, 8u);  // 16 KiB of ring hold 16 datagrams of 1000 bytes at most
    EXPECT_LE(queued, 16u);
    // Another queue still gets its guaranteed first ring, even with the budget spent.
    DatagramQueue other;
    other.set_budget(&budget);
    EXPECT_EQ(other.try_push(from(2), bytes(1000, 2)), PushResult::kQueued);
    // A queue moved keeps its charge once.
    DatagramQueue moved = std::move(other);
    EXPECT_EQ(budget.used(), q.storage_bytes() + moved.storage_bytes());
  }
  EXPECT_EQ(budget.used(), 0u);
}

}  // namespace
}  // namespace utcp::udp
