// SPDX-License-Identifier: BSD-2-Clause
// Per-connection marks kept as sequence numbers must not come back to life 2^31 bytes later:
// sequence numbers compare modulo 2^32 (RFC 9293 §3.4), so a mark left behind reads as ahead of
// the current point again once the connection has moved between 2^31 and 2^32 bytes past it.
#include <gtest/gtest.h>

#include <vector>

#include "tcp/ecn.hpp"
#include "tcp/receiver.hpp"
#include "tcp/tcb.hpp"
#include "utcp/tcp_config.hpp"

namespace utcp::tcp {
namespace {

using wire::SeqNum;

// RFC 3168 §6.1.2: one reduction per window of data. The end of the window that reacted,
// left behind by 2^31 bytes, must not make a new ECE look like part of that old window.
TEST(WrapState, EcnReactsAgainLongAfterTheLastReaction) {
  EcnState e(true);
  e.on_syn_ack_received(wire::tcp_flag::kEce);
  ASSERT_TRUE(e.negotiated());
  const SeqNum una(0xfff00000u);
  EXPECT_TRUE(e.on_ece_received(una, una + 100000));
  EXPECT_FALSE(e.on_ece_received(una + 50000, una + 150000));  // same window: once
  EXPECT_TRUE(e.on_ece_received(una + 100000, una + 200000));  // the next window
  // No ECE for 3 GB (between 2^31 and 2^32 bytes), then one arrives.
  const SeqNum later = una + 100000 + 3'000'000'000u;
  EXPECT_TRUE(e.on_ece_received(later, later + 100000));
  EXPECT_EQ(e.ece_reactions(), 3u);
}

// RFC 9293 §3.8.5 / RFC 6093: the urgent mark, once read past, is spent; a new URG 2^31 bytes
// later is a new mark (before, on_urgent() took it for one behind the old mark and ignored it,
// and urgent_mark() reported the old one again).
TEST(WrapState, UrgentMarkAfterTwoToThe31BytesIsANewMark) {
  Config cfg;
  cfg.recv_buffer = 1u << 20;
  Receiver r(cfg);
  Tcb tcb;
  tcb.rcv_wscale = 7;
  r.on_syn(tcb, SeqNum(0xffffff00u));
  std::vector<uint8_t> chunk(64 * 1024, 0x33), sink(64 * 1024);
  auto deliver = [&](size_t n) {
    r.window_field(tcb);  // moves the offered right edge as an ACK would
    const auto res = r.on_text(tcb, tcb.rcv_nxt, std::span(chunk).first(n), false, Instant{});
    ASSERT_EQ(res.newly_readable, n);
    ASSERT_EQ(r.read(tcb, sink), n);
    r.on_ack_sent(tcb);
  };
  ASSERT_TRUE(r.on_urgent(tcb, tcb.rcv_nxt + 10));
  EXPECT_EQ(r.urgent_mark(tcb), std::optional<uint64_t>(10));
  deliver(chunk.size());
  EXPECT_EQ(r.urgent_mark(tcb), std::nullopt);
  // 2^31 + 1 MiB more, in 64 KB segments, read as they come.
  const uint64_t total = (uint64_t{1} << 31) + (1u << 20);
  for (uint64_t moved = 0; moved < total; moved += chunk.size()) {
    deliver(chunk.size());
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(r.urgent_mark(tcb), std::nullopt) << "the old mark came back";
  EXPECT_TRUE(r.on_urgent(tcb, tcb.rcv_nxt + 5)) << "a new mark was taken for an old one";
  EXPECT_EQ(r.urgent_mark(tcb), std::optional<uint64_t>(5));
}

}  // namespace
}  // namespace utcp::tcp
