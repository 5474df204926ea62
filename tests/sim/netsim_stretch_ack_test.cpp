// SPDX-License-Identifier: BSD-2-Clause
// Slow start against a receiver that sends stretch ACKs (one ACK per N segments, as behind
// GRO/LRO): a 100 Mbit/s path with 40 ms of round-trip delay, 4 MiB from A to B, B's pure ACKs
// thinned by StretchAckDevice. Prints goodput per (controller, N); checks that stretch ACKs
// cost little against per-segment ACKs on the same path, which needs slow start to grow cwnd
// by what each ACK covers (docs/netsim.md, "Stretch ACKs").
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

#include "support/netsim.hpp"

namespace utcp::test {
namespace {

NetsimResult run_stretch(const char* cc, unsigned every, uint64_t seed) {
  NetsimPath p;
  p.rate_mbps = 100;
  p.rtt = Duration(40'000);
  p.queue_bytes = 256 * 1024;  // about half the path's bandwidth-delay product (500 KB)
  p.ack_every = every;
  return run_netsim(p, cc, seed, 4 << 20, std::chrono::seconds(120));
}

TEST(NetsimStretchAcks, SlowStartKeepsPaceWithStretchAcks) {
  const uint64_t seed = 7100;
  std::printf(
      "| controller | ACK every | goodput (Mbit/s) | time (s) | queue drops |\n"
      "|---|---|---|---|---|\n");
  for (const char* cc : {"newreno", "cubic", "cubic+hystart"}) {
    std::map<unsigned, double> goodput;
    for (unsigned every : {0u, 2u, 4u, 8u, 16u}) {
      const NetsimResult r = run_stretch(cc, every, seed);
      EXPECT_TRUE(r.complete && r.exact) << cc << " every " << every << " seed " << seed;
      goodput[every] = r.goodput_mbps;
      std::printf("| %s | %s | %.2f | %.3f | %llu |\n", cc,
                  every == 0 ? "as sent" : std::to_string(every).c_str(), r.goodput_mbps, r.seconds,
                  static_cast<unsigned long long>(r.queue_drops));
    }
    // One ACK per 8 or 16 segments costs less than 10% against B's own ACKs (per segment at
    // first, then per two). With RFC 3465's L = 2*SMSS it cost about half (25.8 of 55.3 Mbit/s
    // at 16), with RFC 9406's L = 8 (HyStart++) 15%.
    for (unsigned every : {8u, 16u}) {
      EXPECT_GE(goodput[every], 0.9 * goodput[0]) << cc << ": an ACK per " << every << " segments";
    }
  }
}

}  // namespace
}  // namespace utcp::test
