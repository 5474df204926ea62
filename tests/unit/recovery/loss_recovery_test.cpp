// SPDX-License-Identifier: BSD-2-Clause
// LossRecovery scripted: RFC 6675 entry/exit with SACK, PRR-sized sending, limited transmit,
// NewReno partial ACKs, RACK reordering timer and TLP, Eifel and D-SACK undo.
#include <gtest/gtest.h>

#include <vector>

#include "tcp/loss_recovery.hpp"
#include "tcp/reno.hpp"

namespace utcp::tcp {
namespace {

using wire::SackBlock;
using wire::SeqNum;

constexpr uint32_t kMss = 1000;
const SeqNum kIss(0x7FFFFE00u);
SeqNum S(uint32_t seg) {
  return kIss + seg * kMss;
}
Instant ms(int64_t v) {
  return instant_from_us(v * 1000);
}

// A sender model: segments 0..n-1 in flight, cumulative ACK at `una`.
struct Model {
  LossRecovery lr;
  RenoCongestion cc;
  SeqNum una = S(0);
  SeqNum max = S(0);
  std::vector<SackBlock> sacks;

  explicit Model(bool sack, bool rack = true) : lr(LossRecoveryOptions{.rack = rack}) {
    lr.set_sack(sack);
    cc.init(kMss, 10);
  }
  void send(uint32_t n, Instant t, uint32_t tsval = 0) {
    for (uint32_t i = 0; i < n; ++i) {
      lr.on_transmit(max, kMss, false, false, tsval, t);
      max += kMss;
    }
  }
  AckOutcome ack(SeqNum ack, std::vector<SackBlock> blocks, Instant t, bool dup = false,
                 std::optional<uint32_t> tsecr = std::nullopt) {
    AckInput in;
    in.acked = ack > una ? ack.distance_from(una) : 0;
    una = SeqNum::max(una, ack);
    in.snd_una = una;
    in.snd_max = max;
    in.dup = dup;
    sacks = std::move(blocks);
    in.sacks = sacks;
    in.tsecr = tsecr;
    in.rtt_sample = Duration(100'000);
    in.srtt = Duration(100'000);
    in.mss = kMss;
    in.now = t;
    return lr.on_ack(in, cc);
  }
};

SackBlock seg_block(uint32_t a, uint32_t b) {
  return SackBlock{S(a), S(b)};
}

TEST(LossRecovery, SackEntryOnThirdSegmentAndForcedFirstRetransmission) {
  Model m(true, false);
  m.send(10, ms(0));
  EXPECT_FALSE(m.ack(S(0), {seg_block(1, 2)}, ms(100)).entered);
  EXPECT_EQ(m.lr.limited_transmit_allowance(kMss), kMss);  // RFC 3042
  EXPECT_FALSE(m.ack(S(0), {seg_block(1, 3)}, ms(101)).entered);
  EXPECT_EQ(m.lr.limited_transmit_allowance(kMss), 2 * kMss);
  const auto out = m.ack(S(0), {seg_block(1, 4)}, ms(102));
  EXPECT_TRUE(out.entered);
  EXPECT_EQ(out.delivered, kMss);
  EXPECT_TRUE(m.lr.in_recovery());
  EXPECT_EQ(m.lr.limited_transmit_allowance(kMss), 0u);
  EXPECT_EQ(m.cc.ssthresh(), 5 * kMss);  // Reno: FlightSize / 2
  // The first retransmission goes regardless of PRR.
  auto c = m.lr.next(m.una, m.max, 0, kMss);
  ASSERT_EQ(c.kind, SendChoice::Kind::kRetransmit);
  EXPECT_EQ(c.seq, S(0));
  EXPECT_EQ(c.len, kMss);
  m.lr.on_transmit(c.seq, c.len, true, false, 0, ms(102));
  EXPECT_EQ(m.lr.scoreboard().high_rxt(), S(1));
  // pipe: segments 4..9 (not lost) + the retransmission = 7 > ssthresh 5: PRR sends
  // ceil(delivered * 5/10) - prr_out; nothing more now.
  EXPECT_EQ(m.lr.pipe(m.una, m.max, kMss), 7 * kMss);
  EXPECT_EQ(m.lr.next(m.una, m.max, 100 * kMss, kMss).kind, SendChoice::Kind::kNone);
  // More SACKed segments: prr_delivered 2000 -> ceil(2000/2) - 1000 = 0, 3000 -> 500: still
  // nothing; 4000 -> 2000 - 1000 = 1000: one new segment.
  m.ack(S(0), {seg_block(1, 5)}, ms(103));
  EXPECT_EQ(m.lr.next(m.una, m.max, 100 * kMss, kMss).kind, SendChoice::Kind::kNone);
  m.ack(S(0), {seg_block(1, 6)}, ms(104));
  EXPECT_EQ(m.lr.next(m.una, m.max, 100 * kMss, kMss).kind, SendChoice::Kind::kNone);
  m.ack(S(0), {seg_block(1, 7)}, ms(105));
  c = m.lr.next(m.una, m.max, 100 * kMss, kMss);
  ASSERT_EQ(c.kind, SendChoice::Kind::kNewData);
  EXPECT_EQ(c.len, kMss);
  // The full ACK (covering the recovery point S(10)) ends recovery: cwnd = ssthresh.
  const auto end = m.ack(S(10), {}, ms(200));
  EXPECT_TRUE(end.exited);
  EXPECT_FALSE(m.lr.in_recovery());
  EXPECT_EQ(m.cc.cwnd(), 5 * kMss);
  EXPECT_EQ(m.lr.recoveries(), 1u);
}

TEST(LossRecovery, SackMultipleHolesRetransmittedInOrder) {
  Model m(true, false);
  m.send(12, ms(0));
  // Segments 0, 3 and 6 lost; 1-2, 4-5, 7-11 SACKed.
  m.ack(S(0), {seg_block(1, 3)}, ms(100));
  // Two SACKed ranges holding 4000 bytes above segment 0: IsLost(0) enters recovery (RFC 6675
  // §5) on the second ACK already.
  EXPECT_TRUE(m.ack(S(0), {seg_block(4, 6), seg_block(1, 3)}, ms(101)).entered);
  m.ack(S(0), {seg_block(7, 12), seg_block(4, 6), seg_block(1, 3)}, ms(102));
  ASSERT_TRUE(m.lr.in_recovery());
  // Three SACKed ranges (5000 bytes in the top one) put every hole below S(7) in the lost
  // region: holes 0, 3 and 6 go out in order as PRR allows (ACKs re-run PRR).
  std::vector<uint32_t> resent;
  for (int i = 0; i < 10 && resent.size() < 3; ++i) {
    const auto c = m.lr.next(m.una, m.max, 0, kMss);
    if (c.kind != SendChoice::Kind::kRetransmit) {
      m.ack(S(0), {seg_block(7, 12), seg_block(4, 6), seg_block(1, 3)}, ms(103 + i));
      continue;
    }
    resent.push_back(c.seq.distance_from(kIss) / kMss);
    m.lr.on_transmit(c.seq, c.len, true, c.rescue, 0, ms(103 + i));
  }
  EXPECT_EQ(resent, (std::vector<uint32_t>{0, 3, 6}));
  EXPECT_EQ(m.lr.scoreboard().high_rxt(), S(7));
  // A partial ACK: nothing new is lost and every hole was already resent, so neither rule 3
  // nor the rule 4 rescue has anything to send.
  m.ack(S(3), {seg_block(7, 12), seg_block(4, 6)}, ms(200));
  m.ack(S(3), {seg_block(7, 12), seg_block(4, 6)}, ms(201));
  EXPECT_EQ(m.lr.next(m.una, m.max, 0, kMss).kind, SendChoice::Kind::kNone);
  EXPECT_TRUE(m.ack(S(12), {}, ms(300)).exited);
}

TEST(LossRecovery, NewRenoPartialAckRetransmitsNextHole) {
  Model m(false);
  m.send(10, ms(0));
  for (int i = 0; i < 3; ++i) m.ack(S(0), {}, ms(100 + i), true);
  ASSERT_TRUE(m.lr.in_recovery());
  auto c = m.lr.next(m.una, m.max, 0, kMss);
  ASSERT_EQ(c.kind, SendChoice::Kind::kRetransmit);
  EXPECT_EQ(c.seq, S(0));
  m.lr.on_transmit(c.seq, c.len, true, false, 0, ms(103));
  EXPECT_EQ(m.lr.next(m.una, m.max, 0, kMss).kind, SendChoice::Kind::kNone);
  // RFC 6582 §3.2 step 4: a partial ACK up to segment 4 (4 was lost too).
  const auto partial = m.ack(S(4), {}, ms(200));
  EXPECT_FALSE(partial.exited);
  c = m.lr.next(m.una, m.max, 0, kMss);
  ASSERT_EQ(c.kind, SendChoice::Kind::kRetransmit);
  EXPECT_EQ(c.seq, S(4));
  m.lr.on_transmit(c.seq, c.len, true, false, 0, ms(200));
  // The full ACK ends recovery; cwnd deflates to ssthresh.
  EXPECT_TRUE(m.ack(S(10), {}, ms(300)).exited);
  EXPECT_EQ(m.cc.cwnd(), m.cc.ssthresh());
  // Duplicates below the recovery point after an RTO do not start a new recovery.
  m.send(10, ms(300));
  m.lr.on_rto(m.una, m.max, ms(1300));
  for (int i = 0; i < 5; ++i) m.ack(m.una, {}, ms(1400 + i), true);
  EXPECT_FALSE(m.lr.in_recovery());
}

TEST(LossRecovery, EifelUndoWhenAckEchoesOriginalTimestamp) {
  Model m(true, false);
  m.send(10, ms(0), /*tsval=*/100);
  const uint32_t cwnd_before = m.cc.cwnd();
  for (uint32_t k = 2; k <= 4; ++k) m.ack(S(0), {seg_block(1, k)}, ms(100));
  ASSERT_TRUE(m.lr.in_recovery());
  ASSERT_LT(m.cc.cwnd(), cwnd_before + 3 * kMss + 1);
  const auto c = m.lr.next(m.una, m.max, 0, kMss);
  m.lr.on_transmit(c.seq, c.len, true, false, /*tsval=*/200, ms(101));
  // The original segment 0 was only delayed: the ACK echoes its timestamp (100 < 200).
  const auto out = m.ack(S(10), {}, ms(110), false, 100u);
  EXPECT_TRUE(out.undone);
  EXPECT_EQ(m.cc.cwnd(), cwnd_before);
  EXPECT_EQ(m.cc.ssthresh(), UINT32_MAX);
  EXPECT_EQ(m.lr.undos(), 1u);
}

TEST(LossRecovery, NoUndoWhenTheRetransmissionWasNeeded) {
  Model m(true, false);
  m.send(10, ms(0), 100);
  for (uint32_t k = 2; k <= 4; ++k) m.ack(S(0), {seg_block(1, k)}, ms(100));
  const auto c = m.lr.next(m.una, m.max, 0, kMss);
  m.lr.on_transmit(c.seq, c.len, true, false, 200, ms(101));
  const auto out = m.ack(S(10), {}, ms(210), false, 200u);
  EXPECT_FALSE(out.undone);
  EXPECT_TRUE(out.exited);
  EXPECT_EQ(m.cc.cwnd(), 5 * kMss);
}

TEST(LossRecovery, DsackUndoAfterAllRetransmissionsDuplicated) {
  Model m(true, false);
  m.send(10, ms(0));
  for (uint32_t k = 2; k <= 4; ++k) m.ack(S(0), {seg_block(1, k)}, ms(100));
  const auto c = m.lr.next(m.una, m.max, 0, kMss);
  m.lr.on_transmit(c.seq, c.len, true, false, 0, ms(101));
  // The delayed original fills the hole (ACK to 4) ... then the retransmission arrives as a
  // duplicate and the receiver reports it with a D-SACK below the ACK (RFC 2883).
  m.ack(S(4), {}, ms(105));
  const auto out = m.ack(S(4), {seg_block(0, 1)}, ms(106));
  ASSERT_TRUE(out.dsack);
  EXPECT_TRUE(out.undone);
  EXPECT_EQ(m.lr.dsacks(), 1u);
  EXPECT_GE(m.cc.cwnd(), 10 * kMss);
}

TEST(LossRecovery, RackTimerEntersRecoveryWithFewSacks) {
  Model m(true, true);
  for (uint32_t i = 0; i < 4; ++i) {
    m.lr.on_transmit(m.max, kMss, false, false, 0, ms(i));
    m.max += kMss;
  }
  // Only the last segment is SACKed (one SACKed segment: no DupThresh entry), at 103 ms.
  const auto out = m.ack(S(0), {seg_block(3, 4)}, ms(103));
  EXPECT_FALSE(out.entered);
  // RACK.rtt = 100 ms, reo_wnd = min_RTT/4 = 25 ms: segment 2 (sent at 2 ms) is lost at
  // 2 + 100 + 25 = 127 ms; the timer waits for the latest of 0..2.
  const Instant t = m.lr.loss_timer(m.una, m.max, kMss, Duration(100'000), ms(1000), ms(103));
  EXPECT_EQ(t, ms(127));
  const auto a = m.lr.on_loss_timer(m.una, m.max, Duration(100'000), kMss, ms(127), m.cc);
  EXPECT_TRUE(a.entered);
  EXPECT_TRUE(m.lr.in_recovery());
  std::vector<uint32_t> lost;
  m.lr.rack().for_each_lost(
      [&](const RackSegment& s) { lost.push_back(s.seq.distance_from(kIss) / kMss); });
  EXPECT_EQ(lost, (std::vector<uint32_t>{0, 1, 2}));
}

TEST(LossRecovery, RackLostSegmentsAreNotInThePipe) {
  // RFC 6675 §4 / RFC 8985 §6.2 / RFC 6937 §3: 0..5 of 10 are lost and only 6 is SACKed, too
  // few for IsLost(); RACK marks them lost, and the pipe leaves them out.
  Model m(true, true);
  m.send(10, ms(0));
  m.ack(S(0), {seg_block(6, 7)}, ms(100));
  ASSERT_TRUE(m.lr.on_loss_timer(m.una, m.max, Duration(100'000), kMss, ms(125), m.cc).entered);
  EXPECT_EQ(m.lr.pipe(m.una, m.max, kMss), 3 * kMss);  // 7..9
  // A lost segment retransmitted is in flight once: the retransmission.
  m.lr.on_transmit(S(0), kMss, true, false, 0, ms(125));
  EXPECT_EQ(m.lr.pipe(m.una, m.max, kMss), 4 * kMss);
  // Segment 7 is SACKed: pipe (0 again, 8, 9) is below ssthresh, so PRR's slow-start bound
  // lets two more go at once, where counting 1..5 in would allow none.
  m.ack(S(0), {seg_block(6, 8)}, ms(200));
  EXPECT_EQ(m.lr.pipe(m.una, m.max, kMss), 3 * kMss);
  EXPECT_LT(m.lr.pipe(m.una, m.max, kMss), m.cc.ssthresh());
  EXPECT_EQ(m.lr.prr().remaining(), 2 * kMss);
  const SendChoice c = m.lr.next(m.una, m.max, 0, kMss);
  EXPECT_EQ(c.kind, SendChoice::Kind::kRetransmit);
  EXPECT_EQ(c.seq, S(1));
}

TEST(LossRecovery, TlpProbeScheduledAtTwoSrtt) {
  Model m(true, true);
  m.send(3, ms(0));
  m.ack(S(1), {}, ms(100));  // new ACK with an RTT sample
  const Instant t = m.lr.loss_timer(m.una, m.max, kMss, Duration(100'000), ms(1100), ms(100));
  EXPECT_EQ(t, ms(300));  // PTO = 2 * SRTT
  const auto a = m.lr.on_loss_timer(m.una, m.max, Duration(100'000), kMss, ms(300), m.cc);
  EXPECT_TRUE(a.probe);
  m.lr.on_probe_sent(m.max, true);
  // A single probe at a time.
  EXPECT_EQ(m.lr.loss_timer(m.una, m.max, kMss, Duration(100'000), ms(1300), ms(300)), kNever);
  // The probe's ACK covers everything: it repaired the tail loss; cwnd is reduced once.
  const uint32_t before = m.cc.cwnd();
  const auto out = m.ack(S(3), {}, ms(400));
  EXPECT_TRUE(out.tlp_repair == false);  // ACK == end_seq of a retransmission: not beyond it
  const auto out2 = m.ack(S(3), {}, ms(401), true);
  EXPECT_FALSE(out2.tlp_repair);
  EXPECT_EQ(m.cc.cwnd(), before);
}

TEST(LossRecovery, TlpPtoCutToTheRtoExpiryIsStillScheduled) {
  // RFC 8985 §7.2: PTO = min(PTO, RTO expiry - now); the probe goes at that time.
  Model m(true, true);
  m.send(2, ms(0));
  m.ack(S(1), {}, ms(100));  // one segment left: PTO = 2*SRTT + max_ack_delay = 400 ms
  const Instant rto_at = ms(400);
  EXPECT_EQ(m.lr.loss_timer(m.una, m.max, kMss, Duration(100'000), rto_at, ms(100)), rto_at);
  EXPECT_TRUE(m.lr.on_loss_timer(m.una, m.max, Duration(100'000), kMss, rto_at, m.cc).probe);
}

TEST(LossRecovery, SkipSackedAfterRewind) {
  Model m(true, false);
  m.send(6, ms(0));
  m.ack(S(0), {seg_block(2, 4)}, ms(100));
  EXPECT_EQ(m.lr.skip_sacked(S(2)), S(4));
  EXPECT_EQ(m.lr.skip_sacked(S(3)), S(4));
  EXPECT_EQ(m.lr.skip_sacked(S(1)), S(1));
}

}  // namespace
}  // namespace utcp::tcp
