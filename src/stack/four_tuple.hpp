// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The key of a TCP connection: local and remote address (either family) and port. Hashed with
// a per-stack random seed so that a peer choosing addresses and ports cannot aim at one hash
// bucket.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "utcp/address.hpp"

namespace utcp::stack {

struct FourTuple {
  wire::IpAddr local_addr;
  uint16_t local_port = 0;
  wire::IpAddr remote_addr;
  uint16_t remote_port = 0;
  friend constexpr bool operator==(const FourTuple&, const FourTuple&) = default;
};

class FourTupleHash {
 public:
  explicit FourTupleHash(uint64_t seed = 0x9e3779b97f4a7c15ull) : seed_(seed) {}
  // All 16 + 16 address bytes (an IPv4 address as its IPv4-mapped form), the ports and the
  // family go in: three 64x64->128-bit multiply-folds, each keyed by the seed, so every input
  // bit reaches every output bit and an unkeyed collision does not carry over.
  size_t operator()(const FourTuple& t) const {
    const uint8_t* l = t.local_addr.bytes16().data();
    const uint8_t* r = t.remote_addr.bytes16().data();
    uint64_t l0, l1, r0, r1;
    std::memcpy(&l0, l, 8);
    std::memcpy(&l1, l + 8, 8);
    std::memcpy(&r0, r, 8);
    std::memcpy(&r1, r + 8, 8);
    const uint64_t ports = uint64_t{t.local_port} << 16 | t.remote_port |
                           uint64_t{static_cast<uint8_t>(t.remote_addr.family())} << 32;
    // A multiplier is made odd (never 0), which hides its bit 0: each such word also enters
    // the next round by XOR.
    uint64_t h = fold(l0 ^ seed_, (l1 ^ (seed_ >> 7) ^ 0x2545f4914f6cdd1dull) | 1);
    h = fold(h ^ r0 ^ l1, (r1 ^ ports ^ (seed_ << 5)) | 1);
    return static_cast<size_t>(fold(h ^ r1 ^ ports, (0x9fb21c651e98df25ull ^ seed_) | 1));
  }

 private:
  static uint64_t fold(uint64_t a, uint64_t b) {
    const __uint128_t m = static_cast<__uint128_t>(a) * b;
    return static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
  }
  uint64_t seed_;
};

}  // namespace utcp::stack
