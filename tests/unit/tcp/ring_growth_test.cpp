// SPDX-License-Identifier: BSD-2-Clause
// Send and receive rings whose storage grows with use (issue #7: "buffers grow on demand and
// shrink when idle"): they start at kInitialAllocation, double when a write or a segment needs
// more, never exceed the logical capacity, keep every byte in order across each growth
// whatever the ring's head position, and start small again after an idle release.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "base/ring_growth.hpp"
#include "support/test_stream.hpp"
#include "tcp/reassembly_queue.hpp"
#include "tcp/send_buffer.hpp"

namespace utcp::tcp {
namespace {

constexpr size_t kInitial = SendBuffer::kInitialAllocation;
static_assert(kInitial == ReassemblyQueue::kInitialAllocation);

using test::stream;
using test::stream_byte;
using test::test_seed;

std::vector<uint8_t> copy_all(const SendBuffer& sb) {
  std::vector<uint8_t> out(sb.size());
  sb.copy_out(0, out);
  return out;
}

std::vector<uint8_t> read_n(ReassemblyQueue& q, size_t n) {
  std::vector<uint8_t> out(n);
  out.resize(q.read(out));
  return out;
}

// The arithmetic both rings share: from the initial size, doubling past the need, never
// above the capacity.
TEST(RingGrowthSize, DoublesUntilTheNeedFitsCappedAtCapacity) {
  constexpr size_t kCap = 256 * 1024;
  EXPECT_EQ(ring_growth_size(0, kInitial / 2, kCap, kInitial), kInitial);
  EXPECT_EQ(ring_growth_size(0, kInitial + 1, kCap, kInitial), 2 * kInitial);
  EXPECT_EQ(ring_growth_size(kInitial, kInitial + 1, kCap, kInitial), 2 * kInitial);
  EXPECT_EQ(ring_growth_size(kInitial, 5 * kInitial, kCap, kInitial), 8 * kInitial);
  EXPECT_EQ(ring_growth_size(128 * 1024, 128 * 1024 + 1, 200 * 1024, kInitial), 200 * 1024u);
  EXPECT_EQ(ring_growth_size(0, 10, kInitial - 6, kInitial), kInitial - 6);  // capacity below it
}

// ---- SendBuffer ----

TEST(SendBufferGrowth, StartsSmallAndDoublesWithUse) {
  SendBuffer sb(256 * 1024);
  EXPECT_EQ(sb.allocated(), 0u);
  constexpr size_t kHalf = kInitial / 2;
  EXPECT_EQ(sb.write(stream(0, kHalf)), kHalf);
  EXPECT_EQ(sb.allocated(), kInitial);
  // The protocol's view is the logical capacity, not the storage.
  EXPECT_EQ(sb.capacity(), 256u * 1024);
  EXPECT_EQ(sb.free_space(), 256u * 1024 - kHalf);
  EXPECT_EQ(sb.write(stream(kHalf, kInitial - kHalf)), kInitial - kHalf);
  EXPECT_EQ(sb.allocated(), kInitial);  // exactly full: no growth yet
  EXPECT_EQ(sb.write(stream(kInitial, 1)), 1u);
  EXPECT_EQ(sb.allocated(), 2 * kInitial);
  // One big write jumps straight to the power-of-two multiple that holds it.
  EXPECT_EQ(sb.write(stream(kInitial + 1, 40000)), 40000u);
  EXPECT_EQ(sb.allocated(), std::bit_ceil(kInitial + 40001));
  EXPECT_EQ(copy_all(sb), stream(0, kInitial + 40001));
}

TEST(SendBufferGrowth, GrowthKeepsByteOrderAtEveryHeadPosition) {
  for (size_t head = 0; head < kInitial; ++head) {
    SendBuffer sb(64 * 1024);
    // Live bytes when the ring fills, varied with the head; head + kept stays within the ring.
    const size_t kept = 1 + (head * 37) % (kInitial - head);
    // Put the oldest live byte at ring index `head`.
    ASSERT_EQ(sb.write(stream(0, head + kept)), head + kept);
    sb.consume(head);
    ASSERT_EQ(sb.allocated(), kInitial);
    // Fill the ring (the tail wraps around past the end), then one write more than fits.
    const size_t fill = kInitial - kept;
    ASSERT_EQ(sb.write(stream(head + kept, fill)), fill);
    ASSERT_EQ(sb.allocated(), kInitial);
    ASSERT_EQ(sb.write(stream(head + kInitial, 300)), 300u);
    ASSERT_EQ(sb.allocated(), std::bit_ceil(kInitial + 300)) << "head " << head;
    ASSERT_EQ(copy_all(sb), stream(head, kInitial + 300)) << "head " << head;
    // Reads across what used to be the seam still work after more consumption.
    sb.consume(kInitial - 1);
    ASSERT_EQ(copy_all(sb), stream(head + kInitial - 1, 301)) << "head " << head;
  }
}

TEST(SendBufferGrowth, NeverAboveCapacity) {
  SendBuffer odd(10000);  // not a power of two: the last growth stops at the capacity
  EXPECT_EQ(odd.write(stream(0, 9000)), 9000u);
  EXPECT_EQ(odd.allocated(), 10000u);
  EXPECT_EQ(odd.write(stream(9000, 5000)), 1000u);
  EXPECT_EQ(odd.allocated(), 10000u);
  EXPECT_EQ(copy_all(odd), stream(0, 10000));

  SendBuffer tiny(kInitial - 6);  // below the first allocation
  EXPECT_EQ(tiny.write(stream(0, 10)), 10u);
  EXPECT_EQ(tiny.allocated(), kInitial - 6);
}

// The ring that holds 100,000 bytes: the power of two above.
constexpr size_t kFill100k = std::bit_ceil(size_t{100000});

TEST(SendBufferGrowth, ReleasedWhenIdleThenRegrowsFromSmall) {
  SendBuffer sb(256 * 1024);
  ASSERT_EQ(sb.write(stream(0, 100000)), 100000u);
  EXPECT_EQ(sb.allocated(), kFill100k);
  sb.release_if_empty();  // bytes still queued: kept
  EXPECT_EQ(sb.allocated(), kFill100k);
  sb.consume(100000);
  EXPECT_EQ(sb.releasable(), kFill100k);
  sb.release_if_empty();
  EXPECT_EQ(sb.allocated(), 0u);
  EXPECT_EQ(sb.write(stream(7, 50)), 50u);
  EXPECT_EQ(sb.allocated(), kInitial);
  EXPECT_EQ(copy_all(sb), stream(7, 50));
}

TEST(SendBufferGrowth, SetCapacityReallocatesOnlyToShrinkStorage) {
  SendBuffer sb(256 * 1024);
  sb.write(stream(0, 5000));
  EXPECT_EQ(sb.allocated(), 8192u);
  sb.set_capacity(1024 * 1024);  // a larger buffer is reached by growing on demand
  EXPECT_EQ(sb.allocated(), 8192u);
  EXPECT_EQ(sb.free_space(), 1024u * 1024 - 5000);
  sb.consume(3000);
  sb.set_capacity(6000);  // below the storage held: the storage shrinks with it
  EXPECT_EQ(sb.allocated(), 6000u);
  EXPECT_EQ(copy_all(sb), stream(3000, 2000));
  EXPECT_EQ(sb.write(stream(5000, 9000)), 4000u);
  EXPECT_EQ(copy_all(sb), stream(3000, 6000));
}

TEST(SendBufferGrowth, RandomisedAgainstModel) {
  const uint32_t seed = test_seed("SendBufferGrowth.RandomisedAgainstModel");
  std::mt19937 rng(seed);
  constexpr size_t kCap = 50000;
  SendBuffer sb(kCap);
  std::vector<uint8_t> model;
  size_t next = 0;  // absolute stream position of the next byte written
  size_t oldest = 0;
  for (int step = 0; step < 20000; ++step) {
    const int op = static_cast<int>(rng() % 8);
    if (op < 4) {
      const size_t len = rng() % 6000;
      const size_t took = sb.write(stream(next, len));
      ASSERT_EQ(took, std::min(len, kCap - (next - oldest))) << "seed " << seed;
      next += took;
    } else if (op < 7) {
      const size_t n = std::min<size_t>(rng() % 8000, next - oldest);
      sb.consume(n);
      oldest += n;
    } else {
      sb.release_if_empty();
    }
    ASSERT_EQ(sb.size(), next - oldest);
    ASSERT_LE(sb.allocated(), kCap);
    ASSERT_GE(sb.allocated(), sb.size());
    if (step % 16 == 0) {
      ASSERT_EQ(copy_all(sb), stream(oldest, next - oldest)) << "seed " << seed;
    }
  }
}

// ---- ReassemblyQueue ----

TEST(ReassemblyGrowth, StartsSmallAndDoublesWithUse) {
  ReassemblyQueue q(256 * 1024);
  EXPECT_EQ(q.ring_bytes(), 0u);
  constexpr size_t kFirst = kInitial / 4;
  EXPECT_EQ(q.insert(0, stream(0, kFirst)), kFirst);
  EXPECT_EQ(q.ring_bytes(), kInitial);
  // The window is computed from the logical capacity, not the storage.
  EXPECT_EQ(q.window(), 256u * 1024 - kFirst);
  EXPECT_EQ(q.insert(0, stream(kFirst, kInitial - kFirst)), kInitial - kFirst);
  EXPECT_EQ(q.ring_bytes(), kInitial);
  // An out-of-order segment far ahead grows the ring to reach it, holding the bytes before it.
  EXPECT_EQ(q.insert(30000, stream(kInitial + 30000, 1460)), 0u);
  EXPECT_EQ(q.ring_bytes(), std::bit_ceil(kInitial + 31460));
  EXPECT_EQ(q.insert(0, stream(kInitial, 30000)), 31460u);
  EXPECT_EQ(read_n(q, 1 << 20), stream(0, kInitial + 31460));
}

TEST(ReassemblyGrowth, GrowthKeepsByteOrderAtEveryHeadPosition) {
  // Sizes in proportion to the first ring: a gap of kTail before its end, a first range of
  // kRange1 there, a second of kRange2 starting kGap2 after the first one's start.
  constexpr size_t kTail = kInitial / 8, kRange1 = kTail * 3 / 5, kGap2 = kTail * 4 / 5,
                   kRange2 = 2 * kTail;
  static_assert(kRange1 < kGap2 && kGap2 + kRange2 > kTail);
  for (size_t head = 0; head < kInitial; ++head) {
    ReassemblyQueue q(64 * 1024);
    // Readable bytes when the ring fills, varied with the head; head + kept stays within the
    // ring.
    const size_t kept = 1 + (head * 37) % std::min<size_t>(kInitial - head, kInitial / 2);
    // Put the first readable byte at ring index `head` (reading everything would reset it).
    ASSERT_EQ(q.insert(0, stream(0, head + kept)), head + kept);
    ASSERT_EQ(read_n(q, head), stream(0, head));
    ASSERT_EQ(q.ring_bytes(), kInitial);
    // An out-of-order range near the end of the ring (it wraps past the seam for most heads),
    // then a segment past the ring's end: the ring doubles with a hole and a range inside.
    const size_t ooo = kInitial - kept - kTail;
    ASSERT_EQ(q.insert(ooo, stream(head + kept + ooo, kRange1)), 0u);
    ASSERT_EQ(q.ring_bytes(), kInitial) << "head " << head;
    ASSERT_EQ(q.insert(ooo + kGap2, stream(head + kept + ooo + kGap2, kRange2)), 0u);
    ASSERT_EQ(q.ring_bytes(), 2 * kInitial) << "head " << head;
    ASSERT_EQ(q.out_of_order().size(), 2u);
    // Filling only the holes makes everything readable, in order: the first range's bytes
    // come from before the growth.
    ASSERT_EQ(q.insert(0, stream(head + kept, ooo)), ooo + kRange1) << "head " << head;
    ASSERT_EQ(q.insert(0, stream(head + kept + ooo + kRange1, kGap2 - kRange1)),
              kGap2 - kRange1 + kRange2)
        << "head " << head;
    ASSERT_EQ(read_n(q, 1 << 20), stream(head, kept + ooo + kGap2 + kRange2)) << "head " << head;
  }
}

TEST(ReassemblyGrowth, NeverAboveCapacity) {
  ReassemblyQueue odd(10000);
  EXPECT_EQ(odd.insert(9000, stream(9000, 5000)), 0u);  // trimmed to the window
  EXPECT_EQ(odd.ring_bytes(), 10000u);
  EXPECT_EQ(odd.insert(0, stream(0, 9000)), 10000u);
  EXPECT_EQ(odd.ring_bytes(), 10000u);
  EXPECT_EQ(read_n(odd, 20000), stream(0, 10000));

  ReassemblyQueue tiny(kInitial - 6);  // below the first allocation
  EXPECT_EQ(tiny.insert(0, stream(0, 10)), 10u);
  EXPECT_EQ(tiny.ring_bytes(), kInitial - 6);
}

TEST(ReassemblyGrowth, ReleasedWhenIdleThenRegrowsFromSmall) {
  ReassemblyQueue q(256 * 1024);
  ASSERT_EQ(q.insert(0, stream(0, 100000)), 100000u);
  EXPECT_EQ(q.ring_bytes(), kFill100k);
  q.release_if_empty();  // unread bytes: kept
  EXPECT_EQ(q.ring_bytes(), kFill100k);
  ASSERT_EQ(read_n(q, 100000), stream(0, 100000));
  q.release_if_empty();
  EXPECT_EQ(q.ring_bytes(), 0u);
  EXPECT_EQ(q.allocated(), 0u);
  EXPECT_EQ(q.insert(0, stream(100000, 60)), 60u);
  EXPECT_EQ(q.ring_bytes(), kInitial);
  EXPECT_EQ(read_n(q, 100), stream(100000, 60));
}

TEST(ReassemblyGrowth, SetCapacityReallocatesOnlyToShrinkStorage) {
  ReassemblyQueue q(256 * 1024);
  q.insert(0, stream(0, 5000));
  q.insert(6000, stream(11000, 1000));  // range [6000, 7000) after RCV.NXT
  EXPECT_EQ(q.ring_bytes(), 16384u);    // holds RCV.NXT + 7000 (the unread 5000 and the range)
  q.set_capacity(1024 * 1024);          // autotuning: the window grows, the storage does not
  EXPECT_EQ(q.ring_bytes(), 16384u);
  EXPECT_EQ(q.window(), 1024u * 1024 - 5000);
  q.set_capacity(11500);  // window 6500: the range is cut to [6000, 6500), storage shrinks
  EXPECT_EQ(q.ring_bytes(), 11500u);
  EXPECT_EQ(q.out_of_order().size(), 1u);
  EXPECT_EQ(q.out_of_order()[0], (SeqRange{6000, 6500}));
  EXPECT_EQ(q.insert(0, stream(5000, 6000)), 6500u);
  EXPECT_EQ(read_n(q, 1 << 20), stream(0, 11500));
}

// Random segments (in order, out of order, overlapping, past the window), reads and idle
// releases against a model, with a capacity many times the first allocation.
TEST(ReassemblyGrowth, RandomisedAgainstModel) {
  const uint32_t seed = test_seed("ReassemblyGrowth.RandomisedAgainstModel");
  std::mt19937 rng(seed);
  constexpr size_t kCap = 40000;
  ReassemblyQueue q(kCap);
  size_t rcv_nxt = 0, consumed = 0;
  std::vector<bool> have(1 << 24, false);
  for (int step = 0; step < 20000 && rcv_nxt + 2 * kCap < have.size(); ++step) {
    const uint32_t op = rng() % 8;
    if (op < 2) {
      std::vector<uint8_t> buf(rng() % 20000);
      buf.resize(q.read(buf));
      ASSERT_EQ(buf, stream(consumed, buf.size())) << "seed " << seed << " step " << step;
      consumed += buf.size();
      continue;
    }
    if (op == 2) {
      q.release_if_empty();
      if (q.readable() == 0 && !q.has_out_of_order()) {
        ASSERT_EQ(q.allocated(), 0u);
      }
      continue;
    }
    const size_t off = rng() % 4 == 0 ? rng() % (kCap + 200) : rng() % 3000;
    const size_t len = rng() % 1500;
    const size_t window = kCap - (rcv_nxt - consumed);
    ASSERT_EQ(q.window(), window);
    const size_t advanced = q.insert(off, stream(rcv_nxt + off, len));
    const size_t accepted_end = std::min(off + len, window);
    for (size_t i = off; i < accepted_end; ++i) have[rcv_nxt + i] = true;
    size_t expect = 0;
    while (expect < window && have[rcv_nxt + expect]) ++expect;
    ASSERT_EQ(advanced, expect) << "seed " << seed << " step " << step;
    rcv_nxt += expect;
    ASSERT_EQ(q.readable(), rcv_nxt - consumed);
    ASSERT_LE(q.ring_bytes(), kCap);
    const size_t held_end = q.readable() + (q.has_out_of_order() ? q.out_of_order().back().end : 0);
    ASSERT_GE(q.ring_bytes(), held_end);
  }
  std::vector<uint8_t> rest(kCap);
  rest.resize(q.read(rest));
  EXPECT_EQ(rest, stream(consumed, rest.size()));
}

}  // namespace
}  // namespace utcp::tcp
