// SPDX-License-Identifier: BSD-2-Clause
// Opening connections: RFC 9293 §3.5 and §3.10.7.2-3 (LISTEN, SYN-SENT), SYN retransmission.
#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"

namespace utcp::test {
namespace {

using tcp::ErrorReason;
using tcp::Event;
using tcp::EventKind;
using tcp::State;

TEST(ConnectionOpen, ActiveOpenThreeWayHandshake) {
  Harness h;
  h.conn.open_active(h.now, kLocalIss);
  h.expect_state(State::kSynSent);
  h.expect(seg().syn().at(L(0)).win(64000).mss(1460));
  h.expect_nothing();
  h.send(seg().syn().at(R(0)).ack(L(1)).win(5000).mss(1200));
  h.expect(seg().at(L(1)).ack(R(1)).win(64000));
  h.expect_nothing();
  h.expect_state(State::kEstablished);
  h.expect_events({Event{EventKind::kConnected}});
  EXPECT_EQ(h.conn.effective_mss(), 1200u);
  EXPECT_EQ(h.conn.tcb().snd_wnd, 5000u);
}

TEST(ConnectionOpen, PeerWithoutMssOptionMeans536) {
  // RFC 9293 §3.7.1 (MUST-15).
  Harness h;
  h.conn.open_active(h.now, kLocalIss);
  h.pop();
  h.send(seg().syn().at(R(0)).ack(L(1)).win(5000));
  h.expect(seg().at(L(1)).ack(R(1)).win(64000));
  EXPECT_EQ(h.conn.effective_mss(), 536u);
}

TEST(ConnectionOpen, PassiveOpen) {
  Harness h;
  h.conn.listen(kLocalIss);
  h.expect_state(State::kListen);
  h.expect_nothing();
  h.send(seg().syn().at(R(0)).win(8000).mss(1000));
  h.expect_state(State::kSynReceived);
  h.expect(seg().syn().at(L(0)).ack(R(1)).win(64000).mss(1460));
  h.expect_nothing();
  h.expect_events({});
  h.send(seg().at(R(1)).ack(L(1)).win(8000));
  h.expect_state(State::kEstablished);
  h.expect_nothing();
  h.expect_events({Event{EventKind::kConnected}});
  EXPECT_EQ(h.conn.effective_mss(), 1000u);
}

TEST(ConnectionOpen, PassiveOpenDataOnFinalAck) {
  Harness h;
  h.conn.listen(kLocalIss);
  h.send(seg().syn().at(R(0)).win(8000).mss(1000));
  h.pop();
  h.send(seg().at(R(1)).ack(L(1)).win(8000).psh().data("hello"));
  h.expect_state(State::kEstablished);
  h.expect_events({Event{EventKind::kConnected}, Event{EventKind::kReadable}});
  EXPECT_EQ(h.app_recv(), "hello");
}

TEST(ConnectionOpen, ListenIgnoresRstAndAnswersAckWithRst) {
  // RFC 9293 §3.10.7.2.
  Harness h;
  h.conn.listen(kLocalIss);
  h.send(seg().rst().at(R(0)));
  h.expect_nothing();
  h.send(seg().at(R(0)).ack(SeqNum(777)).win(100));
  h.expect(seg().rst().at(SeqNum(777)));
  h.expect_state(State::kListen);
  h.send(seg().at(R(0)).win(100).data("x"));  // no SYN, no ACK: dropped
  h.expect_nothing();
  h.expect_state(State::kListen);
}

TEST(ConnectionOpen, SynSentUnacceptableAckDrawsRst) {
  // RFC 9293 §3.10.7.3 first check: SEG.ACK =< ISS or SEG.ACK > SND.NXT.
  Harness h;
  h.conn.open_active(h.now, kLocalIss);
  h.pop();
  h.send(seg().syn().at(R(0)).ack(L(5)).win(100));
  h.expect(seg().rst().at(L(5)));
  h.send(seg().at(R(0)).ack(L(0)).win(100));
  h.expect(seg().rst().at(L(0)));
  h.expect_state(State::kSynSent);
  // A RST with an unacceptable ACK is dropped; without ACK too.
  h.send(seg().rst().at(R(0)).ack(L(9)));
  h.send(seg().rst().at(R(0)));
  h.expect_nothing();
  h.expect_state(State::kSynSent);
}

TEST(ConnectionOpen, RstAnsweringSynMeansRefused) {
  Harness h;
  h.conn.open_active(h.now, kLocalIss);
  h.pop();
  h.send(seg().rst().at(SeqNum(0)).ack(L(1)));
  h.expect_state(State::kClosed);
  h.expect_events({Event{EventKind::kError, ErrorReason::kRefused}, Event{EventKind::kClosed}});
  h.expect_nothing();
  EXPECT_EQ(h.conn.next_deadline(), kNever);
}

TEST(ConnectionOpen, SimultaneousOpen) {
  // RFC 9293 §3.5 Figure 7.
  Harness h;
  h.conn.open_active(h.now, kLocalIss);
  h.expect(seg().syn().at(L(0)).win(64000).mss(1460));
  h.send(seg().syn().at(R(0)).win(9000).mss(1460));
  h.expect_state(State::kSynReceived);
  h.expect(seg().syn().at(L(0)).ack(R(1)).win(64000).mss(1460));
  h.expect_nothing();
  h.send(seg().syn().at(R(0)).ack(L(1)).win(9000).mss(1460));  // the peer's SYN-ACK
  // Its SYN lies before RCV.NXT, so the segment is not acceptable (§3.10.7.4 first check):
  // the only effect is an ACK. The peer's own ACK of our SYN-ACK completes the open.
  h.expect(seg().at(L(1)).ack(R(1)).win(64000));
  h.send(seg().at(R(1)).ack(L(1)).win(9000));
  h.expect_state(State::kEstablished);
  h.expect_events({Event{EventKind::kConnected}});
  h.expect_nothing();
}

TEST(ConnectionOpen, SynRetransmittedWithBackoffThenTimesOut) {
  tcp::Config cfg = plain_config();
  cfg.syn_retries = 3;
  Harness h(cfg);
  h.conn.open_active(h.now, kLocalIss);
  const Seg syn = seg().syn().at(L(0)).win(64000).mss(1460);
  h.expect(syn);
  // RFC 6298 §2.1 initial RTO 1 s, doubling (§5.5).
  for (int64_t wait_s : {1, 2, 4}) {
    EXPECT_EQ(h.advance_to_next_deadline(), Duration(wait_s * 1'000'000));
    h.expect(syn);
    h.expect_nothing();
  }
  EXPECT_EQ(h.advance_to_next_deadline(), Duration(8'000'000));
  h.expect_nothing();
  h.expect_state(State::kClosed);
  // The third retransmission reached R1 (default 3) and was reported as a soft error first.
  h.expect_events({Event{EventKind::kSoftError}, Event{EventKind::kError, ErrorReason::kTimedOut},
                   Event{EventKind::kClosed}});
}

TEST(ConnectionOpen, SynAckRetransmittedAndRepeatedSynAcked) {
  Harness h;
  h.conn.listen(kLocalIss);
  h.send(seg().syn().at(R(0)).win(8000).mss(1000));
  const Seg synack = seg().syn().at(L(0)).ack(R(1)).win(64000).mss(1460);
  h.expect(synack);
  EXPECT_EQ(h.advance_to_next_deadline(), Duration(1'000'000));
  h.expect(synack);
  // The peer repeats its SYN: not acceptable (SEG.SEQ < RCV.NXT), so RFC 9293 §3.10.7.4 and
  // RFC 5961 §4.2 answer with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> (Linux resends the SYN-ACK).
  h.send(seg().syn().at(R(0)).win(8000).mss(1000));
  h.expect(seg().at(L(1)).ack(R(1)).win(64000));
  h.expect_nothing();
  EXPECT_EQ(h.advance_to_next_deadline(), Duration(2'000'000));
  h.expect(synack);
  h.expect_nothing();
  h.send(seg().at(R(1)).ack(L(1)).win(8000));
  h.expect_state(State::kEstablished);
}

TEST(ConnectionOpen, SynReceivedBadAckDrawsRst) {
  // RFC 9293 §3.10.7.4 fifth step, SYN-RECEIVED: an unacceptable ACK gets <SEQ=SEG.ACK><RST>.
  Harness h;
  h.conn.listen(kLocalIss);
  h.send(seg().syn().at(R(0)).win(8000));
  h.pop();
  h.send(seg().at(R(1)).ack(L(50)).win(8000));
  h.expect(seg().rst().at(L(50)));
  h.expect_state(State::kSynReceived);
}

TEST(ConnectionOpen, SynReceivedRstFromPassiveOpenClosesQuietly) {
  Harness h;
  h.conn.listen(kLocalIss);
  h.send(seg().syn().at(R(0)).win(8000));
  h.pop();
  h.send(seg().rst().at(R(1)));
  h.expect_state(State::kClosed);
  h.expect_events({Event{EventKind::kClosed}});
  h.expect_nothing();
}

TEST(ConnectionOpen, SynReceivedRstAfterSimultaneousOpenIsRefused) {
  Harness h;
  h.conn.open_active(h.now, kLocalIss);
  h.pop();
  h.send(seg().syn().at(R(0)).win(9000));
  h.pop();
  h.send(seg().rst().at(R(1)));
  h.expect_state(State::kClosed);
  h.expect_events({Event{EventKind::kError, ErrorReason::kRefused}, Event{EventKind::kClosed}});
}

TEST(ConnectionOpen, DataQueuedBeforeEstablishedGoesAfterHandshake) {
  Harness h;
  h.conn.open_active(h.now, kLocalIss);
  h.pop();
  EXPECT_EQ(h.app_send("early"), 5u);
  h.expect_nothing();
  h.send(seg().syn().at(R(0)).ack(L(1)).win(5000).mss(1460));
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).psh().data("early"));
  h.expect_nothing();
}

TEST(ConnectionOpen, ClosedConnectionAnswersWithReset) {
  // RFC 9293 §3.10.7.1 for a connection object in CLOSED.
  Harness h;
  h.send(seg().at(R(5)).win(10).data("abc"));
  h.expect(seg().rst().at(SeqNum(0)).ack(R(8)));
  h.send(seg().at(R(5)).ack(L(3)).win(10));
  h.expect(seg().rst().at(L(3)));
  h.send(seg().rst().at(R(5)));
  h.expect_nothing();
}

}  // namespace
}  // namespace utcp::test
