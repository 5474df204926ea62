// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A range of TCP ports, inclusive at both ends: the ephemeral ports a Stack draws its local
// ports from (StackConfig::ephemeral_ports), and the shares a StackGroup hands its queues.
#include <cstdint>

namespace utcp {

struct PortRange {
  uint16_t first = 32768;  // Linux's default ip_local_port_range
  uint16_t last = 60999;
};

// The name the stack layer has used.
namespace stack {
using utcp::PortRange;
}  // namespace stack

}  // namespace utcp
