// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Which foreign addresses an active OPEN may name (RFC 9293 §3.9.1.1, MUST-46): one host,
// reachable through the device, of either family.
#include "utcp/address.hpp"

namespace utcp::stack {

constexpr bool connectable(const IpAddr& addr) {
  if (addr.is_v4()) {
    // Not 0.0.0.0, the limited broadcast, multicast (224/4) or reserved (240/4).
    const uint32_t a = addr.v4().value;
    return a != 0 && (a >> 28) != 0xe && (a >> 28) != 0xf;
  }
  // RFC 4291 §2.5.2/§2.5.3/§2.7: not ::, not ::1 (no loopback path through the device), not
  // multicast; an IPv4-mapped address was turned into its IPv4 form before this.
  const Ipv6Addr& a = addr.v6();
  return !a.is_unspecified() && !a.is_loopback() && !a.is_multicast() && !a.is_v4_mapped();
}

}  // namespace utcp::stack
