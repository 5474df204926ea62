// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Limits how many ICMP errors the host sends (RFC 1812 §4.3.2.8, RFC 1122 §3.2.2): a token
// bucket run as a virtual schedule, with time passed in.
#include <cstdint>

#include "utcp/time.hpp"

namespace utcp::ip {

class IcmpRateLimiter {
 public:
  // per_second == 0 disables sending altogether; burst messages may go back to back.
  IcmpRateLimiter(uint32_t per_second, uint32_t burst)
      : interval_us_(per_second == 0 ? 0 : 1'000'000 / per_second),
        burst_us_(burst == 0 ? 0 : static_cast<int64_t>(burst - 1) * interval_us_),
        enabled_(per_second != 0 && burst != 0) {}

  // True (and one token spent) when a message may be sent now.
  bool allow(Instant now) {
    if (!enabled_) return false;
    const int64_t t = to_us(now);
    if (tat_us_ - burst_us_ > t) return false;  // would exceed the burst
    tat_us_ = (tat_us_ > t ? tat_us_ : t) + interval_us_;
    return true;
  }

 private:
  int64_t interval_us_;
  int64_t burst_us_;  // tolerance: burst - 1 intervals ahead of schedule
  bool enabled_;
  int64_t tat_us_ = INT64_MIN / 2;  // theoretical arrival time of the next conforming message
};

}  // namespace utcp::ip
