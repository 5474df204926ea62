#include "tcp/congestion_control.hpp"

#include "tcp/reno.hpp"

namespace utcp::tcp {

std::unique_ptr<CongestionControl> make_congestion_control(std::string_view name) {
  if (name == "reno") return std::make_unique<RenoCongestion>();
  return nullptr;
}

}  // namespace utcp::tcp
