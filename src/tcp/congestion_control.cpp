// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/congestion_control.hpp"

#include "tcp/cubic.hpp"
#include "tcp/reno.hpp"

namespace utcp::tcp {

std::unique_ptr<CongestionControl> make_congestion_control(std::string_view name) {
  if (name == "reno" || name == "newreno") return std::make_unique<RenoCongestion>();
  if (name == "cubic") return std::make_unique<CubicCongestion>();
  if (name == "cubic+hystart")
    return std::make_unique<CubicCongestion>(CubicOptions{.hystart = true});
  // CUBIC as RFC 9438 states it, with RFC 5681 slow start: no ACK-train exit, and fast
  // convergence also against a W_max left by slow start (the default before 2026-12-07).
  if (name == "cubic-rfc9438")
    return std::make_unique<CubicCongestion>(
        CubicOptions{.ack_train = false, .fast_convergence_after_slow_start = true});
  return nullptr;
}

}  // namespace utcp::tcp
