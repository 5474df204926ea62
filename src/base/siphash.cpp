// SPDX-License-Identifier: BSD-2-Clause
#include "base/siphash.hpp"

#include <bit>

namespace utcp {

namespace {

uint64_t load_le64(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

struct SipState {
  uint64_t v0, v1, v2, v3;

  void round() {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }

  void absorb(uint64_t m) {
    v3 ^= m;
    round();  // c = 2 compression rounds
    round();
    v0 ^= m;
  }
};

}  // namespace

uint64_t siphash24(const std::array<uint8_t, 16>& key, std::span<const uint8_t> data) {
  const uint64_t k0 = load_le64(key.data(), 8);
  const uint64_t k1 = load_le64(key.data() + 8, 8);
  // The constants spell "somepseudorandomlygeneratedbytes".
  SipState s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
             k1 ^ 0x7465646279746573ULL};

  const size_t n = data.size();
  const size_t full = n & ~size_t{7};
  for (size_t i = 0; i < full; i += 8) s.absorb(load_le64(data.data() + i, 8));
  // Last block: the remaining bytes, with the message length mod 256 in the top byte.
  s.absorb(load_le64(data.data() + full, n - full) | (uint64_t{n & 0xff} << 56));

  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) s.round();  // d = 4 finalization rounds
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace utcp
