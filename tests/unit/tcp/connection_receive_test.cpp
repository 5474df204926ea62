// SPDX-License-Identifier: BSD-2-Clause
// The receiving side: delayed ACKs, reassembly, trimming, receiver SWS avoidance, zero window
// (RFC 9293 §3.8.6, §3.10.7.4; RFC 5681 §4.2).
#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"

namespace utcp::test {
namespace {

using tcp::Event;
using tcp::EventKind;
using tcp::State;

std::vector<uint8_t> slice_of(const std::vector<uint8_t>& v, size_t from, size_t n) {
  return {v.begin() + static_cast<long>(from), v.begin() + static_cast<long>(from + n)};
}

tcp::Config small_buffer(size_t n) {
  tcp::Config c = plain_config();
  c.recv_buffer = n;
  return c;
}

TEST(ConnectionReceive, DelayedAckWaitsTheConfiguredDelay) {
  Harness h;
  h.establish();
  const uint32_t r = h.use_up_quick_acks();
  const uint16_t win = static_cast<uint16_t>(64000 - (r - 1));
  h.send(seg().at(R(r)).ack(L(1)).win(64000).data("hello"));
  h.expect_events({Event{EventKind::kReadable}});
  h.expect_nothing();
  h.advance(Duration(39'999));
  h.expect_nothing();
  h.advance(Duration(1));
  h.expect(seg().at(L(1)).ack(R(r + 5)).win(win - 5));
  h.expect_nothing();
  EXPECT_EQ(h.app_recv(), "hello");
}

TEST(ConnectionReceive, DelayedAckIsConfigurable) {
  tcp::Config cfg = plain_config();
  cfg.delayed_ack = Duration(200'000);
  Harness h(cfg);
  h.establish();
  const uint32_t r = h.use_up_quick_acks();
  const uint16_t win = static_cast<uint16_t>(64000 - (r - 1));
  h.send(seg().at(R(r)).ack(L(1)).win(64000).data("x"));
  h.advance(Duration(199'999));
  h.expect_nothing();
  h.advance(Duration(1));
  h.expect(seg().at(L(1)).ack(R(r + 1)).win(win - 1));
}

TEST(ConnectionReceive, AckAtLeastEverySecondFullSizedSegment) {
  Harness h;
  h.establish();
  const uint32_t r = h.use_up_quick_acks();
  const uint16_t win = static_cast<uint16_t>(64000 - (r - 1));
  const auto a = pattern(1460, 1), b = pattern(1460, 2);
  h.send(seg().at(R(r)).ack(L(1)).win(64000).bytes(a));
  h.expect_nothing();
  h.send(seg().at(R(r + 1460)).ack(L(1)).win(64000).bytes(b));
  h.expect(seg().at(L(1)).ack(R(r + 2920)).win(win - 2920));
  h.expect_nothing();
}

TEST(ConnectionReceive, QuickAcksAtConnectionStartThenDelayed) {
  // Quick-ACK mode (RFC 1122 §4.2.3.2 allows an ACK per segment; Linux's tcp_incr_quickack):
  // the first data segments are acknowledged one by one, at once, for window / (2 * MSS)
  // segments, at most 16: here 64000 / 2920 = 21, so 16. Then the delayed-ACK rules apply.
  Harness h;
  h.establish();
  const auto data = pattern(1460 * 20);
  uint32_t off = 0;
  for (int i = 0; i < 16; ++i, off += 1460) {
    h.send(seg().at(R(1 + off)).ack(L(1)).win(64000).bytes(slice_of(data, off, 1460)));
    h.expect(seg().at(L(1)).ack(R(1 + off + 1460)).win(static_cast<uint16_t>(64000 - off - 1460)));
  }
  EXPECT_EQ(h.conn.receiver().quick_acks_left(), 0u);
  h.send(seg().at(R(1 + off)).ack(L(1)).win(64000).bytes(slice_of(data, off, 1460)));
  h.expect_nothing();  // the 17th waits: the next one or the delayed-ACK timer
  off += 1460;
  h.send(seg().at(R(1 + off)).ack(L(1)).win(64000).bytes(slice_of(data, off, 1460)));
  off += 1460;
  h.expect(seg().at(L(1)).ack(R(1 + off)).win(static_cast<uint16_t>(64000 - off)));
  h.expect_nothing();
}

TEST(ConnectionReceive, QuickAckBudgetFollowsTheWindow) {
  // A 4000-byte window holds one pair of 1460-byte segments: 4000 / 2920 = 1 quick ACK.
  Harness h(small_buffer(4000));
  h.establish();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).bytes(pattern(1460, 1)));
  h.expect(seg().at(L(1)).ack(R(1461)).win(4000 - 1460));
  h.send(seg().at(R(1461)).ack(L(1)).win(64000).bytes(pattern(1000, 2)));
  h.expect_nothing();
  h.advance(Duration(40'000));
  h.expect(seg().at(L(1)).ack(R(2461)).win(4000 - 2460));
}

TEST(ConnectionReceive, QuickAcksResumeAfterAnIdlePeriodLongerThanTheRto) {
  // Linux: data after a silence longer than the RTO finds the peer in slow start again (its
  // restart window, RFC 5681 §4.1), so quick ACKs resume.
  Harness h;
  h.establish();
  const uint32_t r = h.use_up_quick_acks();
  // A short pause does not restart them...
  h.advance(Duration(100'000));
  h.send(seg().at(R(r)).ack(L(1)).win(64000).data("a"));
  h.expect_nothing();
  h.advance(Duration(40'000));
  ASSERT_TRUE(h.pop());  // the delayed ACK
  // ...a pause longer than the RTO (1 s here: no RTT sample yet) does.
  h.advance(Duration(1'500'000));
  h.send(seg().at(R(r + 1)).ack(L(1)).win(64000).data("b"));
  auto ack = h.pop();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->ack_no, R(r + 2));
  EXPECT_TRUE(h.conn.receiver().quick_ack_mode());
}

TEST(ConnectionReceive, QuickAcksResumeAfterOutOfOrderDataAndHoleFillIsAckedAtOnce) {
  Harness h;
  h.establish();
  const uint32_t r = h.use_up_quick_acks();
  // Out of order: a duplicate ACK at once (RFC 5681 §4.2) ...
  h.send(seg().at(R(r + 1)).ack(L(1)).win(64000).data("b"));
  auto dup = h.pop();
  ASSERT_TRUE(dup);
  EXPECT_EQ(dup->ack_no, R(r));
  // ... the segment filling the gap is acknowledged at once (RFC 5681 §4.2 SHOULD) ...
  h.send(seg().at(R(r)).ack(L(1)).win(64000).data("a"));
  auto fill = h.pop();
  ASSERT_TRUE(fill);
  EXPECT_EQ(fill->ack_no, R(r + 2));
  // ... and the sender, recovering from a loss, gets quick ACKs for what follows.
  h.send(seg().at(R(r + 2)).ack(L(1)).win(64000).data("c"));
  auto next = h.pop();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->ack_no, R(r + 3));
}

TEST(ConnectionReceive, RepeatedDataRestartsQuickAcks) {
  // A segment repeating bytes we already acknowledged means our ACK was lost or late: it is
  // answered at once (RFC 9293 §3.10.7.4) and what follows is acknowledged at once too.
  Harness h;
  h.establish();
  const uint32_t r = h.use_up_quick_acks();
  h.send(seg().at(R(r - 1)).ack(L(1)).win(64000).data("qx"));  // one old byte, one new
  auto ack = h.pop();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->ack_no, R(r + 1));
  EXPECT_TRUE(h.conn.receiver().quick_ack_mode());
  h.send(seg().at(R(r + 1)).ack(L(1)).win(64000).data("y"));
  ack = h.pop();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->ack_no, R(r + 2));
}

TEST(ConnectionReceive, DataPiggybacksTheDelayedAckOnceTheConnectionIsInteractive) {
  Harness h;
  h.establish();
  // The first request is acknowledged at once (quick-ACK mode)...
  h.send(seg().at(R(1)).ack(L(1)).win(64000).data("ping"));
  h.expect(seg().at(L(1)).ack(R(5)).win(63996));
  // ...and a reply within the ACK delay makes the connection interactive ("ping-pong", as
  // Linux): quick ACKs stop, so the next request's ACK waits and rides on the reply.
  EXPECT_EQ(h.app_recv(), "ping");
  h.app_send("pong");
  h.expect(seg().at(L(1)).ack(R(5)).win(63996).psh().data("pong"));
  EXPECT_TRUE(h.conn.receiver().pingpong());
  h.send(seg().at(R(5)).ack(L(5)).win(64000).data("ping"));
  h.expect_nothing();
  h.advance(Duration(10'000));
  h.app_send("pong");
  h.expect(seg().at(L(5)).ack(R(9)).win(63992).psh().data("pong"));
  h.advance(Duration(100'000));
  h.expect_nothing();  // the ACK rode on the data: no separate delayed ACK
}

TEST(ConnectionReceive, DelayedAckTimeoutEndsPingPong) {
  Harness h;
  h.establish();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).data("ping"));
  ASSERT_TRUE(h.pop());
  h.app_send("pong");
  ASSERT_TRUE(h.pop());
  ASSERT_TRUE(h.conn.receiver().pingpong());
  // No reply within the ACK delay: the delayed ACK goes alone, and the connection is not
  // treated as interactive any more (quick ACKs may resume while any are left).
  h.send(seg().at(R(5)).ack(L(5)).win(64000).data("ping"));
  h.expect_nothing();
  h.advance(Duration(40'000));
  h.expect(seg().at(L(5)).ack(R(9)).win(63992));
  EXPECT_FALSE(h.conn.receiver().pingpong());
  h.send(seg().at(R(9)).ack(L(5)).win(64000).data("more"));
  h.expect(seg().at(L(5)).ack(R(13)).win(63988));
}

TEST(ConnectionReceive, ReversedSegmentsAreReassembled) {
  Harness h;
  h.establish();
  h.send(seg().at(R(21)).ack(L(1)).win(64000).data("CCCCCCCCCC"));
  h.expect(seg().at(L(1)).ack(R(1)).win(64000));  // out of order: immediate duplicate ACK
  h.send(seg().at(R(11)).ack(L(1)).win(64000).data("BBBBBBBBBB"));
  h.expect(seg().at(L(1)).ack(R(1)).win(64000));
  h.expect_events({});
  EXPECT_EQ(h.conn.recv_available(), 0u);
  h.send(seg().at(R(1)).ack(L(1)).win(64000).data("AAAAAAAAAA"));
  h.expect(seg().at(L(1)).ack(R(31)).win(63970));  // hole filled: immediate ACK
  h.expect_events({Event{EventKind::kReadable}});
  EXPECT_EQ(h.app_recv(), "AAAAAAAAAABBBBBBBBBBCCCCCCCCCC");
}

TEST(ConnectionReceive, OverlappingAndDuplicateSegments) {
  Harness h;
  h.establish();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).data("abcdef"));
  h.expect(seg().at(L(1)).ack(R(7)).win(63994));               // quick-ACK mode
  h.send(seg().at(R(4)).ack(L(1)).win(64000).data("defghi"));  // overlaps 3 old bytes
  h.expect(seg().at(L(1)).ack(R(10)).win(63991));
  h.send(seg().at(R(1)).ack(L(1)).win(64000).data("abcdefghi"));  // entirely old
  h.expect(seg().at(L(1)).ack(R(10)).win(63991));
  h.send(seg().at(R(15)).ack(L(1)).win(64000).data("opq"));  // hole at 10..14
  h.expect(seg().at(L(1)).ack(R(10)).win(63991));
  h.send(seg().at(R(15)).ack(L(1)).win(64000).data("opq"));  // duplicate out-of-order
  h.expect(seg().at(L(1)).ack(R(10)).win(63991));
  h.send(seg().at(R(8)).ack(L(1)).win(64000).data("hijklmnop"));  // fills, overlaps both
  h.expect(seg().at(L(1)).ack(R(18)).win(63983));
  EXPECT_EQ(h.app_recv(), "abcdefghijklmnopq");
}

TEST(ConnectionReceive, ManyHoles) {
  Harness h;
  h.establish();
  const auto data = pattern(200);
  // Odd 10-byte chunks first, then even ones: nine holes at once.
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 19; i >= 0; --i) {
      if (i % 2 != 1 - pass) continue;
      std::vector<uint8_t> chunk(data.begin() + i * 10, data.begin() + i * 10 + 10);
      h.send(seg().at(R(1 + i * 10)).ack(L(1)).win(64000).bytes(chunk));
    }
  }
  std::vector<uint8_t> got(300);
  EXPECT_EQ(h.conn.recv(got, h.now), 200u);
  got.resize(200);
  EXPECT_EQ(got, data);
}

TEST(ConnectionReceive, SegmentTrimmedToWindowLosesItsFin) {
  Harness h(small_buffer(1000));
  h.establish();
  h.send(seg().fin().at(R(1)).ack(L(1)).win(64000).bytes(pattern(1500)));
  h.expect_state(State::kEstablished);  // the FIN lay beyond the window
  EXPECT_EQ(h.conn.recv_available(), 1000u);
  h.advance(Duration(40'000));
  h.expect(seg().at(L(1)).ack(R(1001)).win(0));
  EXPECT_EQ(h.app_recv().size(), 1000u);
  h.expect(seg().at(L(1)).ack(R(1001)).win(1000));  // window update after the read
}

TEST(ConnectionReceive, ZeroWindowAcceptsOnlyBareSegmentsAtRcvNxt) {
  Harness h(small_buffer(1000));
  h.establish();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).bytes(pattern(1000)));
  h.advance(Duration(40'000));
  h.expect(seg().at(L(1)).ack(R(1001)).win(0));
  // A zero-window probe (one byte) is not acceptable: ACK with the zero window.
  h.send(seg().at(R(1001)).ack(L(1)).win(64000).data("p"));
  h.expect(seg().at(L(1)).ack(R(1001)).win(0));
  EXPECT_EQ(h.conn.recv_available(), 1000u);
  // A bare ACK at RCV.NXT is acceptable: its window update is used and nothing is sent.
  h.send(seg().at(R(1001)).ack(L(1)).win(777));
  h.expect_nothing();
  EXPECT_EQ(h.conn.tcb().snd_wnd, 777u);
}

TEST(ConnectionReceive, ReceiverSwsAvoidanceKeepsWindowClosedForSmallReads) {
  // RFC 9293 §3.8.6.2.2: the offered window opens only by min(RCV.BUFF/2, MSS) steps.
  Harness h(small_buffer(4000));
  h.establish();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).bytes(pattern(1460, 1)));
  h.expect(seg().at(L(1)).ack(R(1461)).win(4000 - 1460));  // the one quick ACK 4000 allows
  h.send(seg().at(R(1461)).ack(L(1)).win(64000).bytes(pattern(1460, 2)));
  h.send(seg().at(R(2921)).ack(L(1)).win(64000).bytes(pattern(1080, 3)));
  h.advance(Duration(40'000));
  h.expect(seg().at(L(1)).ack(R(4001)).win(0));
  std::vector<uint8_t> buf(1000);
  EXPECT_EQ(h.conn.recv(buf, h.now), 1000u);
  h.flush();
  h.expect_nothing();  // 1000 < min(2000, 1460): no update
  // An ACK now still offers zero (the right edge has not moved).
  h.send(seg().at(R(4001)).ack(L(1)).win(64000).data("z"));
  h.expect(seg().at(L(1)).ack(R(4001)).win(0));
  buf.resize(500);
  EXPECT_EQ(h.conn.recv(buf, h.now), 500u);
  h.flush();
  h.expect(seg().at(L(1)).ack(R(4001)).win(1500));  // 1500 >= 1460: the window opens
}

TEST(ConnectionReceive, WindowNeverShrinksFromTheRight) {
  Harness h(small_buffer(4000));
  h.establish();
  const uint32_t right = h.conn.tcb().rcv_adv.raw();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).bytes(pattern(100)));
  h.advance(Duration(40'000));
  h.expect(seg().at(L(1)).ack(R(101)).win(3900));
  EXPECT_EQ(h.conn.tcb().rcv_adv.raw(), right);
}

TEST(ConnectionReceive, FinDeliveredAfterMissingDataArrives) {
  Harness h;
  h.establish();
  h.send(seg().fin().at(R(4)).ack(L(1)).win(64000).data("def"));
  h.expect(seg().at(L(1)).ack(R(1)).win(64000));
  h.expect_state(State::kEstablished);
  h.send(seg().at(R(1)).ack(L(1)).win(64000).data("abc"));
  h.expect(seg().at(L(1)).ack(R(8)).win(63993));  // the FIN used one number of the window
  h.expect_state(State::kCloseWait);
  h.expect_events({Event{EventKind::kReadable}, Event{EventKind::kPeerFinished}});
  EXPECT_EQ(h.app_recv(), "abcdef");
}

// RFC 9293 §3.10.7.4 eighth step: RCV.NXT advances to FIN+1 only. Out-of-order bytes already
// held beyond the FIN are not part of the stream, and the FIN filling the gap before them must
// not carry RCV.NXT (and the ACK) past itself (a stack_input fuzzer finding).
TEST(ConnectionReceive, FinFillingAGapIgnoresHeldDataBeyondIt) {
  Harness h;
  h.establish();
  h.send(seg().at(R(4)).ack(L(1)).win(64000).data("xyz"));
  h.expect(seg().at(L(1)).ack(R(1)).win(64000));
  h.send(seg().fin().at(R(1)).ack(L(1)).win(64000).data("abc"));
  h.expect(seg().at(L(1)).ack(R(5)).win(63996));
  h.expect_state(State::kCloseWait);
  h.expect_events({Event{EventKind::kReadable}, Event{EventKind::kPeerFinished}});
  EXPECT_EQ(h.app_recv(), "abc");
  EXPECT_FALSE(h.conn.receiver().queue().has_out_of_order());
}

TEST(ConnectionReceive, DataBeyondAPendingFinIsNeverDelivered) {
  Harness h;
  h.establish();
  h.send(seg().fin().at(R(4)).ack(L(1)).win(64000).data("def"));
  h.expect(seg().at(L(1)).ack(R(1)).win(64000));
  h.send(seg().at(R(7)).ack(L(1)).win(64000).data("xyz"));  // starts at the FIN's number
  h.expect(seg().at(L(1)).ack(R(1)).win(64000));
  h.send(seg().at(R(1)).ack(L(1)).win(64000).data("abc"));
  h.expect(seg().at(L(1)).ack(R(8)).win(63993));
  h.expect_state(State::kCloseWait);
  h.expect_events({Event{EventKind::kReadable}, Event{EventKind::kPeerFinished}});
  EXPECT_EQ(h.app_recv(), "abcdef");
}

TEST(ConnectionReceive, OutOfOrderDataBeyondWindowIsDropped) {
  Harness h(small_buffer(1000));
  h.establish();
  h.send(seg().at(R(2001)).ack(L(1)).win(64000).data("far"));
  h.expect(seg().at(L(1)).ack(R(1)).win(1000));  // not acceptable
  EXPECT_FALSE(h.conn.receiver().queue().has_out_of_order());
}

}  // namespace
}  // namespace utcp::test
