// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/isn_generator.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace utcp::tcp {
namespace {

std::array<uint8_t, 16> reference_key() {
  std::array<uint8_t, 16> k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i);
  return k;
}

// The 64-bit output as the reference implementation writes it: little-endian bytes.
std::array<uint8_t, 8> le_bytes(uint64_t v) {
  std::array<uint8_t, 8> b{};
  for (size_t i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
  return b;
}

struct SipVector {
  size_t len;
  std::array<uint8_t, 8> out;
};

// Test vectors from the SipHash paper, appendix / reference `vectors_sip64`: key 00..0f,
// message 00 01 .. (len-1).
constexpr SipVector kVectors[] = {
    {0, {0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72}},
    {1, {0xfd, 0x67, 0xdc, 0x93, 0xc5, 0x39, 0xf8, 0x74}},
    {2, {0x5a, 0x4f, 0xa9, 0xd9, 0x09, 0x80, 0x6c, 0x0d}},
    {7, {0x37, 0xd1, 0x01, 0x8b, 0xf5, 0x00, 0x02, 0xab}},
    {8, {0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93}},
    {9, {0xb0, 0xe4, 0xa9, 0x0b, 0xdf, 0x82, 0x00, 0x9e}},
    {15, {0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1}},
    {16, {0xdb, 0x9b, 0xc2, 0x57, 0x7f, 0xcc, 0x2a, 0x3f}},
    {31, {0x42, 0xc3, 0x41, 0xd8, 0xfa, 0x92, 0xd8, 0x32}},
    {32, {0xce, 0x7c, 0xf2, 0x72, 0x2f, 0x51, 0x27, 0x71}},
    {63, {0x72, 0x45, 0x06, 0xeb, 0x4c, 0x32, 0x8a, 0x95}},
};

TEST(SipHash, MatchesReferenceVectors) {
  const auto key = reference_key();
  for (const SipVector& v : kVectors) {
    std::vector<uint8_t> msg(v.len);
    for (size_t i = 0; i < v.len; ++i) msg[i] = static_cast<uint8_t>(i);
    EXPECT_EQ(le_bytes(siphash24(key, msg)), v.out) << "message length " << v.len;
  }
}

TEST(SipHash, EmptyMessageAsInteger) {
  // The paper's first vector read as a 64-bit integer.
  EXPECT_EQ(siphash24(reference_key(), {}), 0x726fdb47dd0e0e31ULL);
}

TEST(SipHash, KeyChangesOutput) {
  auto k2 = reference_key();
  k2[15] ^= 1;
  const std::array<uint8_t, 4> msg{1, 2, 3, 4};
  EXPECT_NE(siphash24(reference_key(), msg), siphash24(k2, msg));
}

const wire::Ipv4Addr kLocal(10, 77, 0, 2);
const wire::Ipv4Addr kRemote(10, 77, 0, 1);

TEST(IsnGenerator, DifferentTuplesGiveDifferentIsns) {
  const IsnGenerator gen(reference_key());
  const Instant t = instant_from_us(123'456'789);
  const auto base = gen.isn(kLocal, 80, kRemote, 40000, t);
  EXPECT_NE(base, gen.isn(kLocal, 80, kRemote, 40001, t));  // remote port
  EXPECT_NE(base, gen.isn(kLocal, 81, kRemote, 40000, t));  // local port
  EXPECT_NE(base, gen.isn(kLocal, 80, wire::Ipv4Addr(10, 77, 0, 3), 40000, t));
  EXPECT_NE(base, gen.isn(wire::Ipv4Addr(10, 77, 0, 4), 80, kRemote, 40000, t));
  // Swapping the ends is a different connection-id too.
  EXPECT_NE(base, gen.isn(kRemote, 40000, kLocal, 80, t));
}

TEST(IsnGenerator, SameTupleIsDeterministicAndAdvancesOnePer4Microseconds) {
  const IsnGenerator gen(reference_key());
  const Instant t0 = instant_from_us(1'000'000);
  const auto a = gen.isn(kLocal, 80, kRemote, 40000, t0);
  EXPECT_EQ(a, gen.isn(kLocal, 80, kRemote, 40000, t0));
  EXPECT_EQ(gen.isn(kLocal, 80, kRemote, 40000, t0 + Duration(4)) - a, 1);
  EXPECT_EQ(gen.isn(kLocal, 80, kRemote, 40000, t0 + Duration(3)) - a, 0);
  EXPECT_EQ(gen.isn(kLocal, 80, kRemote, 40000, t0 + Duration(4'000)) - a, 1'000);
  // One second is 250,000 ticks.
  EXPECT_EQ(gen.isn(kLocal, 80, kRemote, 40000, t0 + Duration(1'000'000)) - a, 250'000);
}

TEST(IsnGenerator, IsnIsClockPlusKeyedHashOfTuple) {
  const auto key = reference_key();
  const IsnGenerator gen(key);
  // Tuple bytes: local ip, local port, remote ip, remote port, all big-endian.
  const std::array<uint8_t, 12> tuple{10, 77, 0, 2, 0, 80, 10, 77, 0, 1, 0x9c, 0x40};
  const auto f = static_cast<uint32_t>(siphash24(key, tuple));
  EXPECT_EQ(gen.isn(kLocal, 80, kRemote, 40000, instant_from_us(0)).raw(), f);
  EXPECT_EQ(gen.isn(kLocal, 80, kRemote, 40000, instant_from_us(400)).raw(), f + 100);
}

TEST(IsnGenerator, DifferentSecretsGiveDifferentIsns) {
  auto other = reference_key();
  other[0] = 0xaa;
  const IsnGenerator a(reference_key());
  const IsnGenerator b(other);
  const Instant t = instant_from_us(42);
  EXPECT_NE(a.isn(kLocal, 80, kRemote, 40000, t), b.isn(kLocal, 80, kRemote, 40000, t));
}

}  // namespace
}  // namespace utcp::tcp
