// SPDX-License-Identifier: BSD-2-Clause
// Closing: RFC 9293 §3.6 and the CLOSE/ABORT calls of §3.10.4-5, every closing state.
#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"

namespace utcp::test {
namespace {

using tcp::ErrorReason;
using tcp::Event;
using tcp::EventKind;
using tcp::State;

const Event kClosedEv{EventKind::kClosed};
const Event kFinEv{EventKind::kPeerFinished};

TEST(ConnectionClose, ActiveCloseThroughFinWait2AndTimeWait) {
  Harness h;
  h.establish();
  h.app_close();
  h.expect_state(State::kFinWait1);
  h.expect(seg().fin().at(L(1)).ack(R(1)).win(64000));
  h.expect_nothing();
  h.send(seg().at(R(1)).ack(L(2)).win(64000));
  h.expect_state(State::kFinWait2);
  h.expect_nothing();
  h.send(seg().fin().at(R(1)).ack(L(2)).win(64000));
  h.expect(seg().at(L(2)).ack(R(2)).win(63999));
  h.expect_state(State::kTimeWait);
  h.expect_events({kFinEv});
  // RFC 9293 §3.4.2: TIME-WAIT lasts 2*MSL (MSL 30 s by default).
  h.advance(Duration(59'999'999));
  h.expect_state(State::kTimeWait);
  h.advance(Duration(1));
  h.expect_state(State::kClosed);
  h.expect_events({kClosedEv});
  h.expect_nothing();
  EXPECT_EQ(h.conn.next_deadline(), kNever);
}

TEST(ConnectionClose, FinAndAckTogetherGoStraightToTimeWait) {
  Harness h;
  h.establish();
  h.app_close();
  h.pop();
  h.send(seg().fin().at(R(1)).ack(L(2)).win(64000));
  h.expect(seg().at(L(2)).ack(R(2)).win(63999));
  h.expect_state(State::kTimeWait);
}

TEST(ConnectionClose, PassiveCloseThroughCloseWaitAndLastAck) {
  Harness h;
  h.establish();
  h.send(seg().fin().at(R(1)).ack(L(1)).win(64000));
  h.expect(seg().at(L(1)).ack(R(2)).win(63999));  // FIN acknowledged at once
  h.expect_state(State::kCloseWait);
  h.expect_events({kFinEv});
  EXPECT_TRUE(h.conn.peer_finished());
  EXPECT_EQ(h.app_recv(), "");
  h.app_close();
  h.expect_state(State::kLastAck);
  h.expect(seg().fin().at(L(1)).ack(R(2)).win(63999));
  h.send(seg().at(R(2)).ack(L(2)).win(64000));
  h.expect_state(State::kClosed);
  h.expect_events({kClosedEv});
  h.expect_nothing();
}

TEST(ConnectionClose, SimultaneousCloseThroughClosing) {
  // RFC 9293 §3.6 Figure 13.
  Harness h;
  h.establish();
  h.app_close();
  h.expect(seg().fin().at(L(1)).ack(R(1)).win(64000));
  h.send(seg().fin().at(R(1)).ack(L(1)).win(64000));  // the peer's FIN crossed ours
  h.expect_state(State::kClosing);
  h.expect(seg().at(L(2)).ack(R(2)).win(63999));
  h.send(seg().at(R(2)).ack(L(2)).win(64000));
  h.expect_state(State::kTimeWait);
  h.expect_nothing();
  h.advance(Duration(60'000'000));
  h.expect_state(State::kClosed);
}

TEST(ConnectionClose, FinRetransmittedInFinWait1AndLastAck) {
  Harness h;
  h.establish();
  h.app_close();
  const Seg fin = seg().fin().at(L(1)).ack(R(1)).win(64000);
  h.expect(fin);
  const Duration first = h.advance_to_next_deadline();
  h.expect(fin);
  EXPECT_EQ(h.advance_to_next_deadline(), 2 * first);  // backoff
  h.expect(fin);

  Harness p;
  p.establish();
  p.send(seg().fin().at(R(1)).ack(L(1)).win(64000));
  p.pop();
  p.app_close();
  const Seg fin2 = seg().fin().at(L(1)).ack(R(2)).win(63999);
  p.expect(fin2);
  p.advance_to_next_deadline();
  p.expect(fin2);
  p.expect_state(State::kLastAck);
}

TEST(ConnectionClose, TimeWaitAcksRetransmittedFinAndRestartsTimer) {
  Harness h;
  h.establish();
  h.app_close();
  h.pop();
  h.send(seg().fin().at(R(1)).ack(L(2)).win(64000));
  h.pop();
  h.advance(Duration(50'000'000));
  h.send(seg().fin().at(R(1)).ack(L(2)).win(64000));  // our ACK was lost
  h.expect(seg().at(L(2)).ack(R(2)).win(63999));
  h.advance(Duration(59'000'000));
  h.expect_state(State::kTimeWait);  // the 2*MSL restarted at the repeated FIN
  h.advance(Duration(1'000'000));
  h.expect_state(State::kClosed);
}

TEST(ConnectionClose, OrphanInFinWait2IsFreedAfterFinTimeout) {
  // A closed connection whose peer acknowledged our FIN but never sends its own would sit in
  // FIN-WAIT-2 forever (RFC 9293 sets no limit); it is freed after Config::fin_wait2_timeout
  // (60 s, Linux's tcp_fin_timeout). Found by fuzz_stack_input (a connection that never ended).
  Harness h;
  h.establish();
  h.app_close();
  h.expect(seg().fin().at(L(1)).ack(R(1)).win(64000));
  h.send(seg().at(R(1)).ack(L(2)).win(64000));
  h.expect_state(State::kFinWait2);
  h.advance(Duration(59'999'999));
  h.expect_state(State::kFinWait2);
  h.advance(Duration(1));
  h.expect_state(State::kClosed);
  h.expect_events({kClosedEv});
  h.expect_nothing();
  EXPECT_EQ(h.conn.next_deadline(), kNever);
}

TEST(ConnectionClose, HalfClosedFinWait2WaitsForThePeerForever) {
  // Only an orphan is timed out: after shutdown_write the application still reads.
  Harness h;
  h.establish();
  h.app_shutdown();
  h.expect(seg().fin().at(L(1)).ack(R(1)).win(64000));
  h.send(seg().at(R(1)).ack(L(2)).win(64000));
  h.advance(std::chrono::hours(5));
  h.expect_state(State::kFinWait2);
  h.expect_nothing();
}

TEST(ConnectionClose, HalfCloseWeStopSendingButKeepReading) {
  Harness h;
  h.establish();
  h.app_shutdown();
  h.expect(seg().fin().at(L(1)).ack(R(1)).win(64000));
  EXPECT_EQ(h.app_send("late"), 0u);  // "connection closing"
  h.send(seg().at(R(1)).ack(L(2)).win(64000));
  h.expect_state(State::kFinWait2);
  h.send(seg().at(R(1)).ack(L(2)).win(64000).psh().data("more data"));
  h.expect(seg().at(L(2)).ack(R(10)).win(63991));  // the first data: a quick ACK
  h.expect_events({Event{EventKind::kReadable}});
  EXPECT_EQ(h.app_recv(), "more data");
  h.send(seg().fin().at(R(10)).ack(L(2)).win(64000));
  h.expect(seg().at(L(2)).ack(R(11)).win(63990));
  h.expect_state(State::kTimeWait);
}

TEST(ConnectionClose, HalfClosePeerStopsSendingWeKeepWriting) {
  Harness h;
  h.establish();
  h.send(seg().fin().at(R(1)).ack(L(1)).win(64000));
  h.pop();
  h.expect_state(State::kCloseWait);
  EXPECT_EQ(h.app_send("still talking"), 13u);
  h.expect(seg().at(L(1)).ack(R(2)).win(63999).psh().data("still talking"));
  h.send(seg().at(R(2)).ack(L(14)).win(64000));
  h.expect_events({kFinEv, Event{EventKind::kWritable}});
  h.app_close();
  h.expect(seg().fin().at(L(14)).ack(R(2)).win(63999));
}

TEST(ConnectionClose, FinWaitsForQueuedDataAndRidesOnLastSegment) {
  Harness h;
  h.establish();
  h.app_send("abc");
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).psh().data("abc"));
  h.app_send("def");
  h.expect_nothing();  // Nagle holds the small segment while "abc" is unacknowledged
  h.app_close();       // no more data will come: the FIN rides on the last segment
  h.expect(seg().at(L(4)).ack(R(1)).win(64000).psh().fin().data("def"));
  h.expect_nothing();
}

TEST(ConnectionClose, AbortSendsResetAndReportsAborted) {
  // RFC 9293 §3.10.5.
  Harness h;
  h.establish();
  h.app_send("queued");
  h.pop();
  h.app_abort();
  h.expect(seg().rst().at(L(7)));
  h.expect_state(State::kClosed);
  h.expect_events({Event{EventKind::kError, ErrorReason::kAborted}, kClosedEv});
  h.expect_nothing();
}

TEST(ConnectionClose, AbortInSynSentSendsNothing) {
  Harness h;
  h.conn.open_active(h.now, kLocalIss);
  h.pop();
  h.app_abort();
  h.expect_nothing();
  h.expect_state(State::kClosed);
}

TEST(ConnectionClose, CloseWithUnreadDataResets) {
  // RFC 1122 §4.2.2.13.
  Harness h;
  h.establish();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).data("unread"));
  h.expect(seg().at(L(1)).ack(R(7)).win(63994));  // the first data: a quick ACK
  h.app_close();
  h.expect(seg().rst().at(L(1)));
  h.expect_state(State::kClosed);
}

TEST(ConnectionClose, DataAfterCloseResets) {
  Harness h;
  h.establish();
  h.app_close();
  h.pop();
  h.send(seg().at(R(1)).ack(L(2)).win(64000).data("too late"));
  h.expect(seg().rst().at(L(2)));
  h.expect_state(State::kClosed);
}

TEST(ConnectionClose, DataAfterCloseResetsAtThePeersAck) {
  // Our FIN is not yet acknowledged (lost, say): the peer's RCV.NXT is still at the FIN, which
  // its ACK field says. A RST at SND.NXT (after the FIN) would be only in the peer's window,
  // not at its RCV.NXT, and an RFC 5961 §3.2 peer would answer it with a challenge ACK instead
  // of resetting; a RST at SEG.ACK is accepted at once (Linux resets the same way).
  Harness h;
  h.establish();
  h.app_close();
  h.pop();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).data("too late"));
  h.expect(seg().rst().at(L(1)));
  h.expect_state(State::kClosed);
}

TEST(ConnectionClose, CloseInSynSentDeletesTcb) {
  Harness h;
  h.conn.open_active(h.now, kLocalIss);
  h.pop();
  h.app_close();
  h.expect_state(State::kClosed);
  h.expect_nothing();
  h.expect_events({kClosedEv});
}

TEST(ConnectionClose, CloseInSynReceivedSendsFinOnceEstablished) {
  Harness h;
  h.conn.listen(kLocalIss);
  h.send(seg().syn().at(R(0)).win(8000).mss(1460));
  h.pop();
  h.app_close();
  h.expect_nothing();
  h.send(seg().at(R(1)).ack(L(1)).win(8000));
  h.expect_state(State::kFinWait1);
  h.expect(seg().fin().at(L(1)).ack(R(1)).win(64000));
}

TEST(ConnectionClose, LastAckResetByPeerClosesWithoutError) {
  Harness h;
  h.establish();
  h.send(seg().fin().at(R(1)).ack(L(1)).win(64000));
  h.pop();
  h.app_close();
  h.pop();
  h.events();
  h.send(seg().rst().at(R(2)));
  h.expect_state(State::kClosed);
  h.expect_events({kClosedEv});
}

}  // namespace
}  // namespace utcp::test
