// SPDX-License-Identifier: BSD-2-Clause
// Seeded random mutations of valid datagrams: Ipv4Input must never crash, must keep its
// reassembly within bounds, and any reply it builds must be a well-formed datagram. Runs
// under ASan/UBSan in the sanitizer build. Prints the seed so a failure replays.
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "base/prng.hpp"
#include "ip/ipv4_input.hpp"
#include "unit/ip/ip_test_packets.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace utcp::ip {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace)

std::vector<std::vector<uint8_t>> seed_packets() {
  std::vector<std::vector<uint8_t>> seeds;
  seeds.push_back(ip_packet({.protocol = 1}, icmp_message(8, 0, 0x00010001, pattern(40))));
  seeds.push_back(ip_packet({.protocol = 6}, tcp_header(80, 4000, 1)));
  seeds.push_back(ip_packet({.protocol = 17}, pattern(30)));
  auto quoted = ip_packet({.src = kLocal, .dst = kPeer, .protocol = 6}, tcp_header(4000, 80, 9));
  seeds.push_back(ip_packet({.src = kRouter, .protocol = 1}, icmp_message(3, 4, 1400, quoted)));
  seeds.push_back(ip_packet({.protocol = 6, .id = 5, .mf = true}, pattern(64)));
  seeds.push_back(ip_packet({.protocol = 6, .id = 5, .frag_offset = 64}, pattern(24)));
  seeds.push_back(
      ip_packet({.protocol = 1, .id = 6, .mf = true}, icmp_message(8, 0, 1, pattern(56))));
  return seeds;
}

TEST(Ipv4InputRobustness, RandomMutationsNeverBreakInvariants) {
  const uint64_t seed = 20261124;
  std::printf("robustness seed %llu\n", static_cast<unsigned long long>(seed));
  Prng rng(seed);
  Ipv4Output out;
  const ReassemblyConfig reasm{
      .max_trains = 8, .max_bytes = 32 * 1024, .timeout = std::chrono::milliseconds(20)};
  Ipv4Input in({.local_addresses = {kLocal}, .reassembly = reasm, .icmp_errors_per_second = 1000},
               out);
  std::vector<uint8_t> reply(1500);
  const auto seeds = seed_packets();
  size_t replies = 0, tcp = 0;
  for (int i = 0; i < 200'000; ++i) {
    std::vector<uint8_t> p = seeds[rng.below(seeds.size())];
    const int mutations = static_cast<int>(rng.below(4));
    for (int m = 0; m < mutations; ++m) {
      switch (rng.below(4)) {
        case 0:
          p[rng.below(p.size())] ^= static_cast<uint8_t>(1 + rng.below(255));
          break;
        case 1:
          p.resize(rng.below(p.size() + 1));
          break;
        case 2:
          p.resize(p.size() + rng.below(64), static_cast<uint8_t>(rng.next()));
          break;
        case 3:  // random fragment fields with a consistent header, to reach reassembly
          if (p.size() >= 20) {
            put16(p, 4, static_cast<uint16_t>(rng.below(4)));
            put16(p, 6, static_cast<uint16_t>(rng.below(0x4000)));
          }
          break;
      }
    }
    // Usually repair the header checksum so mutations get past the first check.
    if (p.size() >= 20 && rng.chance(0.8)) {
      const size_t ihl = std::min<size_t>(p.size(), size_t{static_cast<uint8_t>(p[0] & 0x0f)} * 4);
      if (ihl >= 12) {
        put16(p, 10, 0);
        put16(p, 10, wire::internet_checksum(std::span(p).first(ihl)));
      }
    }
    const InputResult r = in.input(p, instant_from_us(i * 1000), reply);
    ASSERT_LE(in.reassembler().bytes_held(), reasm.max_bytes) << "packet " << i;
    ASSERT_LE(in.reassembler().trains(), reasm.max_trains) << "packet " << i;
    if (r.action == InputAction::kReply) {
      ++replies;
      auto parsed = wire::Ipv4Packet::parse(r.reply);
      ASSERT_TRUE(parsed.ok()) << "packet " << i;
      ASSERT_EQ(parsed->src(), kLocal);
      ASSERT_TRUE(wire::checksum_ok(parsed->payload())) << "packet " << i;
    } else if (r.action == InputAction::kTcp) {
      ++tcp;
      ASSERT_EQ(r.dst, kLocal);
    }
  }
  std::printf("replies %zu, tcp %zu, reassembled %llu, overlaps %llu\n", replies, tcp,
              static_cast<unsigned long long>(in.counters().get(IpCounter::frag_reassembled)),
              static_cast<unsigned long long>(in.counters().get(IpCounter::frag_overlap)));
  // The mutations still let plenty through, so deeper paths really ran.
  EXPECT_GT(replies, 10'000u);
  EXPECT_GT(tcp, 10'000u);
  EXPECT_GT(in.counters().get(IpCounter::frag_reassembled), 100u);
  EXPECT_GT(in.counters().get(IpCounter::frag_overlap), 100u);
  EXPECT_GT(in.counters().get(IpCounter::in_bad_checksum), 1000u);
}

}  // namespace
}  // namespace utcp::ip
