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
  return nullptr;
}

}  // namespace utcp::tcp
