// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The two libm functions the stack and its tools called (std::cbrt for CUBIC's K, std::llround
// for seconds given as doubles), in plain arithmetic: a program that maps libm for them alone
// carries ~300 KB of resident pages (libm resolves all its own IFUNCs at load), and utcp-proxy
// is linked without it (tools/proxy/core.cmake). Deterministic like any IEEE arithmetic.
#include <bit>
#include <cstdint>
#include <limits>

namespace utcp {

// x rounded to the nearest integer, halves away from zero (std::llround for |x| < 2^62).
inline int64_t round_to_int64(double x) {
  return static_cast<int64_t>(x < 0 ? x - 0.5 : x + 0.5);
}

// The real cube root of x, correctly rounded but for rare near-ties (1 ulp; glibc's cbrt is
// up to 2 ulp off); 0 for x <= 0 or NaN, x for +infinity. Newton's method from a power of
// two below the root.
inline double cube_root(double x) {
  if (!(x > 0)) return 0;
  if (x == std::numeric_limits<double>::infinity()) return x;
  // Huge or tiny values are scaled by 2^900 (exact), so no cube below overflows or vanishes.
  constexpr double k2p900 = 0x1p900, k2p300 = 0x1p300;
  if (x > 0x1p900) return k2p300 * cube_root(x / k2p900);
  if (x < 0x1p-900) return cube_root(x * k2p900) / k2p300;
  const uint64_t bits = std::bit_cast<uint64_t>(x);
  const int exponent = static_cast<int>((bits >> 52) & 0x7ff) - 1023;  // 2^e <= x < 2^(e+1)
  // 2^floor(e / 3) <= root < 2^(floor(e / 3) + 1): a start within a factor 2.
  const int third = (exponent + 3 * 1023) / 3 - 1023;
  double y = std::bit_cast<double>(static_cast<uint64_t>(third + 1023) << 52);
  // Newton's step in the form (2y + x / y^2) / 3, in long double (11 more bits on x86-64,
  // where it is the x87 format) so the double it rounds to is within an ulp; from a start
  // within a factor 2 it has converged after 7 steps (the error squares each step).
  long double r = y;
  const long double lx = x;
  for (int i = 0; i < 8; ++i) r = (2 * r + lx / (r * r)) / 3;
  return static_cast<double>(r);
}

}  // namespace utcp
