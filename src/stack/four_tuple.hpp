// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The key of a TCP connection: local and remote address and port. Hashed with a per-stack
// random seed so that a peer choosing addresses and ports cannot aim at one hash bucket.
#include <cstddef>
#include <cstdint>

#include "utcp/address.hpp"

namespace utcp::stack {

struct FourTuple {
  wire::Ipv4Addr local_addr;
  uint16_t local_port = 0;
  wire::Ipv4Addr remote_addr;
  uint16_t remote_port = 0;
  friend constexpr bool operator==(const FourTuple&, const FourTuple&) = default;
};

class FourTupleHash {
 public:
  explicit FourTupleHash(uint64_t seed = 0x9e3779b97f4a7c15ull) : seed_(seed) {}
  size_t operator()(const FourTuple& t) const {
    uint64_t a = (uint64_t{t.local_addr.value} << 32 | t.remote_addr.value) ^ seed_;
    uint64_t b =
        (uint64_t{t.local_port} << 16 | t.remote_port) ^ (seed_ >> 7) ^ 0x2545f4914f6cdd1dull;
    // Two rounds of a 128-bit multiply-fold mix: fast, and every input bit reaches every output
    // bit.
    __uint128_t m = static_cast<__uint128_t>(a) * (b | 1);
    uint64_t x = static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64) ^ b;
    m = static_cast<__uint128_t>(x ^ seed_) * 0x9fb21c651e98df25ull;
    return static_cast<size_t>(static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64));
  }

 private:
  uint64_t seed_;
};

}  // namespace utcp::stack
