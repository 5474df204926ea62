// SPDX-License-Identifier: BSD-2-Clause
// Remaining state-machine corners: LISTEN close, SYN in SYN-RECEIVED, data on a SYN-ACK, the
// zero-window allowance for ACKs, ICMP hard errors while opening, buffer options.
#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"

namespace utcp::test {
namespace {

using tcp::ErrorReason;
using tcp::Event;
using tcp::EventKind;
using tcp::State;

TEST(ConnectionState, StateNames) {
  EXPECT_EQ(tcp::to_string(State::kSynReceived), "SYN-RECEIVED");
  EXPECT_EQ(tcp::to_string(State::kTimeWait), "TIME-WAIT");
  EXPECT_TRUE(tcp::is_synchronized(State::kSynReceived));
  EXPECT_FALSE(tcp::is_synchronized(State::kSynSent));
}

TEST(ConnectionState, CloseInListenDeletesTcb) {
  Harness h;
  h.conn.listen(kLocalIss);
  h.app_close();
  h.expect_state(State::kClosed);
  h.expect_nothing();
}

TEST(ConnectionState, SynInWindowInSynReceivedReturnsToListener) {
  // RFC 9293 §3.10.7.4 fourth step, SYN-RECEIVED from a passive OPEN.
  Harness h;
  h.conn.listen(kLocalIss);
  h.send(seg().syn().at(R(0)).win(8000));
  h.pop();
  h.send(seg().syn().at(R(5)).win(8000));
  h.expect_state(State::kClosed);
  h.expect_events({Event{EventKind::kClosed}});
  h.expect_nothing();
}

TEST(ConnectionState, DataAndFinOnSynAckAreDelivered) {
  // RFC 9293 §3.10.7.3: text on the SYN-ACK continues at the sixth step.
  Harness h;
  h.conn.open_active(h.now, kLocalIss);
  h.pop();
  h.send(seg().syn().fin().at(R(0)).ack(L(1)).win(8000).mss(1460).data("hi"));
  h.expect(seg().at(L(1)).ack(R(4)).win(63997));  // 64000 offered; 2 bytes and the FIN used
  h.expect_state(State::kCloseWait);
  h.expect_events(
      {Event{EventKind::kConnected}, Event{EventKind::kReadable}, Event{EventKind::kPeerFinished}});
  EXPECT_EQ(h.app_recv(), "hi");
}

TEST(ConnectionState, ZeroWindowStillProcessesAcks) {
  // RFC 9293 §3.10.7.4: "special allowance should be made to accept valid ACKs".
  tcp::Config cfg = plain_config();
  cfg.recv_buffer = 100;
  Harness h(cfg);
  h.establish();
  h.conn.set_nodelay(true);
  h.send(seg().at(R(1)).ack(L(1)).win(64000).bytes(pattern(100)));
  h.advance(Duration(40'000));
  h.expect(seg().at(L(1)).ack(R(101)).win(0));
  h.app_send("out");
  h.expect(seg().at(L(1)).ack(R(101)).win(0).psh().data("out"));
  // The peer's next data segment acknowledges ours; its text cannot be taken.
  h.send(seg().at(R(101)).ack(L(4)).win(64000).data("more"));
  h.expect(seg().at(L(4)).ack(R(101)).win(0));
  EXPECT_EQ(h.conn.send_queued(), 0u);  // the ACK was used
  EXPECT_EQ(h.conn.recv_available(), 100u);
}

TEST(ConnectionState, IcmpPortUnreachableWhileOpeningIsRefused) {
  Harness h;
  h.conn.open_active(h.now, kLocalIss);
  h.pop();
  h.conn.on_icmp_error(tcp::IcmpError::kPortUnreachable, h.now);
  h.expect_state(State::kClosed);
  h.expect_events({Event{EventKind::kError, ErrorReason::kRefused}, Event{EventKind::kClosed}});
}

TEST(ConnectionState, IcmpHostUnreachableWhileOpeningIsSoft) {
  Harness h;
  h.conn.open_active(h.now, kLocalIss);
  h.pop();
  h.conn.on_icmp_error(tcp::IcmpError::kHostUnreachable, h.now);
  h.expect_state(State::kSynSent);
}

TEST(ConnectionState, ReceiveBufferSetBeforeOpenSizesWindow) {
  Harness h;
  h.conn.set_recv_buffer(1000);
  h.conn.open_active(h.now, kLocalIss);
  h.expect(seg().syn().at(L(0)).win(1000).mss(1460));
}

TEST(ConnectionState, SendBufferCanGrow) {
  tcp::Config cfg = plain_config();
  cfg.send_buffer = 1000;
  Harness h(cfg);
  h.establish();
  EXPECT_EQ(h.conn.send_space(), 1000u);
  h.conn.set_send_buffer(5000);
  EXPECT_EQ(h.conn.send_space(), 5000u);
}

TEST(ConnectionState, EventsAreCoalesced) {
  Harness h;
  h.establish();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).data("a"));
  h.send(seg().at(R(2)).ack(L(1)).win(64000).data("b"));
  h.expect_events({Event{EventKind::kReadable}});
}

}  // namespace
}  // namespace utcp::test

namespace utcp::test {
namespace {

TEST(ConnectionState, BareFinAcceptedInZeroWindow) {
  tcp::Config cfg = plain_config();
  cfg.recv_buffer = 100;
  Harness h(cfg);
  h.establish();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).bytes(pattern(100)));
  h.advance(Duration(40'000));
  h.expect(seg().at(L(1)).ack(R(101)).win(0));
  h.send(seg().fin().at(R(101)).ack(L(1)).win(64000));
  h.expect(seg().at(L(1)).ack(R(102)).win(0));
  h.expect_state(tcp::State::kCloseWait);
}

TEST(ConnectionState, RtoIsThreeSecondsAfterSynTimeout) {
  // RFC 6298 §5.7: the SYN timed out and no RTT sample exists, so data starts at RTO = 3 s.
  Harness h;
  h.conn.open_active(h.now, kLocalIss);
  h.pop();
  h.advance_to_next_deadline();
  h.pop();  // the SYN again
  h.send(seg().syn().at(R(0)).ack(L(1)).win(64000).mss(1460));
  h.pop();
  EXPECT_FALSE(h.conn.sender().rto().has_sample());  // Karn: no sample from the repeated SYN
  h.app_send("x");
  h.pop();
  EXPECT_EQ(h.advance_to_next_deadline(), Duration(3'000'000));
}

}  // namespace
}  // namespace utcp::test

namespace utcp::test {
namespace {

using tcp::State;

constexpr State kSynchronized[] = {State::kSynReceived, State::kEstablished, State::kFinWait1,
                                   State::kFinWait2,    State::kCloseWait,   State::kClosing,
                                   State::kLastAck,     State::kTimeWait};

// What RCV.NXT and SND.NXT are in each state under goto_state's conventions.
SeqNum rcv_nxt_in(State s) {
  return (s == State::kCloseWait || s == State::kClosing || s == State::kLastAck ||
          s == State::kTimeWait)
             ? R(2)
             : R(1);
}
SeqNum snd_nxt_in(State s) {
  return (s == State::kSynReceived || s == State::kEstablished || s == State::kCloseWait) ? L(1)
                                                                                          : L(2);
}

TEST(EveryState, GotoStateReachesAllElevenStates) {
  for (State s : {State::kClosed, State::kListen, State::kSynSent, State::kSynReceived,
                  State::kEstablished, State::kFinWait1, State::kFinWait2, State::kCloseWait,
                  State::kClosing, State::kLastAck, State::kTimeWait}) {
    Harness h;
    h.goto_state(s);
    EXPECT_EQ(h.conn.state(), s);
  }
}

TEST(EveryState, UnacceptableSegmentDrawsAckInEverySynchronizedState) {
  // RFC 9293 §3.10.7.4 first check.
  for (State s : kSynchronized) {
    SCOPED_TRACE(std::string(tcp::to_string(s)));
    Harness h;
    h.goto_state(s);
    h.send(seg().at(rcv_nxt_in(s) + 100000).ack(snd_nxt_in(s)).win(64000).data("x"));
    auto got = h.pop();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->flags, wire::tcp_flag::kAck);
    EXPECT_EQ(got->ack_no, rcv_nxt_in(s));
    EXPECT_EQ(h.conn.state(), s);
  }
}

TEST(EveryState, InWindowRstDrawsChallengeAckInEverySynchronizedState) {
  // RFC 5961 §3.2 (TIME-WAIT ignores RSTs altogether: RFC 1337).
  for (State s : kSynchronized) {
    SCOPED_TRACE(std::string(tcp::to_string(s)));
    Harness h;
    h.goto_state(s);
    h.send(seg().rst().at(rcv_nxt_in(s) + 10));
    if (s == State::kTimeWait) {
      h.expect_nothing();
    } else {
      auto got = h.pop();
      ASSERT_TRUE(got);
      EXPECT_EQ(got->flags, wire::tcp_flag::kAck);
      EXPECT_EQ(got->ack_no, rcv_nxt_in(s));
    }
    EXPECT_EQ(h.conn.state(), s);
  }
}

TEST(EveryState, ExactRstClosesEverySynchronizedStateButTimeWait) {
  for (State s : kSynchronized) {
    SCOPED_TRACE(std::string(tcp::to_string(s)));
    Harness h;
    h.goto_state(s);
    h.send(seg().rst().at(rcv_nxt_in(s)));
    h.expect_nothing();
    EXPECT_EQ(h.conn.state(), s == State::kTimeWait ? State::kTimeWait : State::kClosed);
  }
}

TEST(EveryState, SynDrawsChallengeAckInSynchronizedStates) {
  // RFC 5961 §4.2; SYN-RECEIVED from a passive open goes back to the listener instead.
  for (State s : kSynchronized) {
    if (s == State::kSynReceived) continue;
    SCOPED_TRACE(std::string(tcp::to_string(s)));
    Harness h;
    h.goto_state(s);
    h.send(seg().syn().at(rcv_nxt_in(s)).win(64000));
    auto got = h.pop();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->flags, wire::tcp_flag::kAck);
    EXPECT_EQ(h.conn.state(), s);
  }
}

}  // namespace
}  // namespace utcp::test

namespace utcp::test {
namespace {

TEST(ConnectionDefaults, SynGivesUpNoSoonerThanThreeMinutes) {
  // RFC 9293 MUST-23: R2 for a SYN is at least 3 minutes.
  tcp::Config cfg = plain_config();
  Harness h(cfg);
  const Instant start = h.now;
  h.conn.open_active(h.now, kLocalIss);
  h.flush();
  for (int i = 0; i < 100 && h.conn.state() == tcp::State::kSynSent; ++i) {
    h.advance_to_next_deadline();
  }
  EXPECT_GE(h.now - start, std::chrono::minutes(3));
  EXPECT_EQ(h.conn.error(), tcp::ErrorReason::kTimedOut);
  EXPECT_EQ(h.outbox.size(), 1u + cfg.syn_retries);  // the SYN and its retransmissions
}

TEST(ConnectionDefaults, KeepaliveDefaultIdleIsTwoHours) {
  // RFC 1122 §4.2.3.6 (MUST-28): the idle interval defaults to no less than two hours.
  tcp::Config cfg = plain_config();
  cfg.keepalive.enabled = true;
  Harness h(cfg);
  h.establish();
  EXPECT_EQ(h.advance_to_next_deadline(), std::chrono::hours(2));
  h.expect(seg().at(L(0)).ack(R(1)).win(64000));
}

TEST(ConnectionDefaults, UrgentProcessedInZeroWindow) {
  // RFC 9293 §3.10.7.4 (MUST-66): URG is processed even when the window is zero.
  tcp::Config cfg = plain_config();
  cfg.recv_buffer = 100;
  Harness h(cfg);
  h.establish();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).bytes(pattern(100)));
  h.events();
  h.send(seg().at(R(101)).ack(L(1)).win(64000).urg(5).data("!!!!!"));
  h.expect_events({tcp::Event{tcp::EventKind::kUrgent}});
  ASSERT_TRUE(h.conn.urgent_mark());
  EXPECT_EQ(*h.conn.urgent_mark(), 105u);  // 100 unread bytes, then the 5 urgent ones
  EXPECT_EQ(h.conn.recv_available(), 100u);
}

}  // namespace
}  // namespace utcp::test
