// SPDX-License-Identifier: BSD-2-Clause
// RFC 9293 §3.6.1 (MAY-2, SHLD-4) and RFC 6191: which SYNs may reopen a connection in
// TIME-WAIT, with and without timestamps.
#include "tcp/time_wait_reuse.hpp"

#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"

namespace utcp::test {
namespace {

using tcp::State;

wire::TcpRepr syn_at(SeqNum seq, std::optional<uint32_t> tsval = std::nullopt) {
  wire::TcpRepr r;
  r.src_port = kRemotePort;
  r.dst_port = kLocalPort;
  r.seq = seq;
  r.flags = wire::tcp_flag::kSyn;
  r.window = 64000;
  if (tsval) r.options.timestamps = wire::TcpTimestamps{*tsval, 0};
  return r;
}

// TIME-WAIT after an exchange with timestamps; the peer's last TSval (TS.Recent) is 5000.
void time_wait_with_timestamps(Harness& h) {
  h.conn.open_active(h.now, kLocalIss);
  h.flush();
  ASSERT_TRUE(h.pop());
  h.send(seg().syn().at(kRemoteIss).ack(kLocalIss + 1).win(64000).mss(1460).ts(4000, 0));
  h.conn.shutdown_write(h.now);
  h.flush();
  h.send(seg().fin().at(R(1)).ack(L(2)).win(64000).ts(5000, 1));
  ASSERT_EQ(h.conn.state(), State::kTimeWait);
  ASSERT_EQ(h.conn.tcb().ts_recent, 5000u);
}

tcp::Config with_timestamps() {
  tcp::Config c = plain_config();
  c.timestamps = true;
  return c;
}

TEST(TimeWaitReuse, WithoutTimestampsOnlyASequenceNumberAboveRcvNxt) {
  Harness h;
  h.goto_state(State::kTimeWait);  // RCV.NXT = R(2)
  ASSERT_EQ(h.conn.tcb().rcv_nxt, R(2));
  EXPECT_FALSE(tcp::syn_may_reopen_time_wait(h.conn.tcb(), syn_at(R(0)), h.now));
  EXPECT_FALSE(tcp::syn_may_reopen_time_wait(h.conn.tcb(), syn_at(R(2)), h.now));
  EXPECT_TRUE(tcp::syn_may_reopen_time_wait(h.conn.tcb(), syn_at(R(3)), h.now));
  EXPECT_TRUE(tcp::syn_may_reopen_time_wait(h.conn.tcb(), syn_at(R(1'000'000)), h.now));
  // A timestamp on the SYN cannot help when the old connection had none.
  EXPECT_FALSE(tcp::syn_may_reopen_time_wait(h.conn.tcb(), syn_at(R(0), 99999), h.now));
  // Only a bare SYN qualifies.
  wire::TcpRepr synack = syn_at(R(100));
  synack.flags |= wire::tcp_flag::kAck;
  EXPECT_FALSE(tcp::syn_may_reopen_time_wait(h.conn.tcb(), synack, h.now));
  wire::TcpRepr synrst = syn_at(R(100));
  synrst.flags |= wire::tcp_flag::kRst;
  EXPECT_FALSE(tcp::syn_may_reopen_time_wait(h.conn.tcb(), synrst, h.now));
}

TEST(TimeWaitReuse, WithTimestampsANewerTsvalDecides) {
  Harness h(with_timestamps());
  time_wait_with_timestamps(h);
  const tcp::Tcb& tcb = h.conn.tcb();
  // RFC 6191 §2: newer TSval, even with a sequence number below RCV.NXT.
  EXPECT_TRUE(tcp::syn_may_reopen_time_wait(tcb, syn_at(R(0), 5001), h.now));
  // An older TSval is an old duplicate (PAWS), whatever its sequence number.
  EXPECT_FALSE(tcp::syn_may_reopen_time_wait(tcb, syn_at(R(100), 4999), h.now));
  // An equal TSval falls back on the sequence number.
  EXPECT_TRUE(tcp::syn_may_reopen_time_wait(tcb, syn_at(R(100), 5000), h.now));
  EXPECT_FALSE(tcp::syn_may_reopen_time_wait(tcb, syn_at(R(0), 5000), h.now));
  // A SYN without timestamps: the sequence number alone.
  EXPECT_TRUE(tcp::syn_may_reopen_time_wait(tcb, syn_at(R(100)), h.now));
  EXPECT_FALSE(tcp::syn_may_reopen_time_wait(tcb, syn_at(R(0)), h.now));
  // RFC 7323 §5.5: a TS.Recent older than 24 days is not trusted.
  const Instant later = h.now + std::chrono::hours(24 * 25);
  EXPECT_TRUE(tcp::syn_may_reopen_time_wait(tcb, syn_at(R(100), 4999), later));
}

TEST(TimeWaitReuse, SuccessorIssIsAboveEverythingTheOldConnectionSent) {
  Harness h;
  h.goto_state(State::kTimeWait);
  const SeqNum iss = tcp::time_wait_successor_iss(h.conn.tcb());
  EXPECT_GT(iss, h.conn.tcb().snd_max);
  EXPECT_EQ(iss, h.conn.tcb().snd_max + 65537u);
}

TEST(TimeWaitReuse, EndTimeWaitClosesSilently) {
  Harness h;
  h.goto_state(State::kTimeWait);
  h.conn.end_time_wait();
  h.expect_state(State::kClosed);
  h.expect_events({tcp::Event{tcp::EventKind::kClosed}});
  h.expect_nothing();
  EXPECT_EQ(h.conn.next_deadline(), kNever);
  // Elsewhere it does nothing.
  Harness e;
  e.establish();
  e.conn.end_time_wait();
  e.expect_state(State::kEstablished);
}

}  // namespace
}  // namespace utcp::test
