// SPDX-License-Identifier: BSD-2-Clause
// Send-buffer autotuning over a long path: two Stacks joined through fault injectors that add
// 20 ms each way (RTT 40 ms), virtual time, no loss. With the send buffer fixed at 256 KiB a
// sender has at most 256 KiB in flight, so a bulk transfer moves at most 256 KiB per RTT; with
// autotuning (the default) the flight must exceed that and the transfer finish well inside the
// fixed buffer's time. The same run with autotuning off shows the bound is real.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "support/sim_net.hpp"

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
  SimNetConfig cfg;
  // 20 ms each way behind a 1 Gbit/s bottleneck whose queue never fills: the rate spaces the
  // segments out as a real link would (without it a whole window arrives at one virtual
  // instant and draws a single stretch ACK).
  const dev::FaultConfig delay{
      .delay = std::chrono::milliseconds(20), .rate_mbps = 1000, .rate_queue_bytes = 64 << 20};
  cfg.faults_a = dev::FaultInjectorConfig{.tx = delay, .rx = {}, .seed = seed};
  cfg.faults_b = dev::FaultInjectorConfig{.tx = delay, .rx = {}, .seed = seed + 1};
  // The injector releases a whole window at one virtual instant: the link must queue it all
  // (this path has no bottleneck, it tests the sender's buffer only).
  cfg.link.queue_packets = 1 << 16;
  cfg.a.tcp.send_buffer = 256 * 1024;
  cfg.a.tcp.send_buffer_max = send_buffer_max;
  SimNet net(cfg);
  SimPair p = establish(net, 5100);
  Outcome out;
  if (p.server == kNoSocket) return out;

  std::vector<uint8_t> chunk(64 * 1024);
  for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<uint8_t>(i * 7);
  size_t written = 0;
  size_t received = 0;
  std::vector<uint8_t> buf(64 * 1024);
  const Instant start = net.now();
  out.done = net.run_until(
      [&] {
        std::error_code ec;
        while (written < bytes) {
          const size_t off = written % chunk.size();
          const size_t len = std::min(chunk.size() - off, bytes - written);
          const size_t n = net.a().send(p.client, std::span(chunk).subspan(off, len), ec);
          if (n == 0) break;
          written += n;
        }
        for (;;) {
          const size_t n = net.b().recv(p.server, buf, ec);
          if (n == 0) break;
          for (size_t i = 0; i < n; ++i) {
            if (buf[i] != static_cast<uint8_t>(((received + i) % chunk.size()) * 7)) {
              ADD_FAILURE() << "byte " << received + i << " differs";
              return true;
            }
          }
          received += n;
        }
        if (auto info = net.a().tcp_info(p.client)) {
          out.max_in_flight = std::max(out.max_in_flight, info->unacked);
          out.final_cwnd = info->cwnd;
        }
        return received == bytes;
      },
      std::chrono::seconds(120));
  out.elapsed = net.now() - start;
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
