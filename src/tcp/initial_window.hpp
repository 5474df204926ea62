// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The initial congestion window in bytes, shared by the controllers.
#include <algorithm>
#include <cstdint>

namespace utcp::tcp {

// Initial window in bytes for `segments` segments of `mss` bytes.
inline uint32_t initial_window_bytes(uint32_t mss, uint32_t segments) {
  const uint64_t m = mss;
  const uint64_t n = std::max<uint32_t>(segments, 1);
  uint64_t iw;
  if (n >= 5) {
    // RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)); other counts scale the byte cap
    // (n * 1460) the same way.
    iw = std::min(n * m, std::max(2 * m, n * 1460));
  } else if (n >= 3) {
    // RFC 3390 §1: IW = min(4*MSS, max(2*MSS, 4380)).
    iw = std::min(n * m, std::max<uint64_t>(2 * m, 4380));
  } else {
    iw = n * m;
  }
  return static_cast<uint32_t>(std::min<uint64_t>(iw, UINT32_MAX));
}

}  // namespace utcp::tcp
