// SPDX-License-Identifier: BSD-2-Clause
// CUBIC after a slow-start overshoot on the path of bench/delay-throughput.sh: two Stacks joined
// through fault injectors that add 20 ms each way (RTT 40 ms), A's holding at most 1024 packets
// (utcp-cat --delay 20), paced sender, virtual time, no random loss. Slow start overflows the
// line; a paced cwnd grows to about twice the flight before the loss is seen, and CUBIC keeps
// that cwnd as W_max (RFC 9438 §4.6). The next loss, in congestion avoidance, comes below it, and
// RFC 9438 §4.7 fast convergence lowers W_max by another 15 % as if a competing flow had
// arrived, so CUBIC plateaus early and climbs for seconds. The default "cubic" skips fast
// convergence against a W_max left by slow start (cubic.cpp reduce()); "cubic-rfc9438" is the
// RFC as written. Same transfer, byte-exact, both ways: the default must finish sooner with no
// more queue drops. (The ACK-train exit, on in both, never fires here: the line drops without
// spreading the ACKs, so a paced round's train lasts about srtt / 2, docs/performance.md.)
#include <gtest/gtest.h>

#include <cstdio>

#include "support/delay_line.hpp"

namespace utcp::test {
namespace {

struct Outcome {
  bool done = false;
  Duration elapsed{0};
  uint64_t queue_dropped = 0;
  uint64_t fast_recoveries = 0;
  std::string cc;
};

Outcome transfer(const char* cc, size_t bytes, uint64_t seed) {
  std::printf("fault seed %llu, cc %s\n", static_cast<unsigned long long>(seed), cc);
  SimNetConfig cfg =
      delay_line_config({.delay = std::chrono::milliseconds(20), .queue_packets = 1024}, seed);
  cfg.a.tcp.congestion_control = cc;
  SimNet net(cfg);
  SimPair p = establish(net, 5300);
  Outcome out;
  if (p.server == kNoSocket) return out;

  const OneWayResult r = one_way_transfer(net, p, bytes, {.mul = 29, .add = 3}, [] {});
  out.done = r.done;
  out.elapsed = r.elapsed;
  const size_t received = r.received;
  out.queue_dropped = net.faults_a()->tx_counters().queue_dropped;
  if (auto info = net.a().tcp_info(p.client)) {
    out.fast_recoveries = info->fast_recoveries;
    out.cc = info->congestion_control;
  }
  std::printf("  %s: %zu bytes in %lld ms (%.0f Mbit/s), %llu queue drops, %llu fast recoveries\n",
              out.done ? "done" : "NOT DONE", received,
              static_cast<long long>(out.elapsed.count() / 1000),
              static_cast<double>(received) * 8 / static_cast<double>(out.elapsed.count()),
              static_cast<unsigned long long>(out.queue_dropped),
              static_cast<unsigned long long>(out.fast_recoveries));
  return out;
}

TEST(SlowStartDelayLine, NoFastConvergenceAgainstASlowStartOvershoot) {
  // Long enough for the second loss (about 3.5 s in) and the climb after it.
  constexpr size_t kBytes = 256 << 20;
  const uint64_t seed = 21;
  const Outcome rfc = transfer("cubic-rfc9438", kBytes, seed);
  const Outcome def = transfer("cubic", kBytes, seed);
  ASSERT_TRUE(rfc.done) << "cubic-rfc9438 transfer did not complete";
  ASSERT_TRUE(def.done) << "cubic transfer did not complete";
  EXPECT_EQ(rfc.cc, "cubic-rfc9438");
  EXPECT_EQ(def.cc, "cubic");
  // Both overshoot in slow start and lose again in avoidance (measured, 256 MiB: two fast
  // recoveries and 199 queue drops each; 6.29 s as the RFC is written, 6.17 s by default).
  EXPECT_GE(rfc.fast_recoveries, 2u);
  EXPECT_GE(def.fast_recoveries, 2u);
  EXPECT_LE(def.queue_dropped, rfc.queue_dropped);
  EXPECT_LT(def.elapsed, rfc.elapsed);
}

}  // namespace
}  // namespace utcp::test
