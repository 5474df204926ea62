// SPDX-License-Identifier: BSD-2-Clause
// The accept queue's FIFO: order kept across compaction, and no memory while empty.
#include "stack/index_fifo.hpp"

#include <gtest/gtest.h>

#include <deque>

namespace utcp::stack {
namespace {

TEST(IndexFifo, KeepsOrderAcrossCompactionAgainstDeque) {
  IndexFifo q;
  std::deque<uint32_t> model;
  uint32_t next = 0;
  // Pushes run ahead of pops so the consumed prefix grows past the compaction threshold.
  for (int round = 0; round < 2000; ++round) {
    for (int i = 0; i < 3; ++i) {
      q.push_back(next);
      model.push_back(next++);
    }
    for (int i = 0; i < 2 && !model.empty(); ++i) {
      ASSERT_FALSE(q.empty());
      EXPECT_EQ(q.front(), model.front());
      q.pop_front();
      model.pop_front();
    }
    ASSERT_EQ(q.size(), model.size());
  }
  while (!model.empty()) {
    EXPECT_EQ(q.front(), model.front());
    q.pop_front();
    model.pop_front();
  }
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
}

TEST(IndexFifo, EmptyQueueIsSmall) {
  // Every socket record carries one: it must stay a vector and an index, with no allocation
  // until the first push (std::deque allocates 576 bytes at construction).
  EXPECT_LE(sizeof(IndexFifo), 32u);
  IndexFifo q;
  EXPECT_TRUE(q.empty());
  q.push_back(7);
  EXPECT_EQ(q.front(), 7u);
  q.pop_front();
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace utcp::stack
