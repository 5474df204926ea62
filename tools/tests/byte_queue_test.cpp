// SPDX-License-Identifier: BSD-2-Clause
// ByteQueue: nothing allocated until a byte is stored, append() takes only what it holds,
// release_if_empty() gives the storage back, and bytes come out in order across compaction
// and regrowth (checked against a std::deque model with a seeded RNG).
#include "byte_queue.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <deque>
#include <random>
#include <vector>

namespace utcp::tools {
namespace {

TEST(ByteQueue, HoldsNoStorageUntilTheFirstByteAndAfterRelease) {
  ByteQueue q(64 * 1024);
  EXPECT_EQ(q.allocated(), 0u);
  EXPECT_TRUE(q.data().empty());
  const std::vector<uint8_t> bytes(1000, 7);
  EXPECT_EQ(q.append(bytes), 1000u);
  EXPECT_EQ(q.allocated(), 1000u);  // what is held, not the capacity
  q.release_if_empty();             // not empty: kept
  EXPECT_EQ(q.allocated(), 1000u);
  q.consume(1000);
  q.release_if_empty();
  EXPECT_EQ(q.allocated(), 0u);
  EXPECT_TRUE(q.empty());
}

TEST(ByteQueue, AppendStopsAtTheCapacity) {
  ByteQueue q(100);
  const std::vector<uint8_t> bytes(150, 1);
  EXPECT_EQ(q.append(bytes), 100u);
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.append(bytes), 0u);
  EXPECT_LE(q.allocated(), 100u);
}

TEST(ByteQueue, FreeTakesTheWholeCapacityForItsWriter) {
  ByteQueue q(4096);
  const auto room = q.free();
  EXPECT_EQ(room.size(), 4096u);
  EXPECT_EQ(q.allocated(), 4096u);
  room[0] = 42;
  q.commit(1);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q.data()[0], 42);
}

TEST(ByteQueue, BytesComeOutInOrderAgainstAModel) {
  std::random_device rd;
  const uint32_t seed = rd();
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  ByteQueue q(5000);
  std::deque<uint8_t> model;
  uint8_t next = 0;
  for (int step = 0; step < 20000; ++step) {
    const int op = std::uniform_int_distribution<int>(0, 3)(rng);
    const size_t n = std::uniform_int_distribution<size_t>(0, 1500)(rng);
    if (op == 0) {
      std::vector<uint8_t> in(n);
      for (auto& b : in) b = next++;
      const size_t taken = q.append(in);
      ASSERT_EQ(taken, std::min(n, 5000 - model.size())) << "seed " << seed;
      model.insert(model.end(), in.begin(), in.begin() + static_cast<ptrdiff_t>(taken));
      next = static_cast<uint8_t>(next - (n - taken));
    } else if (op == 1) {
      auto room = q.free();
      const size_t k = std::min(n, room.size());
      for (size_t i = 0; i < k; ++i) room[i] = next++;
      q.commit(k);
      model.insert(model.end(), room.begin(), room.begin() + static_cast<ptrdiff_t>(k));
    } else if (op == 2) {
      const auto data = q.data();
      const size_t k = std::min(n, data.size());
      ASSERT_EQ(data.size(), model.size()) << "seed " << seed;
      for (size_t i = 0; i < k; ++i) ASSERT_EQ(data[i], model[i]) << "seed " << seed;
      q.consume(k);
      model.erase(model.begin(), model.begin() + static_cast<ptrdiff_t>(k));
    } else {
      q.release_if_empty();
      if (model.empty()) {
        ASSERT_EQ(q.allocated(), 0u);
      }
    }
    ASSERT_LE(q.allocated(), q.capacity());
  }
}

}  // namespace
}  // namespace utcp::tools
