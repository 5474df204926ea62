// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/send_buffer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <random>
#include <vector>

#include "support/test_stream.hpp"
namespace utcp::tcp {
namespace {

using test::test_seed;

std::vector<uint8_t> iota_bytes(size_t n, uint8_t start = 0) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

std::vector<uint8_t> read_all(const SendBuffer& sb, size_t offset, size_t n) {
  std::vector<uint8_t> out(n);
  sb.copy_out(offset, out);
  return out;
}

TEST(SendBuffer, WriteTakesOnlyWhatFits) {
  SendBuffer sb(10);
  EXPECT_EQ(sb.capacity(), 10u);
  EXPECT_EQ(sb.write(iota_bytes(6)), 6u);
  EXPECT_EQ(sb.size(), 6u);
  EXPECT_EQ(sb.free_space(), 4u);
  EXPECT_EQ(sb.write(iota_bytes(6, 6)), 4u);
  EXPECT_EQ(sb.size(), 10u);
  EXPECT_EQ(sb.free_space(), 0u);
  EXPECT_EQ(sb.write(iota_bytes(3)), 0u);
  EXPECT_EQ(read_all(sb, 0, 10), iota_bytes(10));
}

TEST(SendBuffer, CopyOutAtOffset) {
  SendBuffer sb(16);
  sb.write(iota_bytes(12));
  EXPECT_EQ(read_all(sb, 5, 4), (std::vector<uint8_t>{5, 6, 7, 8}));
  EXPECT_EQ(read_all(sb, 11, 1), (std::vector<uint8_t>{11}));
  std::vector<uint8_t> none;
  sb.copy_out(12, none);  // zero bytes at the end is valid
}

TEST(SendBuffer, ConsumeDropsFrontAndWrapsAround) {
  SendBuffer sb(8);
  sb.write(iota_bytes(6));  // 0..5
  sb.consume(4);            // 4,5 remain at ring index 4
  EXPECT_EQ(sb.size(), 2u);
  EXPECT_EQ(sb.write(iota_bytes(6, 6)), 6u);  // 6..11 wrap past the end of the ring
  EXPECT_EQ(sb.size(), 8u);
  EXPECT_EQ(read_all(sb, 0, 8), iota_bytes(8, 4));
  EXPECT_EQ(read_all(sb, 3, 4), (std::vector<uint8_t>{7, 8, 9, 10}));  // spans the seam
  sb.consume(100);                                                     // clamped
  EXPECT_EQ(sb.size(), 0u);
  EXPECT_TRUE(sb.empty());
}

TEST(SendBuffer, SetCapacityKeepsBytes) {
  SendBuffer sb(8);
  sb.write(iota_bytes(6));
  sb.consume(5);
  sb.write(iota_bytes(5, 6));  // 5..10, wrapped
  sb.set_capacity(32);
  EXPECT_EQ(sb.capacity(), 32u);
  EXPECT_EQ(read_all(sb, 0, 6), iota_bytes(6, 5));
  EXPECT_EQ(sb.write(iota_bytes(26, 11)), 26u);
  EXPECT_EQ(read_all(sb, 0, 32), iota_bytes(32, 5));
  sb.set_capacity(4);  // never below size()
  EXPECT_EQ(sb.capacity(), 32u);
  sb.consume(30);
  sb.set_capacity(4);
  EXPECT_EQ(sb.capacity(), 4u);
  EXPECT_EQ(read_all(sb, 0, 2), iota_bytes(2, 35));
}

TEST(SendBuffer, SetCapacityBeforeFirstWrite) {
  SendBuffer sb(8);  // storage is allocated lazily: resizing first must still work
  sb.set_capacity(16);
  EXPECT_EQ(sb.capacity(), 16u);
  EXPECT_EQ(sb.write(iota_bytes(20)), 16u);
  EXPECT_EQ(read_all(sb, 0, 16), iota_bytes(16));
}

TEST(SendBuffer, ZeroCapacityAcceptsNothing) {
  SendBuffer sb(0);
  EXPECT_EQ(sb.write(iota_bytes(3)), 0u);
  sb.consume(1);
  EXPECT_EQ(sb.size(), 0u);
}

TEST(SendBuffer, RandomisedAgainstModel) {
  const uint32_t seed = test_seed("SendBuffer.RandomisedAgainstModel");
  std::mt19937 rng(seed);
  SendBuffer sb(1000);
  std::vector<uint8_t> model;  // the unacknowledged bytes, oldest first
  uint8_t next = 0;
  for (int step = 0; step < 20000; ++step) {
    const int op = static_cast<int>(rng() % 3);
    if (op == 0) {
      std::vector<uint8_t> data(rng() % 400);
      for (auto& b : data) b = next++;
      const size_t took = sb.write(data);
      ASSERT_EQ(took, std::min(data.size(), 1000 - model.size()));
      model.insert(model.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(took));
      next = static_cast<uint8_t>(next - (data.size() - took));
    } else if (op == 1) {
      const size_t n = rng() % 400;
      sb.consume(n);
      model.erase(model.begin(), model.begin() + static_cast<ptrdiff_t>(std::min(n, model.size())));
    } else if (!model.empty()) {
      const size_t off = rng() % model.size();
      const size_t len = rng() % (model.size() - off + 1);
      ASSERT_EQ(read_all(sb, off, len),
                std::vector<uint8_t>(model.begin() + static_cast<ptrdiff_t>(off),
                                     model.begin() + static_cast<ptrdiff_t>(off + len)))
          << "seed " << seed << " step " << step;
    }
    ASSERT_EQ(sb.size(), model.size());
  }
}

}  // namespace
}  // namespace utcp::tcp
