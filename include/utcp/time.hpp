// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Time as the engine sees it: passed in by the caller, never read from a clock.
// Microsecond resolution covers RTT sampling, timestamps (ms) and the ISN clock (4 µs).
#include <chrono>
#include <cstdint>

namespace utcp {

// Tag clock for engine time points; its epoch is whatever the caller's clock starts at.
struct EngineClock {
  using duration = std::chrono::microseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<EngineClock, duration>;
  static constexpr bool is_steady = true;
};

using Duration = std::chrono::microseconds;
using Instant = EngineClock::time_point;

inline constexpr Instant kNever = Instant::max();

constexpr Instant instant_from_us(int64_t us) {
  return Instant(Duration(us));
}
constexpr int64_t to_us(Instant t) {
  return t.time_since_epoch().count();
}

}  // namespace utcp
