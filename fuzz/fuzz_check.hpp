// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The fuzz harnesses' invariant check: names the broken invariant before aborting, so a crash
// report says what went wrong (assert() would vanish under NDEBUG).
#include <cstdio>
#include <cstdlib>

#define check(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      std::fprintf(stderr, "invariant failed: %s (line %d)\n", #cond, __LINE__); \
      std::abort();                                                              \
    }                                                                            \
  } while (0)
