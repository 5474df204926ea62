// SPDX-License-Identifier: BSD-2-Clause
// The sending side: segmentation, PSH, Nagle, sender SWS avoidance, congestion window,
// fast retransmit (RFC 9293 §3.7, §3.8.6.2.1; RFC 5681; RFC 6928).
#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"

namespace utcp::test {
namespace {

using tcp::State;

std::vector<uint8_t> slice(const std::vector<uint8_t>& v, size_t from, size_t n) {
  return {v.begin() + static_cast<long>(from), v.begin() + static_cast<long>(from + n)};
}

TEST(ConnectionSend, SegmentsAtMssWithPshOnLastAndMinshallSendsTail) {
  Harness h;
  h.establish();
  const auto data = pattern(4000);
  EXPECT_EQ(h.app_send_bytes(data), 4000u);
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).bytes(slice(data, 0, 1460)));
  h.expect(seg().at(L(1461)).ack(R(1)).win(64000).bytes(slice(data, 1460, 1460)));
  // Nagle with Minshall's refinement: no other short segment is unacknowledged, so the
  // 1080-byte tail goes at once (plain RFC 9293 §3.7.4 would hold it for the ACK).
  h.expect(seg().at(L(2921)).ack(R(1)).win(64000).psh().bytes(slice(data, 2920, 1080)));
  h.expect_nothing();
}

// RFC 9293 §3.9.1.2: the last segment of each write carries PSH (as Linux marks the tail of
// every sendmsg), not only the segment that empties the send buffer.
TEST(ConnectionSend, PshOnTheLastSegmentOfEachWrite) {
  Harness h;
  h.establish();
  h.send(seg().at(R(1)).ack(L(1)).win(0));  // the peer's window closes: writes queue up
  const auto data = pattern(3000);
  EXPECT_EQ(h.app_send_bytes(slice(data, 0, 1000)), 1000u);
  EXPECT_EQ(h.app_send_bytes(slice(data, 1000, 2000)), 2000u);
  h.expect_nothing();
  h.send(seg().at(R(1)).ack(L(1)).win(64000));
  // The first segment carries the end of the first write (byte 1000), the last one the end of
  // the second; the one between ends no write.
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).psh().bytes(slice(data, 0, 1460)));
  h.expect(seg().at(L(1461)).ack(R(1)).win(64000).bytes(slice(data, 1460, 1460)));
  h.expect(seg().at(L(2921)).ack(R(1)).win(64000).psh().bytes(slice(data, 2920, 80)));
  h.expect_nothing();
}

TEST(ConnectionSend, MinshallHoldsShortSegmentWhileAnotherShortOneIsUnacked) {
  Harness h;
  h.establish();
  const auto data = pattern(1600);
  // A 1.5-MSS write goes out whole: one full segment and its short tail.
  EXPECT_EQ(h.app_send_bytes(slice(data, 0, 1500)), 1500u);
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).bytes(slice(data, 0, 1460)));
  h.expect(seg().at(L(1461)).ack(R(1)).win(64000).psh().bytes(slice(data, 1460, 40)));
  // A second small write waits while the 40-byte segment is unacknowledged...
  EXPECT_EQ(h.app_send_bytes(slice(data, 1500, 100)), 100u);
  h.expect_nothing();
  // ...also when the full segment before it is acknowledged (data is still in flight and
  // the short one is part of it)...
  h.send(seg().at(R(1)).ack(L(1461)).win(64000));
  h.expect_nothing();
  // ...and goes once the short segment is acknowledged.
  h.send(seg().at(R(1)).ack(L(1501)).win(64000));
  h.expect(seg().at(L(1501)).ack(R(1)).win(64000).psh().bytes(slice(data, 1500, 100)));
  h.expect_nothing();
}

TEST(ConnectionSend, MinshallLetsShortSegmentGoWhenOnlyFullOnesAreInFlight) {
  Harness h;
  h.establish();
  const auto data = pattern(3000);
  // Two full segments in flight, no short one: a later small write goes at once (plain
  // RFC 9293 §3.7.4 would hold it until everything is acknowledged).
  EXPECT_EQ(h.app_send_bytes(slice(data, 0, 2920)), 2920u);
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).bytes(slice(data, 0, 1460)));
  h.expect(seg().at(L(1461)).ack(R(1)).win(64000).psh().bytes(slice(data, 1460, 1460)));
  EXPECT_EQ(h.app_send_bytes(slice(data, 2920, 30)), 30u);
  h.expect(seg().at(L(2921)).ack(R(1)).win(64000).psh().bytes(slice(data, 2920, 30)));
  // That one is now the unacknowledged short segment: the next small write waits.
  EXPECT_EQ(h.app_send_bytes(slice(data, 2950, 50)), 50u);
  h.expect_nothing();
  h.send(seg().at(R(1)).ack(L(2951)).win(64000));
  h.expect(seg().at(L(2951)).ack(R(1)).win(64000).psh().bytes(slice(data, 2950, 50)));
}

TEST(ConnectionSend, NodelaySendsSmallSegmentsAtOnce) {
  Harness h;
  h.establish();
  h.conn.set_nodelay(true);
  h.app_send("a");
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).psh().data("a"));
  h.app_send("b");
  h.expect(seg().at(L(2)).ack(R(1)).win(64000).psh().data("b"));
  h.expect_nothing();
}

TEST(ConnectionSend, NagleCoalescesSmallWrites) {
  Harness h;
  h.establish();
  h.app_send("a");
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).psh().data("a"));
  h.app_send("b");
  h.app_send("c");
  h.expect_nothing();
  h.send(seg().at(R(1)).ack(L(2)).win(64000));
  h.expect(seg().at(L(2)).ack(R(1)).win(64000).psh().data("bc"));
}

TEST(ConnectionSend, EffectiveMssFollowsPeerMss) {
  Harness h;
  h.conn.open_active(h.now, kLocalIss);
  h.pop();
  h.send(seg().syn().at(R(0)).ack(L(1)).win(64000).mss(100));
  h.pop();
  h.app_send_bytes(pattern(250));
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).bytes(slice(pattern(250), 0, 100)));
  h.expect(seg().at(L(101)).ack(R(1)).win(64000).bytes(slice(pattern(250), 100, 100)));
  // Minshall: no short segment is unacknowledged, so the 50-byte tail follows.
  h.expect(seg().at(L(201)).ack(R(1)).win(64000).psh().bytes(slice(pattern(250), 200, 50)));
  h.expect_nothing();
}

TEST(ConnectionSend, PathMtuLowersSegmentSize) {
  Harness h;
  h.establish();
  h.conn.set_path_mtu(576);  // 576 - 40 = 536
  EXPECT_EQ(h.conn.effective_mss(), 536u);
  h.app_send_bytes(pattern(600));
  auto s = h.pop();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->payload.size(), 536u);
}

TEST(ConnectionSend, SenderSwsHoldsSmallWindowThenOverrideTimerSends) {
  // RFC 9293 §3.8.6.2.1: with a small usable window, send only a full segment, all queued data
  // (pushed, nothing in flight), or at least half the largest window seen; the override timer
  // eventually sends what fits.
  Harness h;
  h.establish(10000);
  h.conn.set_nodelay(true);
  const auto data = pattern(20000);
  h.app_send_bytes(data);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(h.pop());
  // 1240 bytes of window remain: not a full segment, not all the data, below 10000/2: hold.
  h.expect_nothing();
  h.send(seg().at(R(1)).ack(L(8761)).win(300));
  h.expect_nothing();  // 300 bytes usable, nothing in flight: still held
  const Duration d = h.advance_to_next_deadline();
  EXPECT_GT(d.count(), 0);
  // The override (persist) timer sends what fits.
  h.expect(seg().at(L(8761)).ack(R(1)).win(64000).bytes(slice(data, 8760, 300)));
  h.expect_nothing();
  h.send(seg().at(R(1)).ack(L(9061)).win(5000));
  for (int i = 0; i < 3; ++i) {
    auto s = h.pop();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->payload.size(), 1460u);
  }
  h.expect_nothing();  // 620 bytes left in the window: held again
}

TEST(ConnectionSend, SenderSwsSendsHalfTheMaximumWindow) {
  // RFC 9293 §3.8.6.2.1 (3): at least Fs = 1/2 of the largest window the peer offered.
  Harness h;
  h.establish(2000);
  h.conn.set_nodelay(true);
  const auto data = pattern(5000);
  h.app_send_bytes(data);
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).bytes(slice(data, 0, 1460)));
  h.expect_nothing();  // 540 bytes of window: less than 1000
  h.send(seg().at(R(1)).ack(L(1461)).win(1200));
  h.expect(seg().at(L(1461)).ack(R(1)).win(64000).bytes(slice(data, 1460, 1200)));
  h.expect_nothing();
}

TEST(ConnectionSend, InitialWindowIsTenSegmentsAndSlowStartGrowsIt) {
  // RFC 6928 (IW 10), RFC 5681 §3.1 slow start with byte counting (L = 2*SMSS).
  Harness h;
  h.establish();
  h.app_send_bytes(pattern(40000));
  for (int i = 0; i < 10; ++i) {
    auto s = h.pop();
    ASSERT_TRUE(s) << i;
    EXPECT_EQ(s->seq, L(1 + 1460 * i));
  }
  h.expect_nothing();
  EXPECT_EQ(h.conn.sender().cc().cwnd(), 14600u);
  h.send(seg().at(R(1)).ack(L(1 + 2 * 1460)).win(64000));
  EXPECT_EQ(h.conn.sender().cc().cwnd(), 14600u + 2920u);
  // cwnd 17520 with 8 segments in flight: 4 more fit.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(h.pop());
  h.expect_nothing();
}

TEST(ConnectionSend, ThreeDuplicateAcksTriggerFastRetransmit) {
  // RFC 5681 §3.2.
  Harness h;
  h.establish();
  const auto data = pattern(14600);
  h.app_send_bytes(data);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(h.pop());
  h.send(seg().at(R(1)).ack(L(1461)).win(64000));
  h.expect_nothing();
  for (int i = 0; i < 2; ++i) {
    h.send(seg().at(R(1)).ack(L(1461)).win(64000));
    h.expect_nothing();
  }
  h.send(seg().at(R(1)).ack(L(1461)).win(64000));  // third duplicate
  h.expect(seg().at(L(1461)).ack(R(1)).win(64000).bytes(slice(data, 1460, 1460)));
  h.expect_nothing();
  EXPECT_TRUE(h.conn.sender().in_recovery());
  // ssthresh = max(FlightSize / 2, 2*SMSS) = 13140 / 2; cwnd = ssthresh + 3*SMSS.
  EXPECT_EQ(h.conn.sender().cc().ssthresh(), 13140u / 2);
  EXPECT_EQ(h.conn.sender().cc().cwnd(), 13140u / 2 + 3 * 1460);
  h.send(seg().at(R(1)).ack(L(14601)).win(64000));
  EXPECT_FALSE(h.conn.sender().in_recovery());
  EXPECT_EQ(h.conn.sender().cc().cwnd(), 13140u / 2);  // deflated to ssthresh (step 6)
}

TEST(ConnectionSend, WindowUpdateIgnoresOlderSegments) {
  // RFC 9293 §3.10.7.4: SND.WL1/SND.WL2 stop an old segment from changing the window.
  Harness h;
  h.establish();
  h.send(seg().at(R(1)).ack(L(1)).win(30000).data("x"));
  EXPECT_EQ(h.conn.tcb().snd_wnd, 30000u);
  h.send(seg().at(R(1)).ack(L(1)).win(100));  // older SEG.SEQ than WL1
  EXPECT_EQ(h.conn.tcb().snd_wnd, 30000u);
}

TEST(ConnectionSend, RestartAfterIdleCollapsesWindow) {
  // RFC 5681 §4.1: after idling longer than an RTO, start again from the restart window.
  Harness h;
  h.establish();
  h.app_send_bytes(pattern(14600));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(h.pop());
  h.send(seg().at(R(1)).ack(L(14601)).win(64000));
  EXPECT_GT(h.conn.sender().cc().cwnd(), 14600u);
  h.advance(Duration(10'000'000));
  h.app_send_bytes(pattern(40000));
  int n = 0;
  while (h.pop()) ++n;
  EXPECT_EQ(n, 10);
}

TEST(ConnectionSend, SendBufferLimitsWrites) {
  tcp::Config cfg = plain_config();
  cfg.send_buffer = 3000;
  Harness h(cfg);
  h.establish();
  EXPECT_EQ(h.app_send_bytes(pattern(5000)), 3000u);
  EXPECT_EQ(h.conn.send_space(), 0u);
  while (h.pop()) {
  }
  h.send(seg().at(R(1)).ack(L(1461)).win(64000));
  EXPECT_EQ(h.conn.send_space(), 1460u);
  h.expect_events({tcp::Event{tcp::EventKind::kWritable}});
}

}  // namespace
}  // namespace utcp::test
