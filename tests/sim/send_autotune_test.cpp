// SPDX-License-Identifier: BSD-2-Clause
// Send-buffer autotuning over a long path: two Stacks joined through fault injectors that add
// 20 ms each way (RTT 40 ms), virtual time, no loss. With the send buffer fixed at 256 KiB a
// sender has at most 256 KiB in flight, so a bulk transfer moves at most 256 KiB per RTT; with
// autotuning (the default) the flight must exceed that and the transfer finish well inside the
// fixed buffer's time. The same run with autotuning off shows the bound is real.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "support/delay_line.hpp"

namespace utcp::test {
namespace {

struct Outcome {
  bool done = false;
  uint32_t max_in_flight = 0;
  Duration elapsed{0};
  uint32_t final_cwnd = 0;
  uint64_t dropped = 0;
};

Outcome one_way_transfer(size_t send_buffer_max, size_t bytes) {
  const uint64_t seed = 7;
  std::printf("fault seed %llu\n", static_cast<unsigned long long>(seed));
  // 20 ms each way behind a 1 Gbit/s bottleneck whose queue never fills: the rate spaces the
  // segments out as a real link would (without it a whole window arrives at one virtual
  // instant and draws a single stretch ACK). The link never drops (this path has no
  // bottleneck, it tests the sender's buffer only).
  SimNetConfig cfg = delay_line_config(
      {.delay = std::chrono::milliseconds(20), .rate_mbps = 1000, .rate_queue_bytes = 64 << 20},
      seed);
  cfg.a.tcp.send_buffer = 256 * 1024;
  cfg.a.tcp.send_buffer_max = send_buffer_max;
  SimNet net(cfg);
  SimPair p = establish(net, 5100);
  Outcome out;
  if (p.server == kNoSocket) return out;

  const OneWayResult r = one_way_transfer(net, p, bytes, {.mul = 7, .add = 0}, [&] {
    if (auto info = net.a().tcp_info(p.client)) {
      out.max_in_flight = std::max(out.max_in_flight, info->unacked);
      out.final_cwnd = info->cwnd;
    }
  });
  out.done = r.done;
  out.elapsed = r.elapsed;
  out.dropped = net.link().a_to_b().dropped_full + net.link().b_to_a().dropped_full;
  return out;
}

TEST(SendAutotune, FlightOnA40msPathIsNotLimitedTo256KiB) {
  constexpr size_t kBytes = 16 << 20;
  constexpr uint32_t kFixed = 256 * 1024;
  // 256 KiB per 40 ms round trip: the fastest a fixed 256 KiB buffer can move kBytes.
  const Duration fixed_bound = std::chrono::milliseconds(40) * (kBytes / kFixed);

  const Outcome tuned = one_way_transfer(tcp::Config{}.send_buffer_max, kBytes);
  ASSERT_TRUE(tuned.done) << "transfer did not complete";
  std::printf("autotuned: %lld ms, max in flight %u, cwnd %u\n",
              static_cast<long long>(tuned.elapsed.count() / 1000), tuned.max_in_flight,
              tuned.final_cwnd);
  EXPECT_EQ(tuned.dropped, 0u);
  EXPECT_GT(tuned.max_in_flight, kFixed);
  EXPECT_LT(tuned.elapsed, fixed_bound / 2);

  const Outcome fixed = one_way_transfer(0, kBytes);
  ASSERT_TRUE(fixed.done) << "transfer did not complete";
  std::printf("fixed 256 KiB: %lld ms, max in flight %u, cwnd %u\n",
              static_cast<long long>(fixed.elapsed.count() / 1000), fixed.max_in_flight,
              fixed.final_cwnd);
  EXPECT_LE(fixed.max_in_flight, kFixed);
  EXPECT_GE(fixed.elapsed, fixed_bound);
  // RFC 7661: the buffer-limited flow did not inflate cwnd far beyond what it used.
  EXPECT_LE(fixed.final_cwnd, 2 * kFixed + 4 * 1460);
}

}  // namespace
}  // namespace utcp::test
