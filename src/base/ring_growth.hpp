// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The size a ring whose storage grows with use (SendBuffer, ReassemblyQueue) moves to next.
// Only the arithmetic is shared: each ring copies its own live bytes when it reallocates.
#include <algorithm>
#include <cstddef>

namespace utcp {

// Storage for a ring now holding `allocated` bytes that must hold `needed`: double (from
// `initial` if nothing is held yet) until it fits, never above `capacity`. Geometric growth
// copies the live bytes once per doubling, so a fill from empty to capacity copies less than
// capacity bytes in all.
constexpr size_t ring_growth_size(size_t allocated, size_t needed, size_t capacity,
                                  size_t initial) {
  size_t bytes = std::max(allocated * 2, initial);
  while (bytes < needed) bytes *= 2;
  return std::min(bytes, capacity);
}

}  // namespace utcp
