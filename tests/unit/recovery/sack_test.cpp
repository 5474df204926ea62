// SPDX-License-Identifier: BSD-2-Clause
// SACK: the sender's RFC 6675 scoreboard and the receiver's RFC 2018/2883 block generator.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "tcp/sack_blocks.hpp"
#include "tcp/sack_scoreboard.hpp"

namespace utcp::tcp {
namespace {

using wire::SackBlock;
using wire::SeqNum;

constexpr uint32_t kMss = 1000;
// Near the wrap point so modular arithmetic is exercised.
constexpr uint32_t kBase = 0xFFFFF000u;

SeqNum S(uint32_t off) {
  return SeqNum(kBase + off);
}
SackBlock B(uint32_t l, uint32_t r) {
  return SackBlock{S(l), S(r)};
}

// --- Scoreboard updates -----------------------------------------------------------------

TEST(SackScoreboard, RecordsAndMergesBlocks) {
  SackScoreboard sb;
  const std::array<SackBlock, 1> b1{B(2000, 3000)};
  auto u = sb.update(S(0), S(10000), b1);
  EXPECT_EQ(u.newly_sacked, 1000u);
  const std::array<SackBlock, 2> b2{B(4000, 5000), B(2000, 3000)};
  u = sb.update(S(0), S(10000), b2);
  EXPECT_EQ(u.newly_sacked, 1000u);
  EXPECT_FALSE(u.dsack);
  ASSERT_EQ(sb.ranges().size(), 2u);
  // A block bridging the two merges them into one range.
  const std::array<SackBlock, 1> b3{B(2000, 5000)};
  u = sb.update(S(0), S(10000), b3);
  EXPECT_EQ(u.newly_sacked, 1000u);
  ASSERT_EQ(sb.ranges().size(), 1u);
  EXPECT_EQ(sb.ranges()[0], (SeqSpan{S(2000), S(5000)}));
  EXPECT_EQ(sb.sacked_bytes(), 3000u);
  EXPECT_EQ(sb.high_sacked(), S(5000));
}

TEST(SackScoreboard, IgnoresBlocksOutsideUnaToMax) {
  SackScoreboard sb;
  // Beyond SND.MAX, empty, reversed, and wholly below SND.UNA (as a non-first block).
  const std::array<SackBlock, 4> bad{B(9000, 11000), B(3000, 3000), B(5000, 4000), B(1000, 1500)};
  auto u = sb.update(S(2000), S(10000), bad);
  EXPECT_EQ(u.newly_sacked, 0u);
  EXPECT_EQ(u.ignored_blocks, 4u);
  EXPECT_FALSE(u.dsack);  // a non-first block below SND.UNA is not a D-SACK
  EXPECT_TRUE(sb.empty());
}

TEST(SackScoreboard, FirstBlockBelowAckIsDsack) {
  SackScoreboard sb;
  const std::array<SackBlock, 2> b{B(500, 1000), B(3000, 4000)};
  auto u = sb.update(S(2000), S(10000), b);
  ASSERT_TRUE(u.dsack);
  EXPECT_EQ(u.dsack->begin, S(500));
  EXPECT_EQ(u.dsack->end, S(1000));
  EXPECT_EQ(u.newly_sacked, 1000u);
  ASSERT_EQ(sb.ranges().size(), 1u);
}

TEST(SackScoreboard, FirstBlockInsideSecondIsDsack) {
  SackScoreboard sb;
  const std::array<SackBlock, 2> b{B(3000, 3500), B(3000, 5000)};
  auto u = sb.update(S(0), S(10000), b);
  ASSERT_TRUE(u.dsack);
  EXPECT_EQ(u.dsack->begin, S(3000));
  EXPECT_EQ(u.newly_sacked, 2000u);
}

TEST(SackScoreboard, BlockStraddlingUnaIsClipped) {
  SackScoreboard sb;
  const std::array<SackBlock, 2> b{B(6000, 7000), B(1000, 3000)};
  auto u = sb.update(S(2000), S(10000), b);
  EXPECT_EQ(u.newly_sacked, 2000u);
  ASSERT_EQ(sb.ranges().size(), 2u);
  EXPECT_EQ(sb.ranges()[0], (SeqSpan{S(2000), S(3000)}));
}

TEST(SackScoreboard, AckAdvanceTrimsRanges) {
  SackScoreboard sb;
  const std::array<SackBlock, 2> b{B(2000, 3000), B(5000, 8000)};
  sb.update(S(0), S(10000), b);
  EXPECT_EQ(sb.sacked_bytes(), 4000u);
  auto u = sb.update(S(4000), S(10000), {});
  EXPECT_FALSE(u.reneged);
  ASSERT_EQ(sb.ranges().size(), 1u);
  EXPECT_EQ(sb.ranges()[0], (SeqSpan{S(5000), S(8000)}));
  EXPECT_EQ(sb.sacked_bytes(), 3000u);
  EXPECT_EQ(sb.high_ack(), S(4000));
  // An ACK landing inside a SACKed range is reneging too.
  u = sb.update(S(6000), S(10000), {});
  EXPECT_TRUE(u.reneged);
  EXPECT_TRUE(sb.empty());
}

TEST(SackScoreboard, RenegingClearsState) {
  SackScoreboard sb;
  const std::array<SackBlock, 1> b{B(2000, 4000)};
  sb.update(S(0), S(10000), b);
  // The cumulative ACK stops exactly at SACKed data without a SACK for it: reneged.
  auto u = sb.update(S(2000), S(10000), {});
  EXPECT_TRUE(u.reneged);
  EXPECT_TRUE(sb.empty());
  EXPECT_EQ(sb.sacked_bytes(), 0u);
}

// --- IsLost, pipe, NextSeg ----------------------------------------------------------------

// Segments of 1000 bytes: 0..9 sent; the peer SACKs `sacked` segment indices.
SackScoreboard board(std::initializer_list<unsigned> sacked) {
  SackScoreboard sb;
  sb.update(S(0), S(10000), {});
  for (unsigned i : sacked) {
    const std::array<SackBlock, 1> b{B(i * 1000, (i + 1) * 1000)};
    sb.update(S(0), S(10000), b);
  }
  sb.reset_retransmit_marks();
  return sb;
}

TEST(SackScoreboard, IsLostByBytes) {
  // Three contiguous segments above segment 0: 3000 > (3-1)*1000 bytes.
  auto sb = board({1, 2, 3});
  EXPECT_TRUE(sb.is_lost(S(0), kMss));
  EXPECT_FALSE(sb.is_lost(S(4000), kMss));  // nothing SACKed above
  EXPECT_FALSE(sb.is_lost(S(1000), kMss));  // SACKed itself
  // Two segments above: 2000 is not more than 2000, one range only.
  auto sb2 = board({1, 2});
  EXPECT_FALSE(sb2.is_lost(S(0), kMss));
}

TEST(SackScoreboard, IsLostByDiscontiguousRanges) {
  // Segments 2, 4, 6 SACKed (three ranges, 3000 bytes): 1 is lost, 3 and 5 are not.
  auto sb = board({2, 4, 6});
  EXPECT_TRUE(sb.is_lost(S(0), kMss));
  EXPECT_TRUE(sb.is_lost(S(1000), kMss));
  EXPECT_FALSE(sb.is_lost(S(3000), kMss));
  EXPECT_FALSE(sb.is_lost(S(5000), kMss));
  // With a larger SMSS the byte rule does not fire but the range count still does.
  EXPECT_TRUE(sb.is_lost(S(1000), 4000));
}

TEST(SackScoreboard, PipeCountsUnsackedNotLostAndRetransmitted) {
  // 10 segments out, 1..3 SACKed, 0 lost: pipe = segments 4..9 = 6000.
  auto sb = board({1, 2, 3});
  EXPECT_EQ(sb.pipe(S(10000), kMss), 6000u);
  // After retransmitting segment 0 it counts once more.
  sb.on_retransmitted(S(0), 1000);
  EXPECT_EQ(sb.pipe(S(10000), kMss), 7000u);
}

TEST(SackScoreboard, PipeShareIsPipeRestrictedToAStretch) {
  // Segments 1..3 SACKed (so 0 is lost), 0 retransmitted: pipe = 1000 (0 again) + 4..9.
  auto sb = board({1, 2, 3});
  sb.on_retransmitted(S(0), 1000);
  // [0, 5000): segment 0 (once, retransmitted) and 4; 1..3 are SACKed and count for nothing.
  auto sh = sb.pipe_share(S(0), S(5000), kMss);
  EXPECT_EQ(sh.pipe, 2000u);
  EXPECT_EQ(sh.unsacked, 2000u);
  // Inside one SACKed range, or empty: nothing.
  sh = sb.pipe_share(S(1500), S(2500), kMss);
  EXPECT_EQ(sh.pipe, 0u);
  EXPECT_EQ(sh.unsacked, 0u);
  EXPECT_EQ(sb.pipe_share(S(4000), S(4000), kMss).unsacked, 0u);
  // Stretches that tile HighACK..HighData add up to pipe().
  uint32_t total = 0;
  for (uint32_t a = 0; a < 10000; a += 700) {
    total += sb.pipe_share(S(a), S(std::min(a + 700, 10000u)), kMss).pipe;
  }
  EXPECT_EQ(total, sb.pipe(S(10000), kMss));
}

TEST(SackScoreboard, PipeWithoutSacksIsFlight) {
  auto sb = board({});
  EXPECT_EQ(sb.pipe(S(10000), kMss), 10000u);
}

TEST(SackScoreboard, NextSegRule1RetransmitsLostHolesInOrder) {
  auto sb = board({2, 4, 6});
  auto n = sb.next_seg(S(10000), kMss, true, S(10000));
  ASSERT_EQ(n.kind, NextSegment::Kind::kRetransmit);
  EXPECT_EQ(n.seq, S(0));
  EXPECT_EQ(n.len, 1000u);
  sb.on_retransmitted(n.seq, n.len);
  n = sb.next_seg(S(10000), kMss, true, S(10000));
  ASSERT_EQ(n.kind, NextSegment::Kind::kRetransmit);
  EXPECT_EQ(n.seq, S(1000));
  sb.on_retransmitted(n.seq, n.len);
  // Segment 3 is not lost: rule 2 (new data) comes before rule 3.
  n = sb.next_seg(S(10000), kMss, true, S(10000));
  EXPECT_EQ(n.kind, NextSegment::Kind::kNewData);
}

TEST(SackScoreboard, NextSegRule3WhenNoNewData) {
  auto sb = board({2, 4, 6});
  sb.on_retransmitted(S(0), 2000);  // holes 0-1 done
  auto n = sb.next_seg(S(10000), kMss, false, S(10000));
  ASSERT_EQ(n.kind, NextSegment::Kind::kRetransmit);
  EXPECT_EQ(n.seq, S(3000));  // un-SACKed, below the highest SACK, not lost
  sb.on_retransmitted(n.seq, n.len);
  n = sb.next_seg(S(10000), kMss, false, S(10000));
  ASSERT_EQ(n.kind, NextSegment::Kind::kRetransmit);
  EXPECT_EQ(n.seq, S(5000));
  sb.on_retransmitted(n.seq, n.len);
  // Rule 4: the rescue retransmission covers the highest un-SACKed byte (segment 9).
  n = sb.next_seg(S(10000), kMss, false, S(10000));
  ASSERT_EQ(n.kind, NextSegment::Kind::kRescue);
  EXPECT_EQ(n.seq, S(9000));
  EXPECT_EQ(n.len, 1000u);
  sb.on_rescue(S(10000));
  n = sb.next_seg(S(10000), kMss, false, S(10000));
  EXPECT_EQ(n.kind, NextSegment::Kind::kNone);
}

TEST(SackScoreboard, RescueOnlyForBytesNotRetransmitted) {
  auto sb = board({1, 2, 3, 9});
  sb.on_retransmitted(S(0), 1000);
  // Segments 4..8 not lost (only one range (9) and 1000 bytes above them); rule 3 first.
  auto n = sb.next_seg(S(10000), kMss, false, S(10000));
  ASSERT_EQ(n.kind, NextSegment::Kind::kRetransmit);
  EXPECT_EQ(n.seq, S(4000));
  sb.on_retransmitted(S(4000), 5000);
  // Everything un-SACKed was retransmitted already: no rescue (it would be a third copy).
  n = sb.next_seg(S(10000), kMss, false, S(10000));
  EXPECT_EQ(n.kind, NextSegment::Kind::kNone);
}

TEST(SackScoreboard, RangeCapBoundsMemory) {
  SackScoreboard sb;
  for (uint32_t i = 0; i < SackScoreboard::kMaxRanges + 50; ++i) {
    const std::array<SackBlock, 1> b{B(i * 20 + 10, i * 20 + 15)};
    sb.update(S(0), S(1'000'000), b);
  }
  EXPECT_EQ(sb.ranges().size(), SackScoreboard::kMaxRanges);
}

// --- Receiver blocks ----------------------------------------------------------------------

// A receiver model: a ReassemblyQueue and the generator, at RCV.NXT = S(0).
struct Rx {
  ReassemblyQueue q{1 << 16};
  SackBlockGenerator gen;
  SeqNum rcv_nxt = S(0);
  std::vector<uint8_t> payload = std::vector<uint8_t>(1000, 0xab);

  void segment(uint32_t off, uint32_t len) {
    const uint32_t rel = (S(off)).distance_from(rcv_nxt);
    const size_t adv = q.insert(rel, std::span<const uint8_t>(payload.data(), len));
    if (rel > 0 && adv == 0) gen.on_out_of_order(S(off), S(off + len));
    rcv_nxt += static_cast<uint32_t>(adv);
  }
  std::vector<SackBlock> blocks(size_t max = 4) {
    std::array<SackBlock, 4> out{};
    const size_t n = gen.fill(rcv_nxt, q.out_of_order(), out, max);
    return {out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)};
  }
};

TEST(SackBlocks, MostRecentFirst) {
  Rx rx;
  rx.segment(1000, 1000);
  EXPECT_EQ(rx.blocks(), (std::vector<SackBlock>{B(1000, 2000)}));
  rx.segment(3000, 1000);
  EXPECT_EQ(rx.blocks(), (std::vector<SackBlock>{B(3000, 4000), B(1000, 2000)}));
  rx.segment(5000, 1000);
  EXPECT_EQ(rx.blocks(), (std::vector<SackBlock>{B(5000, 6000), B(3000, 4000), B(1000, 2000)}));
  // A segment extending the oldest block makes that block first again.
  rx.segment(2000, 500);
  EXPECT_EQ(rx.blocks(), (std::vector<SackBlock>{B(1000, 2500), B(5000, 6000), B(3000, 4000)}));
}

TEST(SackBlocks, EveryHolePatternOfSixSegments) {
  // For every subset of segments 1..5 (segment 0 always missing), the blocks are exactly the
  // maximal received runs, most recent first (arrival order = ascending here), within the limit.
  for (unsigned mask = 1; mask < 32; ++mask) {
    Rx rx;
    std::vector<SackBlock> runs;
    for (unsigned i = 1; i <= 5; ++i) {
      if (!(mask & (1u << (i - 1)))) continue;
      rx.segment(i * 1000, 1000);
      if (!runs.empty() && runs.back().right == S(i * 1000)) {
        runs.back().right = S((i + 1) * 1000);
      } else {
        runs.push_back(B(i * 1000, (i + 1) * 1000));
      }
    }
    const auto got = rx.blocks(3);
    // Expected: the run holding the last-arrived segment first, then earlier runs, newest first.
    std::vector<SackBlock> want(runs.rbegin(), runs.rend());
    if (want.size() > 3) want.resize(3);
    EXPECT_EQ(got, want) << "mask " << mask;
  }
}

TEST(SackBlocks, FilledBlocksDisappearWhenHoleCloses) {
  Rx rx;
  rx.segment(1000, 1000);
  rx.segment(3000, 1000);
  rx.segment(0, 1000);  // fills the first hole: RCV.NXT moves to 2000
  EXPECT_EQ(rx.rcv_nxt, S(2000));
  EXPECT_EQ(rx.blocks(), (std::vector<SackBlock>{B(3000, 4000)}));
  rx.segment(2000, 1000);
  EXPECT_TRUE(rx.blocks().empty());
}

TEST(SackBlocks, DsackBelowRcvNxtReportedOnce) {
  Rx rx;
  rx.segment(0, 1000);
  rx.segment(2000, 1000);
  rx.gen.on_duplicate(S(0), S(1000));
  EXPECT_EQ(rx.blocks(), (std::vector<SackBlock>{B(0, 1000), B(2000, 3000)}));
  EXPECT_EQ(rx.blocks(), (std::vector<SackBlock>{B(2000, 3000)}));
}

TEST(SackBlocks, DsackInsideOutOfOrderBlockIsFollowedByIt) {
  Rx rx;
  rx.segment(2000, 1000);
  rx.segment(3000, 1000);
  rx.segment(6000, 1000);
  rx.gen.on_duplicate(S(2000), S(2500));
  // RFC 2883 §4 example: D-SACK, then the containing block, then the other.
  EXPECT_EQ(rx.blocks(), (std::vector<SackBlock>{B(2000, 2500), B(2000, 4000), B(6000, 7000)}));
}

TEST(SackBlocks, LimitRespected) {
  Rx rx;
  for (uint32_t i = 1; i <= 9; i += 2) rx.segment(i * 1000, 1000);
  EXPECT_EQ(rx.blocks(3).size(), 3u);
  EXPECT_EQ(rx.blocks(4).size(), 4u);
  EXPECT_EQ(rx.blocks(4)[0], B(9000, 10000));
}

}  // namespace
}  // namespace utcp::tcp
