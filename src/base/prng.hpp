// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A small, fast, seedable PRNG (xoshiro256** by Blackman and Vigna, seeded through
// splitmix64). Written out here so that a given seed yields the same sequence on every
// platform and standard library, which std::uniform_*_distribution does not promise.
#include <cstdint>

namespace utcp {

class Prng {
 public:
  explicit Prng(uint64_t seed) {
    uint64_t x = seed;
    for (auto& word : s_) word = splitmix64(x);
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // True with probability p (p <= 0 never draws, so disabled faults cost nothing and do not
  // shift the sequence seen by the other faults).
  bool chance(double p) { return p > 0 && uniform() < p; }

  // Uniform integer in [0, n) for n > 0 (Lemire's multiply-shift; the tiny bias is harmless here).
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t s_[4];
};

}  // namespace utcp
