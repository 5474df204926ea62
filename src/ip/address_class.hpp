// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Which IPv4 addresses name a single host (RFC 1122 §3.2.1.3, RFC 1112 for class D).
#include "utcp/address.hpp"

namespace utcp::ip {

constexpr bool is_zero_network(wire::Ipv4Addr a) {
  return (a.value >> 24) == 0;
}
constexpr bool is_loopback(wire::Ipv4Addr a) {
  return (a.value >> 24) == 127;
}
constexpr bool is_multicast(wire::Ipv4Addr a) {
  return (a.value >> 28) == 0xe;
}
constexpr bool is_limited_broadcast(wire::Ipv4Addr a) {
  return a.value == 0xffffffffu;
}
constexpr bool is_class_e(wire::Ipv4Addr a) {
  return (a.value >> 28) == 0xf && !is_limited_broadcast(a);
}

// RFC 1122 §3.2.1.3: a source that is multicast, broadcast, class E or loopback is invalid
// on the wire and the datagram MUST be discarded. (0.0.0.0 is allowed during bootstrap.)
constexpr bool is_invalid_source(wire::Ipv4Addr a) {
  return is_multicast(a) || is_limited_broadcast(a) || is_class_e(a) || is_loopback(a);
}

// RFC 1122 §3.2.2: ICMP errors go only to a source that defines a single host.
constexpr bool is_single_host(wire::Ipv4Addr a) {
  return !is_invalid_source(a) && !is_zero_network(a);
}

}  // namespace utcp::ip
