// SPDX-License-Identifier: BSD-2-Clause
// cube_root (CUBIC's K without libm): the correctly rounded root (long double cbrtl's,
// rounded) or its neighbour at a near-tie, over CUBIC's range and far beyond; exact on perfect
// cubes; the edge values. round_to_int64 as std::llround.
#include "base/plain_math.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "base/prng.hpp"

namespace utcp {
namespace {

bool within_one_ulp(double got, double want) {
  return got == want || got == std::nextafter(want, 0.0) ||
         got == std::nextafter(want, std::numeric_limits<double>::infinity());
}

TEST(CubeRoot, CorrectlyRoundedButForNearTies) {
  const uint64_t seed = 0x5eed'c0be;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  Prng rng(seed);
  for (int i = 0; i < 200000; ++i) {
    // Mantissa and exponent at random: 1e-300 .. 1e300.
    const double m = 1.0 + static_cast<double>(rng.next() >> 11) * 0x1p-53;
    const int e = static_cast<int>(rng.next() % 1990) - 995;
    const double x = std::ldexp(m, e);
    const double want = static_cast<double>(std::cbrt(static_cast<long double>(x)));
    ASSERT_TRUE(within_one_ulp(cube_root(x), want))
        << "x " << x << ": " << cube_root(x) << " vs " << want;
  }
  // CUBIC's own range: (W_max - cwnd_epoch) / C in segments. (glibc's cbrt is up to 2 ulp off
  // here: long double's cbrtl, rounded, is the reference.)
  for (double x = 1e-3; x < 1e7; x *= 1.0001) {
    ASSERT_TRUE(
        within_one_ulp(cube_root(x), static_cast<double>(std::cbrt(static_cast<long double>(x)))))
        << x;
  }
}

TEST(CubeRoot, ExactOnCubesAndEdges) {
  for (int n = 1; n <= 1000; ++n) {
    const double c = static_cast<double>(n) * n * n;
    EXPECT_EQ(cube_root(c), n) << n;
  }
  // Exact: 1074 = 3 * 358. (Not against std::cbrt: the compiler folds a constant argument
  // exactly, while glibc's cbrt at run time (e.g. in the sanitizer build) is 1 ulp off here.)
  EXPECT_EQ(cube_root(0x1p-1074), 0x1p-358);
  const double max = std::numeric_limits<double>::max();
  EXPECT_TRUE(within_one_ulp(cube_root(max),
                             static_cast<double>(std::cbrt(static_cast<long double>(max)))));
  EXPECT_EQ(cube_root(0), 0);
  EXPECT_EQ(cube_root(-8), 0);
  EXPECT_EQ(cube_root(std::nan("")), 0);
  EXPECT_EQ(cube_root(std::numeric_limits<double>::infinity()),
            std::numeric_limits<double>::infinity());
}

TEST(PlainMath, RoundsLikeLlround) {
  for (const double x : {0.0, 0.4, 0.5, 0.6, 1.5, 2.5, 1e6 - 0.5, 123456.789, 3e15}) {
    EXPECT_EQ(round_to_int64(x), std::llround(x)) << x;
    EXPECT_EQ(round_to_int64(-x), std::llround(-x)) << -x;
  }
}

}  // namespace
}  // namespace utcp
