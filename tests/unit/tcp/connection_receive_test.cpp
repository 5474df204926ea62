// The receiving side: delayed ACKs, reassembly, trimming, receiver SWS avoidance, zero window
// (RFC 9293 §3.8.6, §3.10.7.4; RFC 5681 §4.2).
#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"

namespace utcp::test {
namespace {

using tcp::Event;
using tcp::EventKind;
using tcp::State;

tcp::Config small_buffer(size_t n) {
  tcp::Config c = plain_config();
  c.recv_buffer = n;
  return c;
}

TEST(ConnectionReceive, DelayedAckWaitsTheConfiguredDelay) {
  Harness h;
  h.establish();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).data("hello"));
  h.expect_events({Event{EventKind::kReadable}});
  h.expect_nothing();
  h.advance(Duration(39'999));
  h.expect_nothing();
  h.advance(Duration(1));
  h.expect(seg().at(L(1)).ack(R(6)).win(63995));
  h.expect_nothing();
  EXPECT_EQ(h.app_recv(), "hello");
}

TEST(ConnectionReceive, DelayedAckIsConfigurable) {
  tcp::Config cfg = plain_config();
  cfg.delayed_ack = Duration(200'000);
  Harness h(cfg);
  h.establish();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).data("x"));
  h.advance(Duration(199'999));
  h.expect_nothing();
  h.advance(Duration(1));
  h.expect(seg().at(L(1)).ack(R(2)).win(63999));
}

TEST(ConnectionReceive, AckAtLeastEverySecondFullSizedSegment) {
  Harness h;
  h.establish();
  const auto a = pattern(1460, 1), b = pattern(1460, 2);
  h.send(seg().at(R(1)).ack(L(1)).win(64000).bytes(a));
  h.expect_nothing();
  h.send(seg().at(R(1461)).ack(L(1)).win(64000).bytes(b));
  h.expect(seg().at(L(1)).ack(R(2921)).win(64000 - 2920));
  h.expect_nothing();
}

TEST(ConnectionReceive, DataPiggybacksTheDelayedAck) {
  Harness h;
  h.establish();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).data("ping"));
  h.app_send("pong");
  h.expect(seg().at(L(1)).ack(R(5)).win(63996).psh().data("pong"));
  h.advance(Duration(100'000));
  h.expect_nothing();  // the ACK rode on the data: no separate delayed ACK
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
  h.send(seg().at(R(1461)).ack(L(1)).win(64000).bytes(pattern(1460, 2)));
  h.expect(seg().at(L(1)).ack(R(2921)).win(4000 - 2920));
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

TEST(ConnectionReceive, OutOfOrderDataBeyondWindowIsDropped) {
  Harness h(small_buffer(1000));
  h.establish();
  h.send(seg().at(R(2001)).ack(L(1)).win(64000).data("far"));
  h.expect(seg().at(L(1)).ack(R(1)).win(1000));  // not acceptable
  EXPECT_FALSE(h.conn.receiver().queue().has_out_of_order());
}

}  // namespace
}  // namespace utcp::test
