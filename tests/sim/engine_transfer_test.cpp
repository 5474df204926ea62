// SPDX-License-Identifier: BSD-2-Clause
// Two engines back to back on a virtual link: bulk transfer both ways at once, then a full
// close. Every byte is checked against the sender's stream (exactly once, in order) and an
// FNV-1a checksum of each direction is compared.
//
// Sizes: 100 MB each way over the lossless link (a few seconds even under ASan). The lossy link
// (5% loss each way plus reordering) moves 4 MB each way for each of 8 seeds: loss recovery is
// Reno (NewReno/SACK come later), so many losses end in timeouts, which cost virtual time but
// little CPU; 8 seeds cover far more loss patterns than one 100 MB run would.
#include <gtest/gtest.h>

#include <cstdio>

#include "support/engine_pair.hpp"

namespace utcp::test {
namespace {

using wire::SeqNum;

struct Result {
  StreamCheck ab, ba;
  bool finished = false;
  uint64_t zero_windows = 0;
};

Result transfer(uint64_t bytes, const LinkConfig& link, const tcp::Config& cfg, SeqNum iss_a,
                SeqNum iss_b, Duration limit, size_t read_chunk = 0) {
  EnginePair p(cfg, cfg, link);
  Result r;
  r.ab.read_chunk = read_chunk;
  r.ab.read_period = Duration(10'000);
  r.ab.total = bytes;
  r.ab.salt = 11;
  r.ba.total = bytes;
  r.ba.salt = 977;
  p.b.listen(iss_b);
  p.a.open_active(p.now, iss_a);
  r.finished = p.run(r.ab, r.ba, limit);
  r.zero_windows = p.zero_windows_to_a;
  std::printf("seed=%llu segments=%llu dropped=%llu virtual=%.3fs a=%s b=%s\n",
              static_cast<unsigned long long>(link.seed),
              static_cast<unsigned long long>(p.segments),
              static_cast<unsigned long long>(p.dropped), to_us(p.now) / 1e6,
              std::string(tcp::to_string(p.a.state())).c_str(),
              std::string(tcp::to_string(p.b.state())).c_str());
  EXPECT_EQ(p.bad_parses, 0u);
  return r;
}

void expect_complete(const Result& r) {
  EXPECT_TRUE(r.finished);
  for (const StreamCheck* s : {&r.ab, &r.ba}) {
    EXPECT_EQ(s->written, s->total);
    EXPECT_EQ(s->read, s->total);
    EXPECT_EQ(s->mismatches, 0u);
    EXPECT_EQ(s->fnv_sent, s->fnv_received);
    EXPECT_TRUE(s->eof_seen);
  }
}

TEST(EngineTransfer, HundredMegabytesEachWayLossless) {
  LinkConfig link;
  link.seed = 1;
  // ISNs just below 2^32 so both directions wrap early in the transfer.
  const Result r = transfer(100'000'000, link, tcp::Config{}, SeqNum(0xfff00000u),
                            SeqNum(0xffff0000u), std::chrono::hours(1));
  expect_complete(r);
}

TEST(EngineTransfer, LossyReorderingLinkManySeeds) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE(seed);
    LinkConfig link;
    link.seed = seed;
    link.loss = 0.05;
    link.reorder = 0.1;
    link.reorder_extra = Duration(5'000);
    const Result r =
        transfer(4'000'000, link, tcp::Config{}, SeqNum(static_cast<uint32_t>(seed * 7919)),
                 SeqNum(0xfffffff0u), std::chrono::hours(10));
    expect_complete(r);
  }
}

TEST(EngineTransfer, HundredMegabytesEachWayLossy) {
  // One long lossy run: about 700 s of virtual time, a few seconds of CPU.
  LinkConfig link;
  link.seed = 42;
  link.loss = 0.05;
  link.reorder = 0.1;
  const Result r = transfer(100'000'000, link, tcp::Config{}, SeqNum(0x7fffff00u),
                            SeqNum(0xfffff000u), std::chrono::hours(24));
  expect_complete(r);
}

TEST(EngineTransfer, SlowReaderClosesTheWindow) {
  // B reads 4 KiB every 10 ms from a 16 KiB buffer: A meets zero windows, probes and window
  // updates all through the transfer, on a lossy link.
  tcp::Config cfg;
  cfg.recv_buffer = 16 * 1024;
  for (uint64_t seed = 7; seed < 10; ++seed) {
    SCOPED_TRACE(seed);
    LinkConfig link;
    link.seed = seed;
    link.loss = 0.02;
    link.reorder = 0.05;
    const Result r =
        transfer(1'000'000, link, cfg, SeqNum(5), SeqNum(6), std::chrono::hours(10), 4096);
    expect_complete(r);
  }
}

TEST(EngineTransfer, LossyLinkWithoutOptions) {
  // No window scaling or timestamps: Karn-timed RTT and a 64 KiB window.
  tcp::Config cfg;
  cfg.window_scaling = false;
  cfg.timestamps = false;
  cfg.recv_buffer = 65535;
  for (uint64_t seed = 100; seed < 104; ++seed) {
    SCOPED_TRACE(seed);
    LinkConfig link;
    link.seed = seed;
    link.loss = 0.05;
    link.reorder = 0.1;
    const Result r = transfer(1'000'000, link, cfg, SeqNum(1), SeqNum(2), std::chrono::hours(10));
    expect_complete(r);
  }
}

}  // namespace
}  // namespace utcp::test
