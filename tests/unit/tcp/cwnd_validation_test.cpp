// SPDX-License-Identifier: BSD-2-Clause
// Congestion-window validation (RFC 7661) and send-buffer autotuning: an application-limited
// or buffer-limited sender does not grow cwnd; a cwnd that stays unused for the non-validated
// period is halved; the send buffer grows with cwnd and the peer's window unless pinned.
#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"
#include "tcp/cubic.hpp"
#include "tcp/cwnd_validation.hpp"
#include "tcp/snd_autotune.hpp"

namespace utcp::test {
namespace {

// The peer acknowledges everything sent so far.
void ack_all(Harness& h) {
  h.send(seg().at(R(1)).ack(h.conn.tcb().snd_max).win(64000));
}

// Writes what the send buffer takes, lets it all go out, acknowledges each segment (one ACK
// per segment, so slow start grows cwnd by at most a segment per ACK); `rounds` times.
void bulk_rounds(Harness& h, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    h.app_send_bytes(pattern(h.conn.send_space()));
    std::vector<SeqNum> ends;
    while (auto s = h.pop()) ends.push_back(s->seq + static_cast<uint32_t>(s->payload.size()));
    h.advance(Duration(20'000));
    for (const SeqNum end : ends) h.send(seg().at(R(1)).ack(end).win(64000));
  }
}

class CwndValidationTest : public ::testing::TestWithParam<const char*> {
 protected:
  tcp::Config config() const {
    tcp::Config cfg = plain_config();
    cfg.congestion_control = GetParam();
    cfg.nodelay = true;  // every small write goes at once: the sender is purely app-limited
    return cfg;
  }
};

TEST_P(CwndValidationTest, ApplicationLimitedSenderKeepsCwndAtTheInitialWindow) {
  Harness h(config());
  h.establish();
  const uint32_t iw = h.conn.sender().cc().cwnd();
  // 1000 bytes per round trip: every ACK is new data, but the flight never nears cwnd / 2.
  for (int i = 0; i < 2000; ++i) {
    ASSERT_EQ(h.app_send_bytes(pattern(1000)), 1000u);
    while (h.pop()) {
    }
    h.advance(Duration(20'000));
    ack_all(h);
  }
  EXPECT_EQ(h.conn.sender().bytes_acked(), 2'000'000u);
  // Without validation slow start would have added 1000 bytes per ACK (2 MB in all).
  EXPECT_EQ(h.conn.sender().cc().cwnd(), iw);
}

TEST_P(CwndValidationTest, BufferLimitedSenderGrowsCwndOnlyToTwiceItsFlight) {
  Harness h(config());
  h.establish();
  const uint32_t iw = h.conn.sender().cc().cwnd();
  // The 64000-byte send buffer (and the peer's 64000-byte window) bound the flight.
  bulk_rounds(h, 200);
  const uint32_t cwnd = h.conn.sender().cc().cwnd();
  EXPECT_GT(cwnd, iw) << "a flow that fills its cwnd grows it";
  EXPECT_LE(h.conn.sender().cwnd_validation().max_flight(), 64000u);
  // RFC 7661 §4.3: growth stops once the flight is below half of cwnd (one ACK's growth of
  // slack: the last ACK that was allowed to grow it).
  EXPECT_LE(cwnd, 2u * 64000u + 2u * 1460u);
}

TEST_P(CwndValidationTest, CwndUnusedForTheNonValidatedPeriodIsHalved) {
  Harness h(config());
  h.establish();
  bulk_rounds(h, 200);
  const uint32_t before = h.conn.sender().cc().cwnd();
  const uint32_t ssthresh_before = h.conn.sender().cc().ssthresh();
  ASSERT_GT(before, 100'000u);
  // Then six minutes of 1000 bytes every 100 ms: the flight stays far below cwnd / 2.
  for (int i = 0; i < 3600; ++i) {
    h.app_send_bytes(pattern(1000));
    while (h.pop()) {
    }
    h.advance(Duration(100'000));
    ack_all(h);
  }
  const uint32_t after = h.conn.sender().cc().cwnd();
  // RFC 7661 §4.4: once (six minutes > the five-minute NVP): cwnd = max(cwnd / 2, IW),
  // ssthresh = max(ssthresh, 3/4 cwnd).
  EXPECT_EQ(after, before / 2);
  EXPECT_GE(h.conn.sender().cc().ssthresh(), std::min<uint64_t>(ssthresh_before, before * 3 / 4));
}

INSTANTIATE_TEST_SUITE_P(Controllers, CwndValidationTest, ::testing::Values("reno", "cubic"));

TEST(CwndValidation, ValidatedWhenTheRecentFlightReachesHalfOfCwnd) {
  tcp::CwndValidation v;
  const wire::SeqNum una{1000};
  v.on_transmit(5000, una + 5000);
  EXPECT_TRUE(v.validated(10000));
  EXPECT_FALSE(v.validated(10001));
  // The round ends when SND.UNA passes 6000; a smaller flight in the next round still counts
  // the previous round's maximum until that round ends too.
  v.on_ack(una + 6000, una + 7000, Instant{} + Duration(1000));
  v.on_transmit(1000, una + 7000);
  EXPECT_EQ(v.max_flight(), 5000u);
  v.on_ack(una + 7000, una + 7000, Instant{} + Duration(2000));
  EXPECT_EQ(v.max_flight(), 1000u);
}

TEST(CwndValidation, CubicDoesNotCountTimeTheFlowLeftCwndUnused) {
  // Two CUBIC controllers in avoidance after the same reduction; both see an ACK, then one
  // ten seconds later. For one the ten seconds were application-limited (the sender told it):
  // RFC 9438 §5.8, t excludes them, so its W_cubic target did not run ahead.
  auto avoidance = [] {
    tcp::CubicCongestion cc;
    cc.init(1000, 10);
    cc.on_fast_retransmit(200'000, Instant{});
    cc.on_recovery_exit();
    cc.on_rtt_sample(Duration(40'000), Duration(40'000));
    cc.on_ack(1000, 140'000, Instant{} + Duration(1'000'000));  // starts the epoch
    return cc;
  };
  tcp::CubicCongestion busy = avoidance();
  tcp::CubicCongestion idle = avoidance();
  idle.on_not_cwnd_limited(Duration(10'000'000));
  const Instant later = Instant{} + Duration(11'000'000);
  busy.on_ack(10'000, 140'000, later);
  idle.on_ack(10'000, 140'000, later);
  EXPECT_GT(busy.cwnd(), idle.cwnd() + 3000);  // W_cubic(10 s) is far above W_max
  EXPECT_LT(idle.cwnd(), 141'000u);            // one ACK one second into the epoch: little
}

TEST(SndAutotune, GrowsToTwiceTheUsableWindowUpToTheMaximum) {
  tcp::SndAutotune a(64 * 1024, 1 << 20);
  EXPECT_FALSE(a.on_ack(10'000, 1 << 20, 1000));  // 2 * 10000 + 4000 < 64 KiB: no change
  EXPECT_EQ(a.on_ack(100'000, 1 << 20, 1000), 204'000u);
  EXPECT_EQ(a.on_ack(400'000, 150'000, 1000), 304'000u);  // the peer's window bounds it
  EXPECT_FALSE(a.on_ack(50'000, 1 << 20, 1000));          // never shrinks
  EXPECT_EQ(a.on_ack(4'000'000, 4'000'000, 1000), size_t{1} << 20);
  EXPECT_FALSE(a.on_ack(8'000'000, 8'000'000, 1000));
}

TEST(SndAutotune, AnExplicitSizeStopsIt) {
  tcp::SndAutotune a(64 * 1024, 1 << 20);
  a.pin(8000);
  EXPECT_FALSE(a.on_ack(400'000, 400'000, 1000));
  EXPECT_EQ(a.capacity(), 8000u);
}

TEST(SndAutotune, ConnectionSendBufferFollowsCwndUnlessSetExplicitly) {
  tcp::Config cfg = plain_config();
  cfg.send_buffer = 16'000;
  cfg.send_buffer_max = 1 << 20;
  Harness h(cfg);
  h.establish();
  bulk_rounds(h, 30);
  // Twice min(cwnd, peer window 64000) plus four segments of slack.
  EXPECT_EQ(h.conn.sender().capacity(), 2u * 64000u + 4u * 1460u);

  Harness pinned(cfg);
  pinned.establish();
  pinned.conn.set_send_buffer(16'000);  // as SO_SNDBUF: the application's size holds
  bulk_rounds(pinned, 30);
  EXPECT_EQ(pinned.conn.sender().capacity(), 16'000u);
  // At most one buffer per round trip: the pinned sender moved 16000 bytes a round at most.
  EXPECT_LE(pinned.conn.sender().cwnd_validation().max_flight(), 16'000u);
  EXPECT_LE(pinned.conn.sender().bytes_acked(), 30u * 16'000u);
  EXPECT_GT(h.conn.sender().bytes_acked(), 3u * pinned.conn.sender().bytes_acked());
}

}  // namespace
}  // namespace utcp::test
