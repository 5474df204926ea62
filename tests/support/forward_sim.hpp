// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What the forwarding sim tests share: a SimNet whose stack B forwards 198.18.0.0/15 and
// 2001:db8::/32 (TCP always; UDP flows and the endpoint-independent mapping when asked), the
// counter lookup (support/counters.hpp), and text as bytes.
#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "support/counters.hpp"
#include "support/sim_net.hpp"

namespace utcp::test {

inline const IpPrefix kForwardNet4 = *IpPrefix::parse("198.18.0.0/15");
inline const IpPrefix kForwardNet6 = *IpPrefix::parse("2001:db8::/32");

inline SimNetConfig forwarding_sim_config(bool udp = false, bool endpoint_independent = false) {
  SimNetConfig c;
  c.b.forward = {kForwardNet4, kForwardNet6};
  c.b.forward_udp = udp;
  c.b.udp_endpoint_independent = endpoint_independent;
  return c;
}

inline std::vector<uint8_t> bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

}  // namespace utcp::test
