// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Adds an IPv6 address to an interface through rtnetlink (RTM_NEWADDR), the one way to mark
// it IFA_F_NODAD: the address is usable at once instead of "tentative" until duplicate
// address detection (or the kernel's decision to skip it) has run in the background. The
// SIOCSIFADDR ioctl cannot pass that flag. Linux headers only.
#include <cstdint>
#include <string>

#include "utcp/address.hpp"

namespace utcp::dev {

// Adds `addr`/`prefix_len` to the interface with index `ifindex`, or replaces its flags if it
// is there already; the kernel adds the route to the prefix with it. 0 on success, else the
// errno the kernel answered (or the socket's own).
int netlink_add_ipv6_address(int ifindex, const Ipv6Addr& addr, uint8_t prefix_len);

// Whether the kernel delivers packets to `addr` locally yet: its /128 route in the local
// table is on `interface` (/proc/net/ipv6_route). The kernel inserts that route from a work
// queue once the interface is up, a moment after the address was added.
bool ipv6_local_route_present(const Ipv6Addr& addr, const std::string& interface);

}  // namespace utcp::dev
