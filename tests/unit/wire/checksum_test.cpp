// SPDX-License-Identifier: BSD-2-Clause
// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
#include "wire/checksum.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <random>
#include <vector>

#include "wire_test_bytes.hpp"

namespace utcp::wire {
namespace {

// The obvious reference: 16-bit big-endian words, end-around carry, odd byte padded.
uint16_t naive_sum(const uint8_t* p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += uint32_t{p[i]} << 8 | p[i + 1];
  if (n % 2) s += uint32_t{p[n - 1]} << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(s);
}

uint32_t test_seed() {
  return test::test_seed("checksum test");
}

TEST(Checksum, Rfc1071NumericExample) {
  // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
  const std::array<uint8_t, 8> b{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(Checksum().add(b).sum(), 0xddf2);
  EXPECT_EQ(internet_checksum(b), 0x220d);
}

TEST(Checksum, HandComputedIpv4Header) {
  // 4500+0073+0000+4000+4011+c0a8+0001+c0a8+00c7 = 0x2479c -> 0x479e; ~ = 0xb861.
  const std::array<uint8_t, 20> h{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                  0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(Checksum().add(h).sum(), 0x479e);
  EXPECT_EQ(internet_checksum(h), 0xb861);
  auto with = h;
  with[10] = 0xb8;
  with[11] = 0x61;
  EXPECT_TRUE(checksum_ok(with));
  with[19] ^= 1;
  EXPECT_FALSE(checksum_ok(with));
}

TEST(Checksum, CarriesWrapAround) {
  // ffff + ffff + 0001 = 0x1ffff -> 0xffff + 1 = 0x10000 -> 0x0001 after folding.
  const std::array<uint8_t, 6> b{0xff, 0xff, 0xff, 0xff, 0x00, 0x01};
  EXPECT_EQ(Checksum().add(b).sum(), 0x0001);
}

TEST(Checksum, EmptyAndOddLengths) {
  EXPECT_EQ(Checksum().sum(), 0);
  EXPECT_EQ(internet_checksum({}), 0xffff);
  const std::array<uint8_t, 1> one{0x12};
  EXPECT_EQ(Checksum().add(one).sum(), 0x1200);  // the odd byte is the high half
  const std::array<uint8_t, 3> three{0x12, 0x34, 0x56};
  EXPECT_EQ(Checksum().add(three).sum(), 0x6834);
  const std::array<uint8_t, 17> seventeen{1,  2,  3,  4,  5,  6,  7,  8, 9,
                                          10, 11, 12, 13, 14, 15, 16, 17};
  EXPECT_EQ(Checksum().add(seventeen).sum(), naive_sum(seventeen.data(), seventeen.size()));
}

TEST(Checksum, RandomBuffersMatchNaiveLoop) {
  const uint32_t seed = test_seed();
  std::mt19937 rng(seed);
  std::vector<uint8_t> buf(70000);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (int i = 0; i < 2000; ++i) {
    // Lengths up to 64 KiB, at every alignment of the start pointer.
    const size_t off = rng() % 16;
    const size_t len = (i < 200) ? static_cast<size_t>(i) : rng() % 65536;
    const uint8_t* p = buf.data() + off;
    ASSERT_EQ(Checksum().add({p, len}).sum(), naive_sum(p, len))
        << "seed " << seed << " off " << off << " len " << len;
  }
  // All-ones data exercises the largest carries.
  std::vector<uint8_t> ones(4099, 0xff);
  EXPECT_EQ(Checksum().add(ones).sum(), naive_sum(ones.data(), ones.size()));
}

TEST(Checksum, SplitRangesEqualOneShot) {
  const uint32_t seed = test_seed();
  std::mt19937 rng(seed);
  std::vector<uint8_t> buf(3001);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  const uint16_t whole = Checksum().add(buf).sum();
  for (int trial = 0; trial < 500; ++trial) {
    Checksum c;
    size_t pos = 0;
    while (pos < buf.size()) {
      const size_t n = std::min<size_t>(buf.size() - pos, rng() % 40);  // 0-length pieces too
      c.add(std::span<const uint8_t>(buf).subspan(pos, n));
      pos += n;
    }
    ASSERT_EQ(c.sum(), whole) << "seed " << seed << " trial " << trial;
  }
  // A fixed odd split: 1 + 2 + rest.
  Checksum c;
  c.add(std::span<const uint8_t>(buf).first(1))
      .add(std::span<const uint8_t>(buf).subspan(1, 2))
      .add(std::span<const uint8_t>(buf).subspan(3));
  EXPECT_EQ(c.sum(), whole);
}

TEST(Checksum, AddWordsEqualsBigEndianBytes) {
  const std::array<uint8_t, 6> b{0x12, 0x34, 0xab, 0xcd, 0xef, 0x01};
  Checksum words;
  words.add16(0x1234).add32(0xabcdef01);
  EXPECT_EQ(words.sum(), Checksum().add(b).sum());
}

TEST(Checksum, AddWordsSitAtEvenOffsetAfterOddRange) {
  // After an odd-length range, add16 still adds the value as a whole word (as documented),
  // unlike add() of the same two bytes, which would continue mid-word.
  const std::array<uint8_t, 1> odd{0x01};
  Checksum c;
  c.add(odd).add16(0x0203);
  EXPECT_EQ(c.sum(), 0x0100 + 0x0203);
}

TEST(Checksum, PseudoHeaderMatchesItsBytes) {
  // RFC 9293 §3.1: src, dst, zero, protocol, TCP length.
  const std::array<uint8_t, 12> ph{10, 77, 0, 1, 10, 77, 0, 2, 0, 6, 0x05, 0xdc};
  EXPECT_EQ(ipv4_pseudo_header(0x0a4d0001, 0x0a4d0002, 6, 1500).sum(), Checksum().add(ph).sum());
}

TEST(Checksum, IncrementalUpdateEqualsRecomputation) {
  const uint32_t seed = test_seed();
  std::mt19937 rng(seed);
  for (int trial = 0; trial < 5000; ++trial) {
    std::array<uint8_t, 20> h{};
    for (auto& b : h) b = static_cast<uint8_t>(rng());
    h[0] = 0x45;  // never all zero: that is the one case where 0x0000 and 0xffff differ
    h[10] = h[11] = 0;
    const uint16_t before = internet_checksum(h);
    const size_t word = 2 * (1 + rng() % 9);  // any word but the checksum itself
    const uint16_t old_w = static_cast<uint16_t>(h[word] << 8 | h[word + 1]);
    const uint16_t new_w = (trial % 7 == 0) ? 0 : static_cast<uint16_t>(rng());
    h[word] = static_cast<uint8_t>(new_w >> 8);
    h[word + 1] = static_cast<uint8_t>(new_w);
    ASSERT_EQ(checksum_update16(before, old_w, new_w), internet_checksum(h))
        << "seed " << seed << " trial " << trial;
  }
}

TEST(Checksum, IncrementalUpdate32EqualsRecomputation) {
  std::array<uint8_t, 20> h{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                            0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  const uint16_t before = internet_checksum(h);
  // Rewrite the source address 192.168.0.1 -> 10.77.0.2 (as a NAT would).
  h[12] = 10;
  h[13] = 77;
  h[14] = 0;
  h[15] = 2;
  EXPECT_EQ(checksum_update32(before, 0xc0a80001, 0x0a4d0002), internet_checksum(h));
}

TEST(Checksum, Rfc1624Example) {
  // RFC 1624 §4: HC = 0xdd2f, m = 0x5555 -> m' = 0x3285 gives HC' = 0x0000.
  EXPECT_EQ(checksum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
}

}  // namespace
}  // namespace utcp::wire
