// SPDX-License-Identifier: BSD-2-Clause
// Fairness: four flows from A to B share one bottleneck; over the measurement window each gets
// a similar share (Jain's index >= 0.9) with NewReno and with CUBIC. Every byte is checked.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "support/netsim.hpp"

namespace utcp::test {
namespace {

// Each flow sends a seeded random sequence with period kPeriod (prime), read from a doubled
// table so any slice of up to kPeriod bytes is contiguous.
constexpr size_t kPeriod = 65521;
size_t phase(size_t flow, uint64_t offset) {
  return (offset + flow * 7919) % kPeriod;
}

struct Flow {
  SocketId client = kNoSocket;
  SocketId server = kNoSocket;
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t mark = 0;  // received at the start of the measurement window
  bool corrupt = false;
};

double jain(const std::vector<double>& x) {
  double s = 0, s2 = 0;
  for (double v : x) {
    s += v;
    s2 += v * v;
  }
  return s2 > 0 ? s * s / (static_cast<double>(x.size()) * s2) : 0;
}

void fairness(const char* cc, uint64_t seed) {
  std::printf("fairness cc=%s seed=%llu\n", cc, static_cast<unsigned long long>(seed));
  NetsimPath p;
  p.rate_mbps = 5;
  p.rtt = Duration(20'000);
  p.queue_bytes = 48 * 1024;
  SimNet net(netsim_config(p, cc, seed));
  std::error_code ec;
  const SocketId l = net.b().listen(7100, ec);
  ASSERT_FALSE(ec);
  std::vector<Flow> flows(4);
  for (auto& f : flows) f.client = net.a().connect(net.b().config().address, 7100, ec);
  ASSERT_FALSE(ec);
  const auto table = [&] {
    auto t = netsim_bytes(kPeriod, seed);
    t.insert(t.end(), t.begin(), t.end());
    return t;
  }();
  std::vector<uint8_t> in(64 * 1024);
  size_t accepted = 0;
  auto pump = [&] {
    while (accepted < flows.size()) {
      const SocketId s = net.b().accept(l, ec);
      if (s == kNoSocket) break;
      // Match by the client's port.
      for (auto& f : flows) {
        if (net.a().local_endpoint(f.client).port == net.b().remote_endpoint(s).port) f.server = s;
      }
      ++accepted;
    }
    for (size_t i = 0; i < flows.size(); ++i) {
      Flow& f = flows[i];
      if (!(net.a().readiness(f.client) & ready::kConnected)) continue;
      for (;;) {
        const auto chunk = std::span(table).subspan(phase(i, f.sent), 16 * 1024);
        const size_t n = net.a().send(f.client, chunk, ec);
        f.sent += n;
        if (n < chunk.size()) break;
      }
      if (f.server == kNoSocket) continue;
      for (;;) {
        const size_t n = net.b().recv(f.server, in, ec);
        if (n == 0) break;
        if (std::memcmp(in.data(), table.data() + phase(i, f.received), n) != 0) f.corrupt = true;
        f.received += n;
      }
    }
    return false;
  };
  // Warm-up, then the measurement window.
  net.run_until(pump, std::chrono::seconds(5));
  for (auto& f : flows) f.mark = f.received;
  constexpr double kWindowSeconds = 15;
  net.run_until(pump, std::chrono::seconds(15));
  std::vector<double> share;
  double total = 0;
  for (size_t i = 0; i < flows.size(); ++i) {
    const double mbps =
        static_cast<double>(flows[i].received - flows[i].mark) * 8 / kWindowSeconds / 1e6;
    share.push_back(mbps);
    total += mbps;
    std::printf("  flow %zu: %.3f Mbit/s\n", i, mbps);
    EXPECT_FALSE(flows[i].corrupt) << "flow " << i << " delivered wrong bytes";
    EXPECT_NE(flows[i].server, kNoSocket);
  }
  const double j = jain(share);
  std::printf("  total %.3f Mbit/s, Jain index %.3f\n", total, j);
  EXPECT_GE(j, 0.9) << cc << " seed " << seed;
  EXPECT_GT(total, 0.6 * p.rate_mbps) << "the flows together should fill most of the link";
}

TEST(NetsimFairness, FourNewRenoFlows) {
  fairness("newreno", 4242);
}
TEST(NetsimFairness, FourCubicFlows) {
  fairness("cubic", 4343);
}

}  // namespace
}  // namespace utcp::test
