// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/reassembly_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "support/test_stream.hpp"
namespace utcp::tcp {
namespace {

using test::stream;
using test::stream_byte;
using test::test_seed;

std::vector<uint8_t> read_n(ReassemblyQueue& q, size_t n) {
  std::vector<uint8_t> out(n);
  out.resize(q.read(out));
  return out;
}

std::vector<SeqRange> ranges(const ReassemblyQueue& q) {
  auto s = q.out_of_order();
  return {s.begin(), s.end()};
}

TEST(ReassemblyQueue, InOrderDataIsReadable) {
  ReassemblyQueue q(100);
  EXPECT_EQ(q.window(), 100u);
  EXPECT_EQ(q.insert(0, stream(0, 30)), 30u);
  EXPECT_EQ(q.readable(), 30u);
  EXPECT_EQ(q.window(), 70u);
  EXPECT_FALSE(q.has_out_of_order());
  std::vector<uint8_t> peeked(10);
  EXPECT_EQ(q.peek(peeked), 10u);
  EXPECT_EQ(peeked, stream(0, 10));
  EXPECT_EQ(q.readable(), 30u);  // peek does not consume
  EXPECT_EQ(read_n(q, 100), stream(0, 30));
  EXPECT_EQ(q.readable(), 0u);
  EXPECT_EQ(q.window(), 100u);
}

TEST(ReassemblyQueue, ZeroLengthInsertChangesNothing) {
  ReassemblyQueue q(100);
  EXPECT_EQ(q.insert(0, {}), 0u);
  EXPECT_EQ(q.insert(10, {}), 0u);
  EXPECT_EQ(q.readable(), 0u);
  EXPECT_FALSE(q.has_out_of_order());
}

TEST(ReassemblyQueue, OutOfOrderThenFillHole) {
  ReassemblyQueue q(100);
  EXPECT_EQ(q.insert(10, stream(10, 10)), 0u);
  EXPECT_EQ(q.readable(), 0u);
  EXPECT_EQ(ranges(q), (std::vector<SeqRange>{{10, 20}}));
  EXPECT_EQ(q.out_of_order_bytes(), 10u);
  EXPECT_EQ(q.insert(0, stream(0, 10)), 20u);  // hole filled: both pieces become in-order
  EXPECT_FALSE(q.has_out_of_order());
  EXPECT_EQ(read_n(q, 100), stream(0, 20));
}

TEST(ReassemblyQueue, ManyHolesFilledInAnyOrder) {
  ReassemblyQueue q(200);
  // Segments of 10 at 10, 30, 50, 70: four holes.
  for (size_t off : {70u, 10u, 50u, 30u}) EXPECT_EQ(q.insert(off, stream(off, 10)), 0u);
  EXPECT_EQ(ranges(q), (std::vector<SeqRange>{{10, 20}, {30, 40}, {50, 60}, {70, 80}}));
  EXPECT_EQ(q.insert(40, stream(40, 10)), 0u);  // joins [30,40) and [50,60)
  EXPECT_EQ(ranges(q), (std::vector<SeqRange>{{10, 20}, {30, 60}, {70, 80}}));
  EXPECT_EQ(q.insert(0, stream(0, 10)), 20u);  // RCV.NXT moves to 20; ranges re-based
  EXPECT_EQ(ranges(q), (std::vector<SeqRange>{{10, 40}, {50, 60}}));
  EXPECT_EQ(q.insert(0, stream(20, 10)), 40u);
  EXPECT_EQ(ranges(q), (std::vector<SeqRange>{{0 + 10, 0 + 20}}));
  EXPECT_EQ(q.insert(0, stream(60, 10)), 20u);
  EXPECT_FALSE(q.has_out_of_order());
  EXPECT_EQ(read_n(q, 200), stream(0, 80));
}

TEST(ReassemblyQueue, OverlapOnEitherSide) {
  ReassemblyQueue q(100);
  q.insert(20, stream(20, 10));  // [20,30)
  q.insert(15, stream(15, 10));  // overlaps on the left: [15,30)
  EXPECT_EQ(ranges(q), (std::vector<SeqRange>{{15, 30}}));
  q.insert(25, stream(25, 15));  // overlaps on the right: [15,40)
  EXPECT_EQ(ranges(q), (std::vector<SeqRange>{{15, 40}}));
  q.insert(10, stream(10, 40));  // covers everything: [10,50)
  EXPECT_EQ(ranges(q), (std::vector<SeqRange>{{10, 50}}));
  q.insert(50, stream(50, 5));  // adjacent: coalesced
  EXPECT_EQ(ranges(q), (std::vector<SeqRange>{{10, 55}}));
  // In-order segment that overlaps into the stored range.
  EXPECT_EQ(q.insert(0, stream(0, 12)), 55u);
  EXPECT_EQ(read_n(q, 100), stream(0, 55));
}

TEST(ReassemblyQueue, InOrderSegmentReachingPastStoredRange) {
  ReassemblyQueue q(100);
  q.insert(5, stream(5, 5));                   // [5,10)
  q.insert(20, stream(20, 5));                 // [20,25)
  EXPECT_EQ(q.insert(0, stream(0, 22)), 25u);  // covers both holes and overlaps the second range
  EXPECT_EQ(read_n(q, 100), stream(0, 25));
}

TEST(ReassemblyQueue, DuplicatesAreHarmless) {
  ReassemblyQueue q(100);
  q.insert(0, stream(0, 10));
  q.insert(30, stream(40, 10));  // offsets are relative to RCV.NXT = 10
  EXPECT_EQ(q.insert(30, stream(40, 10)), 0u);
  EXPECT_EQ(q.insert(32, stream(42, 3)), 0u);
  EXPECT_EQ(q.insert(0, stream(10, 0)), 0u);
  EXPECT_EQ(ranges(q), (std::vector<SeqRange>{{30, 40}}));
  EXPECT_EQ(q.readable(), 10u);
  EXPECT_EQ(q.out_of_order_bytes(), 10u);
}

TEST(ReassemblyQueue, DataPastTheWindowIsCut) {
  ReassemblyQueue q(50);
  EXPECT_EQ(q.insert(0, stream(0, 80)), 50u);  // only the window's worth is taken
  EXPECT_EQ(q.window(), 0u);
  EXPECT_EQ(q.insert(0, stream(50, 10)), 0u);  // zero window: nothing fits
  EXPECT_EQ(read_n(q, 20), stream(0, 20));
  EXPECT_EQ(q.window(), 20u);
  EXPECT_EQ(q.insert(15, stream(65, 10)), 0u);  // [15,25) cut to [15,20)
  EXPECT_EQ(ranges(q), (std::vector<SeqRange>{{15, 20}}));
  EXPECT_EQ(q.insert(20, stream(70, 5)), 0u);  // entirely beyond the window: dropped
  EXPECT_EQ(ranges(q), (std::vector<SeqRange>{{15, 20}}));
  EXPECT_EQ(q.insert(0, stream(50, 15)), 20u);
  EXPECT_EQ(read_n(q, 100), stream(20, 50));
}

TEST(ReassemblyQueue, WrapsAroundTheRing) {
  ReassemblyQueue q(16);
  q.insert(0, stream(0, 12));
  EXPECT_EQ(read_n(q, 10), stream(0, 10));    // head at ring index 10
  EXPECT_EQ(q.insert(6, stream(18, 8)), 0u);  // wraps past the end of the ring
  EXPECT_EQ(q.insert(0, stream(12, 6)), 14u);
  EXPECT_EQ(q.readable(), 16u);
  EXPECT_EQ(read_n(q, 16), stream(10, 16));
}

TEST(ReassemblyQueue, SetCapacityKeepsReadableAndOutOfOrder) {
  ReassemblyQueue q(16);
  q.insert(0, stream(0, 10));
  read_n(q, 8);                // head at 8, 2 readable
  q.insert(4, stream(14, 8));  // out of order, wraps the ring
  q.set_capacity(64);
  EXPECT_EQ(q.capacity(), 64u);
  EXPECT_EQ(q.readable(), 2u);
  EXPECT_EQ(ranges(q), (std::vector<SeqRange>{{4, 12}}));
  EXPECT_EQ(q.insert(0, stream(10, 4)), 12u);
  EXPECT_EQ(read_n(q, 64), stream(8, 14));
  // Shrinking drops out-of-order bytes past the new window, never readable ones.
  q.insert(0, stream(22, 4));
  q.insert(10, stream(36, 20));
  q.set_capacity(20);  // window becomes 16: range [10,30) cut to [10,16)
  EXPECT_EQ(ranges(q), (std::vector<SeqRange>{{10, 16}}));
  q.set_capacity(1);  // clamped to readable()
  EXPECT_EQ(q.capacity(), 4u);
  EXPECT_FALSE(q.has_out_of_order());
  EXPECT_EQ(read_n(q, 10), stream(22, 4));
}

TEST(ReassemblyQueue, SetCapacityBeforeFirstInsert) {
  ReassemblyQueue q(8);  // storage is allocated lazily: resizing first must still work
  q.set_capacity(32);
  EXPECT_EQ(q.window(), 32u);
  EXPECT_EQ(q.insert(20, stream(20, 12)), 0u);
  EXPECT_EQ(q.insert(0, stream(0, 20)), 32u);
  EXPECT_EQ(read_n(q, 32), stream(0, 32));
}

TEST(ReassemblyQueue, CapacityIsClampedToLargestWindow) {
  // RFC 7323 §2.3: no window can exceed 2^30 bytes, so neither can the queue.
  ReassemblyQueue q(size_t{1} << 40);
  EXPECT_EQ(q.capacity(), ReassemblyQueue::kMaxCapacity);
}

TEST(ReassemblyQueue, ManyTinyGapsAreBounded) {
  ReassemblyQueue q(1 << 16);
  for (size_t i = 0; i < 4000; ++i) q.insert(2 * i + 1, stream(2 * i + 1, 1));
  EXPECT_EQ(q.out_of_order().size(), ReassemblyQueue::kMaxOutOfOrderRanges);
  // In-order data still flows and absorbs the first range.
  q.insert(0, stream(0, 1));
  EXPECT_EQ(q.readable(), 2u);
}

// Random segments (out of order, overlapping, duplicated, past the window) against a model.
TEST(ReassemblyQueue, RandomisedAgainstModel) {
  const uint32_t seed = test_seed("ReassemblyQueue.RandomisedAgainstModel");
  std::mt19937 rng(seed);
  constexpr size_t kCap = 3000;
  ReassemblyQueue q(kCap);
  size_t rcv_nxt = 0;                      // absolute stream position of RCV.NXT
  size_t consumed = 0;                     // absolute position of the next byte the app reads
  std::vector<bool> have(1 << 20, false);  // model: which absolute bytes were accepted
  std::vector<uint8_t> out;
  for (int step = 0; step < 20000 && rcv_nxt + kCap < have.size(); ++step) {
    if (rng() % 4 == 0) {
      std::vector<uint8_t> buf(rng() % 1500);
      buf.resize(q.read(buf));
      ASSERT_EQ(buf, stream(consumed, buf.size())) << "seed " << seed << " step " << step;
      consumed += buf.size();
      continue;
    }
    const size_t off = rng() % (kCap + 200);
    const size_t len = rng() % 700;
    const size_t window = kCap - (rcv_nxt - consumed);
    ASSERT_EQ(q.window(), window);
    const size_t advanced = q.insert(off, stream(rcv_nxt + off, len));
    // Model: accept the in-window part, then advance over every contiguous accepted byte.
    for (size_t i = off; i < off + len && i < window; ++i) have[rcv_nxt + i] = true;
    size_t expect = 0;
    while (expect < window && have[rcv_nxt + expect]) ++expect;
    ASSERT_EQ(advanced, expect) << "seed " << seed << " step " << step;
    rcv_nxt += expect;
    ASSERT_EQ(q.readable(), rcv_nxt - consumed);
    // The range list must describe exactly the accepted bytes past RCV.NXT.
    std::vector<SeqRange> model_ranges;
    for (size_t i = 0; i < kCap; ++i) {
      if (!have[rcv_nxt + i]) continue;
      if (!model_ranges.empty() && model_ranges.back().end == i) {
        ++model_ranges.back().end;
      } else {
        model_ranges.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1)});
      }
    }
    ASSERT_EQ(ranges(q), model_ranges) << "seed " << seed << " step " << step;
  }
  std::vector<uint8_t> rest(kCap);
  rest.resize(q.read(rest));
  EXPECT_EQ(rest, stream(consumed, rest.size()));
}

TEST(ReassemblyQueue, PlacementOnlyWhereTheNextInOrderBytesGo) {
  ReassemblyQueue q(4096);
  EXPECT_TRUE(q.placement(52, 100).empty());  // no ring yet
  EXPECT_EQ(q.insert(0, stream(0, 3000)), 3000u);
  ASSERT_EQ(q.ring_bytes(), 4096u);
  // RCV.NXT sits at ring position 3000: the span starts 52 bytes before it and runs to the
  // end of the ring (the window allows 1096 more).
  auto p = q.placement(52, 100);
  ASSERT_EQ(p.size(), 52u + 1096u);
  EXPECT_TRUE(q.placement(52, 1097).empty());  // less contiguous room than asked for
  // The headroom overlays the last unread bytes: they are what the caller must put back.
  EXPECT_EQ(std::vector<uint8_t>(p.begin(), p.begin() + 52), stream(2948, 52));
  // Out-of-order bytes held: a mispredicted packet could overwrite them, so no placement.
  EXPECT_EQ(q.insert(100, stream(3100, 10)), 0u);
  EXPECT_TRUE(q.placement(52, 100).empty());
  EXPECT_EQ(q.insert(0, stream(3000, 100)), 110u);
  EXPECT_FALSE(q.placement(52, 100).empty());
}

TEST(ReassemblyQueue, PlacedBytesAreStoredWithoutCopyAndReadBack) {
  ReassemblyQueue q(8192);
  // A ring large enough for the placed segment (placement never grows it).
  EXPECT_EQ(q.insert(0, stream(0, 2000)), 2000u);
  EXPECT_EQ(read_n(q, 2000), stream(0, 2000));
  // Empty again: the next bytes start behind headroom for headers.
  auto p = q.placement(ReassemblyQueue::kPlacementHeadroom, 1000);
  ASSERT_FALSE(p.empty());
  std::vector<uint8_t> headroom(p.begin(), p.begin() + ReassemblyQueue::kPlacementHeadroom);
  // A device wrote headers and payload there; the payload is inserted from where it lies.
  const auto payload = stream(2000, 1000);
  std::copy(payload.begin(), payload.end(), p.begin() + ReassemblyQueue::kPlacementHeadroom);
  std::fill(p.begin(), p.begin() + ReassemblyQueue::kPlacementHeadroom, uint8_t{0xee});
  const auto in_place = p.subspan(ReassemblyQueue::kPlacementHeadroom, 1000);
  EXPECT_EQ(q.insert(0, in_place), 1000u);
  std::copy(headroom.begin(), headroom.end(), p.begin());  // the caller puts the headroom back
  EXPECT_EQ(read_n(q, 2000), payload);
}

TEST(ReassemblyQueue, PlacementStopsBeforeUnreadBytesOfAWrappedGrowingRing) {
  // The window counts the logical capacity (64 KiB) while the ring holds only 4 KiB: once the
  // ring wraps, the room after RCV.NXT ends where the unread bytes begin, not at the window.
  ReassemblyQueue q(65536);
  EXPECT_EQ(q.insert(0, stream(0, 3000)), 3000u);
  ASSERT_EQ(q.ring_bytes(), 4096u);
  EXPECT_EQ(read_n(q, 2900), stream(0, 2900));
  EXPECT_EQ(q.insert(0, stream(3000, 1500)), 1500u);  // wraps: ring positions 3000..4095, 0..403
  ASSERT_EQ(q.ring_bytes(), 4096u);
  auto p = q.placement(52, 100);
  ASSERT_EQ(p.size(), 52u + (4096u - 1600u));
  // A device may write anything into the whole span; only the headroom is put back.
  std::vector<uint8_t> headroom(p.begin(), p.begin() + 52);
  std::fill(p.begin(), p.end(), uint8_t{0xee});
  std::copy(headroom.begin(), headroom.end(), p.begin());
  EXPECT_EQ(read_n(q, 1600), stream(2900, 1600));
}

TEST(ReassemblyQueue, HeldStorageNeverMovesAndStoresOnlyWhatFits) {
  // The placement lease (stack/direct_placement.hpp) holds the storage while a placed packet
  // is input: a segment that would need a larger ring stores only what fits instead of
  // reallocating under the placed bytes (the a478f52 use-after-free).
  ReassemblyQueue q(65536);
  EXPECT_EQ(q.insert(0, stream(0, 3000)), 3000u);
  ASSERT_EQ(q.ring_bytes(), 4096u);
  const auto p = q.placement(52, 100);
  ASSERT_FALSE(p.empty());
  q.hold_storage(true);
  EXPECT_EQ(q.insert(0, stream(3000, 5000)), 1096u);  // up to the end of the 4 KiB ring
  EXPECT_EQ(q.ring_bytes(), 4096u);
  EXPECT_EQ(q.insert(10, stream(4106, 100)), 0u);  // wholly past the storage: dropped
  EXPECT_FALSE(q.has_out_of_order());
  q.hold_storage(false);
  // Released: the rest is stored the usual way, growing the ring.
  EXPECT_EQ(q.insert(0, stream(4096, 1904)), 1904u);
  EXPECT_GT(q.ring_bytes(), 4096u);
  EXPECT_EQ(read_n(q, 6000), stream(0, 6000));
}

}  // namespace
}  // namespace utcp::tcp
