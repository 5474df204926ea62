// SPDX-License-Identifier: BSD-2-Clause
// Timestamps across the 32-bit wrap (RFC 7323 §5.5): PAWS compares TSvals modulo 2^32, so a
// peer clock that wraps is still "newer"; and a TS.Recent idle for more than 24 days is no
// longer trusted (a 1 ms clock passes half its space in 24.8 days).
#include <gtest/gtest.h>

#include <chrono>

#include "support/tcp_harness.hpp"

namespace utcp::test {
namespace {

tcp::Config ts_config() {
  tcp::Config c = plain_config();
  c.timestamps = true;
  return c;
}

// Our timestamp clock in the harness: milliseconds of `now` plus the ISS as offset.
uint32_t our_ts(const Harness& h) {
  return static_cast<uint32_t>(to_us(h.now) / 1000) + kLocalIss.raw();
}

// Active open with timestamps; the peer's SYN-ACK carries TSval `peer_ts`.
void open_with_peer_ts(Harness& h, uint32_t peer_ts) {
  h.conn.open_active(h.now, kLocalIss);
  const uint32_t t0 = our_ts(h);
  h.pop();
  h.send(seg().syn().at(R(0)).ack(L(1)).win(64000).mss(1460).ts(peer_ts, t0));
  h.pop();
  ASSERT_EQ(h.conn.state(), tcp::State::kEstablished);
  ASSERT_EQ(h.conn.tcb().ts_recent, peer_ts);
}

TEST(TimestampWrap, PeerTsvalWrappingPastZeroIsNewer) {
  Harness h(ts_config());
  open_with_peer_ts(h, 0xfffffff0u);
  h.send(seg().at(R(1)).ack(L(1)).win(64000).data("abc").ts(0xfffffffcu, our_ts(h)));
  EXPECT_EQ(h.conn.recv_available(), 3u);
  // Our delayed ACK goes out: Last.ACK.sent = RCV.NXT, so the next in-order segment's TSval is
  // recorded (RFC 7323 §4.3).
  h.advance(std::chrono::milliseconds(100));
  while (h.pop()) {
  }
  // The peer's clock wrapped: 0x00000004 is 8 ticks after 0xfffffffc, not 2^32 - 8 before.
  h.send(seg().at(R(4)).ack(L(1)).win(64000).data("def").ts(0x00000004u, our_ts(h)));
  EXPECT_EQ(h.conn.recv_available(), 6u);
  EXPECT_EQ(h.conn.tcb().ts_recent, 0x00000004u);
  // An old duplicate from before the wrap is now the older one: PAWS drops it (RFC 7323 §5.3).
  while (h.pop()) {
  }
  h.send(seg().at(R(7)).ack(L(1)).win(64000).data("old").ts(0xfffffffdu, our_ts(h)));
  EXPECT_EQ(h.conn.recv_available(), 6u);
  h.expect(seg().at(L(1)).ack(R(7)).win(64000 - 6).ts(our_ts(h), 0x00000004u));
}

TEST(TimestampWrap, TsRecentIdleMoreThan24DaysIsNotTrusted) {
  // RFC 7323 §5.5: after 24 days idle the peer's clock may have moved more than 2^31 ticks, so
  // its TSval compares as older; the segment must be accepted and TS.Recent replaced.
  Harness h(ts_config());
  open_with_peer_ts(h, 5000);
  h.advance(std::chrono::hours(24 * 24 + 1));
  const uint32_t wrapped = 5000u + 0x90000000u;  // 2^31 + some ticks later: "older" modulo 2^32
  h.send(seg().at(R(1)).ack(L(1)).win(64000).data("late").ts(wrapped, our_ts(h)));
  EXPECT_EQ(h.conn.recv_available(), 4u);
  EXPECT_EQ(h.conn.tcb().ts_recent, wrapped);
}

TEST(TimestampWrap, TsRecentIdleLessThan24DaysStillGuardsAgainstOldDuplicates) {
  Harness h(ts_config());
  open_with_peer_ts(h, 5000);
  h.advance(std::chrono::hours(24 * 24 - 1));
  h.send(seg().at(R(1)).ack(L(1)).win(64000).data("dup").ts(4000, our_ts(h)));
  EXPECT_EQ(h.conn.recv_available(), 0u);
  EXPECT_EQ(h.conn.tcb().ts_recent, 5000u);
}

}  // namespace
}  // namespace utcp::test
