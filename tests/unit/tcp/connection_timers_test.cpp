// SPDX-License-Identifier: BSD-2-Clause
// Timers: retransmission (RFC 6298, Karn), giving up (RFC 1122 §4.2.3.5, RFC 9293 §3.10.8),
// zero-window probing (RFC 9293 §3.8.6.1) and keepalive (RFC 1122 §4.2.3.6).
#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"

namespace utcp::test {
namespace {

using tcp::ErrorReason;
using tcp::Event;
using tcp::EventKind;
using tcp::State;

constexpr Duration ms(int64_t n) {
  return Duration(n * 1000);
}

TEST(Retransmission, BackoffDoublesAndKarnIgnoresRetransmittedSamples) {
  Harness h;
  h.conn.open_active(h.now, kLocalIss);
  h.pop();
  h.advance(ms(50));
  h.send(seg().syn().at(R(0)).ack(L(1)).win(64000).mss(1460));
  h.pop();
  // RFC 6298 §2.2: first sample 50 ms gives SRTT 50, RTTVAR 25, RTO 150 -> floor 200 ms.
  EXPECT_EQ(h.conn.sender().rto().srtt(), ms(50));
  EXPECT_EQ(h.conn.sender().rto().rto(), ms(200));
  h.app_send("x");
  const Seg x = seg().at(L(1)).ack(R(1)).win(64000).psh().data("x");
  h.expect(x);
  EXPECT_EQ(h.advance_to_next_deadline(), ms(200));
  h.expect(x);
  EXPECT_EQ(h.advance_to_next_deadline(), ms(400));  // RFC 6298 §5.5
  h.expect(x);
  h.advance(ms(300));
  h.send(seg().at(R(1)).ack(L(2)).win(64000));
  // Karn: the ACK of a retransmitted segment gives no sample, and the backed-off RTO stays
  // until a valid sample (RFC 6298 §5).
  EXPECT_EQ(h.conn.sender().rto().srtt(), ms(50));
  EXPECT_EQ(h.conn.sender().rto().rto(), ms(800));
  EXPECT_EQ(h.conn.next_deadline(), kNever);  // RFC 6298 §5.2: all acknowledged, timer off
  // A segment sent once is timed (30 ms), and its sample collapses the RTO again.
  h.app_send("y");
  h.pop();
  EXPECT_EQ(h.conn.next_deadline(), h.now + ms(800));
  h.advance(ms(30));
  h.send(seg().at(R(1)).ack(L(3)).win(64000));
  EXPECT_EQ(h.conn.sender().rto().srtt(), Duration(50'000 * 7 / 8 + 30'000 / 8));
  EXPECT_EQ(h.conn.sender().rto().backoff_count(), 0u);
  EXPECT_EQ(h.conn.sender().rto().rto(), ms(200));
}

TEST(Retransmission, TimerRestartsOnNewAck) {
  // RFC 6298 §5.3.
  Harness h;
  h.establish();
  h.conn.set_nodelay(true);
  h.app_send("a");
  h.pop();
  h.advance(ms(100));
  h.app_send("b");
  h.pop();
  EXPECT_EQ(h.conn.next_deadline(), h.now - ms(100) + ms(200));  // still the first timer (§5.1)
  h.advance(ms(50));
  h.send(seg().at(R(1)).ack(L(2)).win(64000));
  EXPECT_EQ(h.conn.next_deadline(), h.now + ms(200));
}

TEST(Retransmission, GoBackNAfterTimeoutAndCwndCollapses) {
  Harness h;
  h.establish();
  const auto data = pattern(4380);
  h.app_send_bytes(data);
  for (int i = 0; i < 3; ++i) h.pop();
  h.advance_to_next_deadline();
  // RFC 5681 §3.1: cwnd = 1 SMSS after a timeout: only the first segment is resent.
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).bytes({data.begin(), data.begin() + 1460}));
  h.expect_nothing();
  EXPECT_EQ(h.conn.sender().cc().cwnd(), 1460u);
  h.send(seg().at(R(1)).ack(L(1461)).win(64000));
  auto s1 = h.pop();
  auto s2 = h.pop();
  ASSERT_TRUE(s1 && s2);
  EXPECT_EQ(s1->seq, L(1461));
  EXPECT_EQ(s2->seq, L(2921));
}

TEST(Retransmission, ExhaustedRetransmissionsTimeOut) {
  tcp::Config cfg = plain_config();
  cfg.max_retransmits = 3;
  Harness h(cfg);
  h.establish();
  h.app_send("x");
  const Seg x = seg().at(L(1)).ack(R(1)).win(64000).psh().data("x");
  h.expect(x);
  for (int64_t d : {200, 400, 800}) {
    EXPECT_EQ(h.advance_to_next_deadline(), ms(d));
    h.expect(x);
  }
  EXPECT_EQ(h.advance_to_next_deadline(), ms(1600));
  h.expect_nothing();
  h.expect_state(State::kClosed);
  // The third retransmission reached R1 (default 3) and was reported as a soft error first.
  h.expect_events({Event{EventKind::kSoftError}, Event{EventKind::kError, ErrorReason::kTimedOut},
                   Event{EventKind::kClosed}});
}

TEST(Retransmission, UserTimeoutGivesUp) {
  tcp::Config cfg = plain_config();
  cfg.user_timeout = ms(1000);
  Harness h(cfg);
  h.establish();
  h.app_send("x");
  h.pop();
  h.advance(ms(999));
  EXPECT_EQ(h.outbox.size(), 2u);  // retransmissions at 200 and 600 ms
  h.expect_state(State::kEstablished);
  h.advance(ms(1));
  h.expect_state(State::kClosed);
  h.expect_events({Event{EventKind::kError, ErrorReason::kTimedOut}, Event{EventKind::kClosed}});
}

TEST(Retransmission, SoftIcmpErrorIsKeptForTheApplication) {
  Harness h;
  h.establish();
  h.conn.on_icmp_error(tcp::IcmpError::kHostUnreachable, h.now);
  h.expect_state(State::kEstablished);
  ASSERT_TRUE(h.conn.soft_error());
  EXPECT_EQ(h.conn.soft_error()->icmp, tcp::IcmpError::kHostUnreachable);
}

TEST(ZeroWindow, ProbesBackOffAndWindowStaysClosedForAnHour) {
  // RFC 9293 §3.8.6.1 (MUST-36/37): probe with one octet, back off, never give up.
  Harness h;
  h.establish(1000);
  const auto data = pattern(1500);
  h.app_send_bytes(data);
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).bytes({data.begin(), data.begin() + 1000}));
  h.send(seg().at(R(1)).ack(L(1001)).win(0));
  h.expect_nothing();
  const Seg probe = seg().at(L(1001)).ack(R(1)).win(64000).bytes({data[1000]});
  const Instant start = h.now;
  std::vector<int64_t> gaps_ms;
  while (h.now - start < std::chrono::hours(1)) {
    gaps_ms.push_back(h.advance_to_next_deadline().count() / 1000);
    h.expect(probe);
    h.expect_nothing();
    h.send(seg().at(R(1)).ack(L(1001)).win(0));  // still closed
  }
  h.expect_state(State::kEstablished);
  ASSERT_GE(gaps_ms.size(), 10u);
  const std::vector<int64_t> first{200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000};
  EXPECT_EQ(std::vector<int64_t>(gaps_ms.begin(), gaps_ms.begin() + 10), first);
  for (size_t i = 10; i < gaps_ms.size(); ++i) EXPECT_EQ(gaps_ms[i], 60000);  // capped
  EXPECT_GE(gaps_ms.size(), 65u);
  // The window opens: the rest goes out.
  h.send(seg().at(R(1)).ack(L(1001)).win(4000));
  h.expect(seg().at(L(1001)).ack(R(1)).win(64000).psh().bytes({data.begin() + 1000, data.end()}));
  h.expect_nothing();
}

TEST(ZeroWindow, UnansweredProbesGiveUpAtR2) {
  // MUST-37 protects a closed window only while the peer answers the probes: a peer that
  // vanishes behind a zero window is timed out at R2 like any retransmission (RFC 1122
  // §4.2.3.5). Found by fuzz_stack_input (a connection that never ended).
  tcp::Config cfg = plain_config();
  cfg.max_retransmits = 3;
  Harness h(cfg);
  h.establish(1000);
  const auto data = pattern(1500);
  h.app_send_bytes(data);
  h.pop();
  h.send(seg().at(R(1)).ack(L(1001)).win(0));
  const Seg probe = seg().at(L(1001)).ack(R(1)).win(64000).bytes({data[1000]});
  for (int64_t d : {200, 400, 800}) {
    EXPECT_EQ(h.advance_to_next_deadline(), ms(d));
    h.expect(probe);
  }
  h.expect_state(State::kEstablished);
  EXPECT_EQ(h.advance_to_next_deadline(), ms(1600));
  h.expect_nothing();
  h.expect_state(State::kClosed);
  h.expect_events({Event{EventKind::kWritable}, Event{EventKind::kError, ErrorReason::kTimedOut},
                   Event{EventKind::kClosed}});
}

TEST(ZeroWindow, ProbeByteAcceptedMovesOn) {
  Harness h;
  h.establish(1000);
  const auto data = pattern(1500);
  h.app_send_bytes(data);
  h.pop();
  h.send(seg().at(R(1)).ack(L(1001)).win(0));
  h.advance_to_next_deadline();
  h.pop();
  // The peer took the probe byte and opened its window.
  h.send(seg().at(R(1)).ack(L(1002)).win(1000));
  h.expect(seg().at(L(1002)).ack(R(1)).win(64000).psh().bytes({data.begin() + 1001, data.end()}));
}

TEST(Keepalive, OffByDefault) {
  Harness h;
  h.establish();
  EXPECT_EQ(h.conn.next_deadline(), kNever);
  h.advance(std::chrono::hours(5));
  h.expect_nothing();
  h.expect_state(State::kEstablished);
}

TEST(Keepalive, ProbesAfterIdleAndGivesUp) {
  tcp::Config cfg = plain_config();
  cfg.keepalive = {true, Duration(10'000'000), Duration(1'000'000), 3};
  Harness h(cfg);
  h.establish();
  const Seg probe = seg().at(L(0)).ack(R(1)).win(64000);  // <SEQ=SND.NXT-1>, no data
  EXPECT_EQ(h.advance_to_next_deadline(), Duration(10'000'000));
  h.expect(probe);
  h.send(seg().at(R(1)).ack(L(1)).win(64000));  // the peer is alive
  h.expect_nothing();
  EXPECT_EQ(h.advance_to_next_deadline(), Duration(10'000'000));
  h.expect(probe);
  EXPECT_EQ(h.advance_to_next_deadline(), Duration(1'000'000));
  h.expect(probe);
  EXPECT_EQ(h.advance_to_next_deadline(), Duration(1'000'000));
  h.expect(probe);
  h.expect_state(State::kEstablished);
  EXPECT_EQ(h.advance_to_next_deadline(), Duration(1'000'000));
  h.expect_nothing();
  h.expect_state(State::kClosed);
  h.expect_events({Event{EventKind::kError, ErrorReason::kTimedOut}, Event{EventKind::kClosed}});
}

TEST(Keepalive, EnabledAtRuntime) {
  Harness h;
  h.establish();
  h.conn.set_keepalive({true, Duration(5'000'000), Duration(1'000'000), 2}, h.now);
  EXPECT_EQ(h.advance_to_next_deadline(), Duration(5'000'000));
  h.expect(seg().at(L(0)).ack(R(1)).win(64000));
}

}  // namespace
}  // namespace utcp::test
