// SPDX-License-Identifier: BSD-2-Clause
// Network-simulation suite: goodput per (loss, RTT, controller) over a 10 Mbit/s bottleneck,
// byte-exact delivery, and a regression check against the recorded table
// (tests/data/netsim_baseline.csv, shown in docs/netsim.md): a run fails when its goodput falls
// more than 20% below the recorded value for the same seed. UTCP_NETSIM_RECORD=1 rewrites both.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "support/netsim.hpp"

namespace utcp::test {
namespace {

struct Row {
  double loss;
  double reorder;
  int rtt_ms;
  const char* cc;
};

std::vector<Row> grid() {
  std::vector<Row> rows;
  for (double loss : {0.0, 0.005, 0.02, 0.05}) {
    for (int rtt : {10, 60}) {
      for (const char* cc : {"newreno", "cubic"}) rows.push_back({loss, 0.0, rtt, cc});
    }
  }
  for (const char* cc : {"newreno", "cubic"}) rows.push_back({0.0, 0.03, 20, cc});
  return rows;
}

std::string key(const Row& r) {
  char b[96];
  std::snprintf(b, sizeof b, "%.3f,%.3f,%d,%s", r.loss, r.reorder, r.rtt_ms, r.cc);
  return b;
}

uint64_t seed_of(size_t i) {
  return 1000 + 17 * i;
}

std::map<std::string, double> load_baseline(const std::string& path) {
  std::map<std::string, double> m;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto last = line.rfind(',');
    if (last == std::string::npos) continue;
    m[line.substr(0, last)] = std::stod(line.substr(last + 1));
  }
  return m;
}

TEST(Netsim, GoodputTableByteExactAndNoRegression) {
  const std::string data_dir = UTCP_TEST_DATA_DIR;
  const std::string baseline_path = data_dir + "/netsim_baseline.csv";
  const bool record = std::getenv("UTCP_NETSIM_RECORD") != nullptr;
  const auto baseline = load_baseline(baseline_path);
  const auto rows = grid();
  constexpr size_t kBytes = 1 << 20;

  std::ostringstream csv, md;
  csv << "# loss,reorder,rtt_ms,cc,goodput_mbps (seeded; see tests/sim/netsim_test.cpp)\n";
  md << "| loss | reorder | RTT | controller | seed | goodput (Mbit/s) | time (s) | injected drops "
        "| "
        "queue drops |\n|---|---|---|---|---|---|---|---|---|\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    const uint64_t seed = seed_of(i);
    NetsimPath p;
    p.rate_mbps = 10;
    p.rtt = Duration(row.rtt_ms * 1000);
    p.queue_bytes = 64 * 1024;
    p.loss = row.loss;
    p.reorder = row.reorder;
    const auto r = run_netsim(p, row.cc, seed, kBytes, std::chrono::seconds(300));
    std::printf(
        "netsim loss=%.3f reorder=%.3f rtt=%dms cc=%-8s seed=%llu goodput=%.3f Mbit/s "
        "t=%.2fs drops=%llu qdrops=%llu\n",
        row.loss, row.reorder, row.rtt_ms, row.cc, static_cast<unsigned long long>(seed),
        r.goodput_mbps, r.seconds, static_cast<unsigned long long>(r.dropped),
        static_cast<unsigned long long>(r.queue_drops));
    EXPECT_TRUE(r.complete) << key(row) << " seed " << seed;
    EXPECT_TRUE(r.exact) << key(row) << " seed " << seed;
    char line[256];
    std::snprintf(
        line, sizeof line, "| %.1f%% | %.1f%% | %d ms | %s | %llu | %.2f | %.2f | %llu | %llu |\n",
        row.loss * 100, row.reorder * 100, row.rtt_ms, row.cc,
        static_cast<unsigned long long>(seed), r.goodput_mbps, r.seconds,
        static_cast<unsigned long long>(r.dropped), static_cast<unsigned long long>(r.queue_drops));
    md << line;
    csv << key(row) << "," << r.goodput_mbps << "\n";
    if (!record) {
      auto it = baseline.find(key(row));
      ASSERT_NE(it, baseline.end()) << "no recorded goodput for " << key(row) << " in "
                                    << baseline_path << " (UTCP_NETSIM_RECORD=1 records one)";
      EXPECT_GE(r.goodput_mbps, 0.8 * it->second)
          << key(row) << " seed " << seed << ": goodput fell more than 20% below the table";
    }
  }
  std::printf("%s", md.str().c_str());
  if (record) {
    std::ofstream(baseline_path) << csv.str();
    std::ofstream(data_dir + "/netsim_table.md") << md.str();
  }
}

}  // namespace
}  // namespace utcp::test
