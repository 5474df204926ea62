// SPDX-License-Identifier: BSD-2-Clause
// Segment acceptability (RFC 9293 §3.10.7.4), blind-attack defences (RFC 5961), PAWS
// (RFC 7323 §5) and TIME-WAIT assassination (RFC 1337).
#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"
#include "tcp/reset_generator.hpp"
#include "tcp/rst_validation.hpp"

namespace utcp::test {
namespace {

using tcp::ErrorReason;
using tcp::Event;
using tcp::EventKind;
using tcp::State;

const Seg kAckOnly = seg().at(L(1)).ack(R(1)).win(64000);

tcp::Config small_buffer(size_t n) {
  tcp::Config c = plain_config();
  c.recv_buffer = n;
  return c;
}

// ---- The four acceptability cases ----

TEST(Acceptability, ZeroLengthZeroWindow) {
  Harness h(small_buffer(100));
  h.establish();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).bytes(pattern(100)));
  h.advance(Duration(40'000));
  h.expect(seg().at(L(1)).ack(R(101)).win(0));
  h.send(seg().at(R(101)).ack(L(1)).win(5));  // SEG.SEQ = RCV.NXT: acceptable
  h.expect_nothing();
  EXPECT_EQ(h.conn.tcb().snd_wnd, 5u);
  h.send(seg().at(R(102)).ack(L(1)).win(6));  // anything else: not acceptable
  h.expect(seg().at(L(1)).ack(R(101)).win(0));
  EXPECT_EQ(h.conn.tcb().snd_wnd, 5u);
}

TEST(Acceptability, ZeroLengthOpenWindow) {
  Harness h;
  h.establish();
  h.send(seg().at(R(1 + 63999)).ack(L(1)).win(64000));  // last number in the window
  h.expect_nothing();
  h.send(seg().at(R(1 + 64000)).ack(L(1)).win(64000));  // just past it
  h.expect(kAckOnly);
  h.send(seg().at(R(0)).ack(L(1)).win(64000));  // just before RCV.NXT
  h.expect(kAckOnly);
}

TEST(Acceptability, DataWithZeroWindowNeverAcceptable) {
  Harness h(small_buffer(100));
  h.establish();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).bytes(pattern(100)));
  h.advance(Duration(40'000));
  h.pop();
  h.send(seg().at(R(101)).ack(L(1)).win(64000).data("x"));
  h.expect(seg().at(L(1)).ack(R(101)).win(0));
  EXPECT_EQ(h.conn.recv_available(), 100u);
}

TEST(Acceptability, DataWithOpenWindowNeedsStartOrEndInside) {
  Harness h;
  h.establish();
  // Ends inside the window (starts before): acceptable, the old part is trimmed.
  h.send(seg().at(R(0)).ack(L(1)).win(64000).data("xab"));
  h.expect(seg().at(L(1)).ack(R(3)).win(63998));
  EXPECT_EQ(h.app_recv(), "ab");  // (the right edge stays: 2 bytes read is below the SWS step)
  // Entirely before RCV.NXT: not acceptable.
  h.send(seg().at(R(0)).ack(L(1)).win(64000).data("xa"));
  h.expect(seg().at(L(1)).ack(R(3)).win(63998));
  // Entirely past the right edge: not acceptable.
  h.send(seg().at(R(3 + 64000)).ack(L(1)).win(64000).data("zz"));
  h.expect(seg().at(L(1)).ack(R(3)).win(63998));
  EXPECT_EQ(h.conn.recv_available(), 0u);
}

// ---- RFC 5961 ----

TEST(Rfc5961, RstExactlyAtRcvNxtResets) {
  Harness h;
  h.establish();
  h.send(seg().rst().at(R(1)));
  h.expect_state(State::kClosed);
  h.expect_events({Event{EventKind::kError, ErrorReason::kReset}, Event{EventKind::kClosed}});
  h.expect_nothing();
}

// RFC 9293 §3.5.3 (SHLD-2): a RST may carry data (a diagnostic); it is processed as a RST and
// its data is never delivered.
TEST(RstWithData, IsProcessedAsARstAndItsDataDropped) {
  Harness h;
  h.establish();
  h.send(seg().rst().at(R(1)).data("connection reset: diagnostic text"));
  h.expect_state(State::kClosed);
  h.expect_events({Event{EventKind::kError, ErrorReason::kReset}, Event{EventKind::kClosed}});
  h.expect_nothing();
  EXPECT_EQ(h.conn.recv_available(), 0u);
  // In the window but not at RCV.NXT: a challenge ACK (RFC 5961 §3.2), as for a bare RST.
  Harness g;
  g.establish();
  g.send(seg().rst().at(R(100)).data("diagnostic"));
  g.expect(kAckOnly);
  g.expect_state(State::kEstablished);
  EXPECT_EQ(g.conn.recv_available(), 0u);
}

TEST(Rfc5961, RstInWindowButNotExactDrawsChallengeAck) {
  Harness h;
  h.establish();
  h.send(seg().rst().at(R(100)));
  h.expect(kAckOnly);
  h.expect_state(State::kEstablished);
  h.expect_events({});
}

TEST(Rfc5961, RstOutsideWindowIsDropped) {
  Harness h;
  h.establish();
  h.send(seg().rst().at(R(1 + 64000)));
  h.send(seg().rst().at(R(0)));
  h.expect_nothing();
  h.expect_state(State::kEstablished);
}

TEST(Rfc5961, SynInSynchronizedStateDrawsChallengeAck) {
  Harness h;
  h.establish();
  h.send(seg().syn().at(R(1)).win(64000));  // even exactly at RCV.NXT
  h.expect(kAckOnly);
  h.send(seg().syn().at(R(5000000)).win(64000));  // or far outside
  h.expect(kAckOnly);
  h.expect_state(State::kEstablished);
}

TEST(Rfc5961, AckTooOldDrawsChallengeAckAndDropsData) {
  Harness h;
  h.establish();
  // SEG.ACK < SND.UNA - MAX.SND.WND (64000).
  h.send(seg().at(R(1)).ack(L(1) - 64001).win(64000).data("evil"));
  h.expect(kAckOnly);
  EXPECT_EQ(h.conn.recv_available(), 0u);
  // Within MAX.SND.WND below SND.UNA: acceptable (an old duplicate ACK); the data is taken.
  h.send(seg().at(R(1)).ack(L(1) - 64000).win(64000).data("fine"));
  EXPECT_EQ(h.conn.recv_available(), 4u);
}

TEST(Rfc5961, AckForUnsentDataIsAnsweredAndDropped) {
  Harness h;
  h.establish();
  h.send(seg().at(R(1)).ack(L(2)).win(64000).data("data"));
  h.expect(kAckOnly);
  EXPECT_EQ(h.conn.recv_available(), 0u);
}

TEST(Rfc5961, ChallengeAcksAreRateLimited) {
  tcp::ChallengeAckLimiter limiter(2);
  tcp::Env env;
  env.challenge_acks = &limiter;
  Harness h(plain_config(), env);
  h.establish();
  for (int i = 0; i < 5; ++i) h.send(seg().rst().at(R(100 + i)));
  h.expect(kAckOnly);
  h.expect(kAckOnly);
  h.expect_nothing();
  h.advance(Duration(1'000'000));
  h.send(seg().rst().at(R(200)));
  h.expect(kAckOnly);
}

TEST(Rfc5961, ValidationFunctions) {
  using tcp::AckVerdict;
  using tcp::RstVerdict;
  EXPECT_EQ(tcp::classify_rst(SeqNum(100), SeqNum(100), 0), RstVerdict::kReset);
  EXPECT_EQ(tcp::classify_rst(SeqNum(101), SeqNum(100), 0), RstVerdict::kDrop);
  EXPECT_EQ(tcp::classify_rst(SeqNum(101), SeqNum(100), 10), RstVerdict::kChallengeAck);
  EXPECT_EQ(tcp::classify_rst(SeqNum(110), SeqNum(100), 10), RstVerdict::kDrop);
  // Wrapping window.
  EXPECT_EQ(tcp::classify_rst(SeqNum(3), SeqNum(0xfffffff0u), 100), RstVerdict::kChallengeAck);
  EXPECT_EQ(tcp::classify_ack(SeqNum(50), SeqNum(100), SeqNum(200), 50), AckVerdict::kAcceptable);
  EXPECT_EQ(tcp::classify_ack(SeqNum(49), SeqNum(100), SeqNum(200), 50), AckVerdict::kTooOld);
  EXPECT_EQ(tcp::classify_ack(SeqNum(201), SeqNum(100), SeqNum(200), 50), AckVerdict::kTooNew);
  EXPECT_EQ(tcp::classify_ack(SeqNum(200), SeqNum(100), SeqNum(200), 50), AckVerdict::kAcceptable);
}

// ---- RFC 1337 ----

TEST(Rfc1337, RstInTimeWaitIsIgnored) {
  Harness h;
  h.establish();
  h.app_close();
  h.pop();
  h.send(seg().fin().at(R(1)).ack(L(2)).win(64000));
  h.pop();
  h.expect_state(State::kTimeWait);
  h.events();
  h.send(seg().rst().at(R(2)));
  h.expect_state(State::kTimeWait);
  h.expect_nothing();
  h.expect_events({});
}

// ---- §3.10.7.1: reset generation for segments that reach no connection ----

TEST(ResetGenerator, AnswersAckWithSeqFromAck) {
  wire::TcpRepr in;
  in.src_port = 1000;
  in.dst_port = 2000;
  in.seq = SeqNum(5);
  in.ack = SeqNum(77);
  in.flags = wire::tcp_flag::kAck;
  auto r = tcp::reset_for_unmatched(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->src_port, 2000);
  EXPECT_EQ(r->dst_port, 1000);
  EXPECT_EQ(r->flags, wire::tcp_flag::kRst);
  EXPECT_EQ(r->seq, SeqNum(77));
}

TEST(ResetGenerator, AnswersNonAckWithAckOfSegmentLength) {
  const std::vector<uint8_t> payload{1, 2, 3};
  wire::TcpRepr in;
  in.seq = SeqNum(0xfffffffeu);
  in.flags = wire::tcp_flag::kSyn | wire::tcp_flag::kFin;
  in.payload = payload;
  auto r = tcp::reset_for_unmatched(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->flags, wire::tcp_flag::kRst | wire::tcp_flag::kAck);
  EXPECT_EQ(r->seq, SeqNum(0));
  EXPECT_EQ(r->ack, SeqNum(3));  // 0xfffffffe + 3 bytes + SYN + FIN, wrapped
}

TEST(ResetGenerator, NeverAnswersRst) {
  wire::TcpRepr in;
  in.flags = wire::tcp_flag::kRst | wire::tcp_flag::kAck;
  EXPECT_FALSE(tcp::reset_for_unmatched(in));
}

}  // namespace
}  // namespace utcp::test
