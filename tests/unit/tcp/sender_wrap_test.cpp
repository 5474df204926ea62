// SPDX-License-Identifier: BSD-2-Clause
// The sender past 2^31 and 2^32 acknowledged bytes. Sequence numbers compare modulo 2^32
// (RFC 9293 §3.4), so any state derived from comparing a fresh number with one fixed at the
// start of the connection (ISS, IRS) flips after 2^31 bytes. Driven at the Sender level with
// 64 KB (TSO-sized) segments and no payload copies on the wire side, so 2 GiB take about a
// second even in a Debug build.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "tcp/sender.hpp"
#include "tcp/timers.hpp"
#include "wire/tcp.hpp"

namespace utcp::tcp {
namespace {

using wire::SeqNum;

constexpr uint32_t kMss = 1460;
constexpr uint32_t kPeerWindow = 16u << 20;  // already scaled
constexpr SeqNum kPeerIss{0x12345678u};

struct SenderRig {
  Config cfg;
  Tcb tcb;
  Timers timers;
  Instant now = instant_from_us(1'000'000);
  std::vector<uint8_t> chunk = std::vector<uint8_t>(1u << 20, 0x5a);
  std::unique_ptr<Sender> s;

  explicit SenderRig(SeqNum iss) {
    cfg.send_buffer = 8u << 20;
    cfg.tso_max_bytes = 65535 - 80;
    cfg.timestamps = false;
    s = std::make_unique<Sender>(cfg);
    s->start(tcb, iss);
    // Our SYN goes out and the peer's SYN-ACK acknowledges it (the window in a SYN is not
    // scaled, but the rig sets the scaled value directly, as apply_peer_syn would).
    s->on_sent(tcb, timers, iss, 1, false, now);
    tcb.snd_wnd = kPeerWindow;
    tcb.max_snd_wnd = kPeerWindow;
    tcb.snd_wl1 = kPeerIss;
    tcb.snd_wl2 = iss;
    now += Duration(1000);
    wire::TcpRepr synack;
    synack.flags = wire::tcp_flag::kSyn | wire::tcp_flag::kAck;
    synack.seq = kPeerIss;
    synack.ack = iss + 1;
    synack.window = 0xffff;
    const AckResult r = s->on_ack(tcb, timers, synack, kPeerWindow, now);
    EXPECT_TRUE(r.syn_acked);
    s->on_synchronized(kMss);
  }

  void fill() {
    while (s->free_space() > 0) {
      const size_t n = std::min(s->free_space(), chunk.size());
      if (s->write(tcb, std::span<const uint8_t>(chunk.data(), n), false) == 0) break;
    }
  }
  // Sends what the windows allow; returns the end of each segment.
  std::vector<SeqNum> send_flight() {
    std::vector<SeqNum> ends;
    while (auto p = s->plan(tcb, now)) {
      s->commit(tcb, timers, *p, now);
      ends.push_back(p->seq + p->len);
    }
    return ends;
  }
  // A pure ACK from the peer (the same window every time, so a repeat is a duplicate ACK).
  AckResult ack(SeqNum ack_no) {
    wire::TcpRepr a;
    a.flags = wire::tcp_flag::kAck;
    a.seq = kPeerIss + 1;
    a.ack = ack_no;
    a.window = 0xffff;
    return s->on_ack(tcb, timers, a, kPeerWindow, now);
  }
  // One round: fill the send buffer, send what the windows allow, then acknowledge each
  // segment separately one millisecond later. Returns the bytes planned (0: the sender stalled).
  uint64_t round() {
    fill();
    const SeqNum from = tcb.snd_nxt;
    const std::vector<SeqNum> ends = send_flight();
    now += Duration(1000);
    for (SeqNum end : ends) ack(end);
    return ends.empty() ? 0 : ends.back().distance_from(from);
  }
  // Moves at least `bytes` more through the sender; false if it stalled.
  bool transfer(uint64_t bytes) {
    const uint64_t target = s->bytes_acked() + bytes;
    while (s->bytes_acked() < target) {
      if (round() == 0) return false;
    }
    return true;
  }
  // A flight goes out, the peer answers with three duplicate ACKs for SND.UNA (RFC 5681 §3.2:
  // the first segment was lost), then acknowledges everything. Returns whether fast recovery
  // began at the third duplicate.
  bool loss_then_repair() {
    fill();
    const std::vector<SeqNum> ends = send_flight();
    EXPECT_GE(ends.size(), 4u);
    now += Duration(1000);
    const SeqNum una = tcb.snd_una;
    for (int i = 0; i < 3; ++i) ack(una);
    const bool entered = s->in_recovery();
    now += Duration(1000);
    ack(tcb.snd_max);
    return entered;
  }
};

// Issue 16 §1: SYN-acknowledged was SND.UNA > ISS, false again after 2^31 bytes: the sender
// then planned nothing, with no retransmission and no timeout (a silent stall at 2 GiB).
TEST(SenderWrap, KeepsSendingPastTwoToThe31And32AcknowledgedBytes) {
  // ISS just below 2^32, so the raw sequence numbers also wrap at once.
  SenderRig rig(SeqNum(0xffffff00u));
  const uint64_t target = (uint64_t{1} << 32) + (8u << 20);
  bool behind_iss = false;  // SND.UNA more than 2^31 past ISS: "<" ISS modulo 2^32
  while (rig.s->bytes_acked() < target) {
    const uint64_t acked_before = rig.s->bytes_acked();
    ASSERT_GT(rig.round(), 0u) << "sender stalled after " << acked_before << " bytes acked";
    behind_iss = behind_iss || rig.tcb.snd_una < rig.tcb.iss;
  }
  EXPECT_TRUE(behind_iss);
  EXPECT_TRUE(rig.s->syn_acked());
  EXPECT_GE(rig.s->bytes_acked(), target);
  EXPECT_GE(rig.s->bytes_sent(), rig.s->bytes_acked());
  // Everything sent was acknowledged, and the 64-bit count agrees with the sequence space.
  EXPECT_EQ(rig.tcb.snd_una, rig.tcb.snd_max);
  EXPECT_EQ(static_cast<uint32_t>(rig.s->bytes_acked()),
            rig.tcb.snd_una.distance_from(rig.tcb.iss + 1));
  EXPECT_FALSE(rig.timers.running(TimerKind::kPersist));
}

// RFC 6582 §3.2 step 2: fast recovery may begin only once the cumulative ACK has covered the
// previous episode's recovery point. That point, kept after the episode, compared as ahead of
// SND.UNA again 2^31 bytes later, and for the next 2^31 bytes every loss waited for the RTO.
TEST(SenderWrap, FastRecoveryStillStartsTwoToThe31BytesAfterTheLastEpisode) {
  SenderRig rig(SeqNum(0x7fff0000u));
  ASSERT_TRUE(rig.transfer(4u << 20));  // out of the initial window
  ASSERT_TRUE(rig.loss_then_repair()) << "the first loss did not start fast recovery";
  ASSERT_FALSE(rig.s->in_recovery());
  ASSERT_TRUE(rig.transfer((uint64_t{1} << 31) + (16u << 20)));
  EXPECT_TRUE(rig.loss_then_repair()) << "no fast recovery 2^31 bytes after the last episode";
  EXPECT_EQ(rig.s->recovery().recoveries(), 2u);
  EXPECT_EQ(rig.s->rto_count(), 0u);
}

}  // namespace
}  // namespace utcp::tcp
