// SPDX-License-Identifier: BSD-2-Clause
// RACK loss detection and TLP (RFC 8985).
#include <gtest/gtest.h>

#include <vector>

#include "tcp/rack.hpp"
#include "tcp/tlp.hpp"

namespace utcp::tcp {
namespace {

using wire::SeqNum;
constexpr uint32_t kMss = 1000;
const SeqNum kIss(0xFFFFFC00u);

Instant ms(int64_t v) {
  return instant_from_us(v * 1000);
}
SeqNum S(uint32_t seg) {
  return kIss + seg * kMss;
}

std::vector<uint32_t> lost_segments(const Rack& r) {
  std::vector<uint32_t> out;
  r.for_each_lost([&](const RackSegment& s) { out.push_back(s.seq.distance_from(kIss) / kMss); });
  return out;
}

// Sends segments 0..n-1, one per ms from t=0.
Rack sent(uint32_t n) {
  Rack r;
  for (uint32_t i = 0; i < n; ++i) r.on_transmit(S(i), kMss, ms(i), false);
  return r;
}

TEST(Rack, LaterDeliveryMarksEarlierLostAfterRtt) {
  Rack r = sent(10);
  // Segment 0 lost; ACK at t=100 SACKs 1..4 (RTT sample 100 ms).
  std::vector<SeqSpan> sacked{{S(1), S(5)}};
  r.on_ack(S(0), sacked, false, S(10), Duration(100'000), ms(100));
  EXPECT_EQ(r.segs_sacked(), 4u);
  EXPECT_EQ(r.rtt(), Duration(96'000));  // segment 4 sent at 4 ms, the latest delivered
  // Not in recovery, 4 SACKed >= DupThresh and no reordering seen: reo_wnd = 0, so segment 0
  // (sent 4 ms before segment 4) is lost once now >= 0 + 96 ms.
  const Duration timeout = r.detect_loss(ms(100), false, Duration(100'000));
  EXPECT_EQ(r.reo_wnd(), Duration(0));
  EXPECT_EQ(lost_segments(r), (std::vector<uint32_t>{0}));
  EXPECT_EQ(timeout, Duration(0));
}

TEST(Rack, HandshakeRttGivesTheFirstSackAReorderingWindow) {
  // One segment SACKed above a hole (below DupThresh, no reordering seen): RFC 8985 §6.2 step 4
  // wants reo_wnd = min_RTT / 4. With no RTT sample at all there is no window...
  Rack bare = sent(4);
  std::vector<SeqSpan> one{{S(1), S(2)}};
  bare.on_ack(S(0), one, false, S(4), std::nullopt, ms(101));
  bare.detect_loss(ms(101), false, Duration(100'000));
  EXPECT_EQ(lost_segments(bare), (std::vector<uint32_t>{0}));
  // ...but the handshake's sample (an ACK with no data, which on_ack never sees) provides one:
  // segment 0 waits 25 ms for a late arrival before it counts as lost.
  Rack r = sent(4);
  r.on_rtt_sample(Duration(100'000), ms(0));
  r.on_ack(S(0), one, false, S(4), std::nullopt, ms(101));
  const Duration timeout = r.detect_loss(ms(101), false, Duration(100'000));
  EXPECT_EQ(r.reo_wnd(), Duration(25'000));
  EXPECT_TRUE(lost_segments(r).empty());
  EXPECT_GT(timeout, Duration(0));
  r.detect_loss(ms(101) + timeout, false, Duration(100'000));
  EXPECT_EQ(lost_segments(r), (std::vector<uint32_t>{0}));
}

TEST(Rack, ReorderingWindowDelaysAndArmsTimer) {
  Rack r = sent(10);
  // First, reordering is observed: segment 3 delivered, then segment 2 (never retransmitted).
  std::vector<SeqSpan> s1{{S(3), S(4)}};
  r.on_ack(S(0), s1, false, S(10), Duration(40'000), ms(43));
  std::vector<SeqSpan> s2{{S(2), S(4)}};
  r.on_ack(S(0), s2, false, S(10), std::nullopt, ms(44));
  EXPECT_TRUE(r.reordering_seen());
  // reo_wnd = min_RTT / 4 = 10 ms. Segments 0,1 were sent at 0,1 ms; RACK.rtt = 40 ms from
  // segment 3 (sent at 3 ms, delivered at 43).
  Duration t = r.detect_loss(ms(44), false, Duration(40'000));
  EXPECT_EQ(r.reo_wnd(), Duration(10'000));
  EXPECT_TRUE(lost_segments(r).empty());
  // Segment 1: 1 + 40 + 10 - 44 = 7 ms left; segment 0: 6 ms; the timer waits for the last.
  EXPECT_EQ(t, Duration(7'000));
  r.detect_loss(ms(50), false, Duration(40'000));
  EXPECT_EQ(lost_segments(r), (std::vector<uint32_t>{0}));
  r.detect_loss(ms(51), false, Duration(40'000));
  EXPECT_EQ(lost_segments(r), (std::vector<uint32_t>{0, 1}));
}

TEST(Rack, DsackRoundsGrowReorderingWindowUpToSrtt) {
  Rack r = sent(20);
  std::vector<SeqSpan> none;
  // Reordering seen so reo_wnd is not zero.
  std::vector<SeqSpan> s1{{S(5), S(6)}};
  r.on_ack(S(0), s1, false, S(20), Duration(40'000), ms(45));
  std::vector<SeqSpan> s2{{S(4), S(6)}};
  r.on_ack(S(0), s2, false, S(20), std::nullopt, ms(46));
  r.detect_loss(ms(46), false, Duration(100'000));
  EXPECT_EQ(r.reo_wnd(), Duration(10'000));
  // A D-SACK: multiplier 2 for this round (SND.NXT = S(20)).
  r.on_ack(S(1), s2, true, S(20), std::nullopt, ms(50));
  r.detect_loss(ms(50), false, Duration(100'000));
  EXPECT_EQ(r.reo_wnd_mult(), 2u);
  EXPECT_EQ(r.reo_wnd(), Duration(20'000));
  // Another D-SACK in the same round does not grow it.
  r.on_ack(S(2), s2, true, S(20), std::nullopt, ms(51));
  EXPECT_EQ(r.reo_wnd_mult(), 2u);
  // After SND.UNA passes the round's end, a D-SACK grows it again; SRTT caps it.
  for (uint32_t i = 20; i < 30; ++i) r.on_transmit(S(i), kMss, ms(52), false);
  r.on_ack(S(20), none, true, S(30), std::nullopt, ms(90));
  r.detect_loss(ms(90), false, Duration(25'000));
  EXPECT_EQ(r.reo_wnd_mult(), 3u);
  EXPECT_EQ(r.reo_wnd(), Duration(25'000));  // min(3 * 40/4, SRTT)
  // 16 recoveries without D-SACK reset the multiplier.
  for (int i = 0; i < 16; ++i) {
    r.on_recovery_exit();
    r.detect_loss(ms(91), false, Duration(100'000));
  }
  EXPECT_EQ(r.reo_wnd_mult(), 1u);
}

TEST(Rack, RetransmissionTimingAndSpuriousSampleSkipped) {
  Rack r = sent(4);
  r.on_ack(S(0), {}, false, S(4), Duration(50'000), ms(50));  // min_RTT 50 ms
  // Retransmit segment 0 at 60 ms; an ACK at 65 ms (5 ms later < min_RTT) is for the original:
  // its timing is not used.
  r.on_transmit(S(0), kMss, ms(60), true);
  EXPECT_TRUE(r.at(0).retransmitted);
  r.on_ack(S(1), {}, false, S(4), std::nullopt, ms(65));
  EXPECT_FALSE(r.has_delivered());
  // Segment 1 delivered normally at 70 ms: RTT 69 ms.
  r.on_ack(S(2), {}, false, S(4), std::nullopt, ms(70));
  EXPECT_TRUE(r.has_delivered());
  EXPECT_EQ(r.rtt(), Duration(69'000));
  EXPECT_EQ(r.size(), 2u);
}

TEST(Rack, LostSegmentRetransmittedIsNotLostAgainUntilNewEvidence) {
  Rack r = sent(6);
  std::vector<SeqSpan> s{{S(1), S(6)}};
  r.on_ack(S(0), s, false, S(6), Duration(100'000), ms(105));
  r.detect_loss(ms(105), false, Duration(100'000));
  ASSERT_EQ(lost_segments(r), (std::vector<uint32_t>{0}));
  r.on_transmit(S(0), kMss, ms(106), true);
  EXPECT_FALSE(r.any_lost());
  r.detect_loss(ms(150), false, Duration(100'000));
  EXPECT_FALSE(r.any_lost());  // the retransmission was sent after RACK.xmit_ts
}

TEST(Rack, RetransmittedFrontDoesNotHideOlderLossesBehindIt) {
  // detect_loss stops at the first never-retransmitted segment sent after RACK.xmit_ts; a
  // retransmitted segment (newer timestamp, lower sequence) must not end the scan early.
  Rack r = sent(8);
  r.on_transmit(S(0), kMss, ms(20), true);  // segment 0 resent at 20 ms
  std::vector<SeqSpan> s{{S(3), S(6)}};     // 3..5 delivered at 110 ms: RACK.xmit_ts = 5 ms
  r.on_ack(S(0), s, false, S(8), Duration(100'000), ms(110));
  r.detect_loss(ms(200), false, Duration(100'000));
  // 1 and 2 were sent before segment 5 and are lost; 0 was resent after it, 6 and 7 too.
  EXPECT_EQ(lost_segments(r), (std::vector<uint32_t>{1, 2}));
  EXPECT_TRUE(r.at(0).retransmitted);
  EXPECT_FALSE(r.at(6).lost);
}

TEST(Rack, RetransmissionMarksOnlyTheSegmentsItOverlaps) {
  Rack r = sent(6);
  r.on_transmit(S(2), 2 * kMss, ms(30), true);
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(r.at(i).retransmitted, i == 2 || i == 3) << i;
    EXPECT_EQ(r.at(i).xmit_ts, (i == 2 || i == 3) ? ms(30) : ms(static_cast<int64_t>(i))) << i;
  }
  r.on_transmit(S(6), kMss, ms(31), false);  // new data: logged, nothing else touched
  EXPECT_EQ(r.size(), 7u);
  EXPECT_FALSE(r.at(6).retransmitted);
}

TEST(Rack, RtoMarksFirstAndOldSegments) {
  Rack r = sent(5);
  r.on_ack(S(0), {}, false, S(5), Duration(10'000), ms(2));  // sets min_rtt only
  r.mark_losses_on_rto(S(0), ms(3));
  EXPECT_EQ(lost_segments(r), (std::vector<uint32_t>{0, 1, 2, 3}));  // rtt 0 until delivered
}

TEST(Tlp, PtoComputation) {
  const Instant now = ms(1000);
  const Instant far = ms(10'000);
  // RFC 8985 §7.2: 2*SRTT; +max_ack_delay for one segment; 1 s without SRTT; capped by RTO.
  EXPECT_EQ(TailLossProbe::pto_deadline(Duration(50'000), false, now, far), ms(1100));
  EXPECT_EQ(TailLossProbe::pto_deadline(Duration(50'000), true, now, far), ms(1300));
  EXPECT_EQ(TailLossProbe::pto_deadline(std::nullopt, false, now, far), ms(2000));
  EXPECT_EQ(TailLossProbe::pto_deadline(Duration(50'000), false, now, ms(1050)), ms(1050));
}

TEST(Tlp, ProbeAckOutcomes) {
  const SeqNum end(5000);
  {
    TailLossProbe t;  // new-data probe delivered: no reaction
    ASSERT_TRUE(t.may_probe());
    t.on_probe_sent(end, false);
    EXPECT_FALSE(t.may_probe());  // one probe at a time, and an RTT sample needed first
    EXPECT_FALSE(t.on_ack(end, std::nullopt, false));
    EXPECT_FALSE(t.outstanding());
    EXPECT_FALSE(t.may_probe());
    t.on_rtt_sample();
    EXPECT_TRUE(t.may_probe());
  }
  {
    TailLossProbe t;  // retransmission probe, D-SACK for it: the original arrived too
    t.on_probe_sent(end, true);
    EXPECT_FALSE(t.on_ack(end, end, false));
    EXPECT_FALSE(t.outstanding());
  }
  {
    TailLossProbe t;  // retransmission probe repaired a loss: ACK beyond it, no D-SACK
    t.on_probe_sent(end, true);
    EXPECT_FALSE(t.on_ack(end - 1000, std::nullopt, false));
    EXPECT_TRUE(t.outstanding());
    EXPECT_TRUE(t.on_ack(end + 1000, std::nullopt, false));
    EXPECT_FALSE(t.outstanding());
  }
  {
    TailLossProbe t;  // duplicate ACK without SACK at the probe's end: case 2
    t.on_probe_sent(end, true);
    EXPECT_FALSE(t.on_ack(end, std::nullopt, true));
    EXPECT_FALSE(t.outstanding());
  }
}

}  // namespace
}  // namespace utcp::tcp
