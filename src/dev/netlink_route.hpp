// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Kernel routes through an interface, by rtnetlink (RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE),
// both families: what a TUN needs so the kernel sends it the prefixes a forwarding stack
// terminates (TunOptions::routes), and the lookup a proxy makes to learn which interface its
// own upstream traffic leaves by. Routes through an interface are removed by the kernel with
// the interface, so they cannot outlive a TUN device even when its process is killed.
// Linux headers only.
#include <cstdint>
#include <optional>
#include <string>

#include "utcp/address.hpp"

namespace utcp::dev {

// Adds `prefix` (host bits past its length are cleared) to the main table as a direct route
// through interface `ifindex` (scope link, no gateway: on a TUN every address of the prefix is
// reached by writing the packet to the device). An identical route already there is an error
// (EEXIST). 0 on success, else the errno the kernel answered (or the socket's own).
int netlink_add_route(int ifindex, const IpPrefix& prefix);

// Deletes the route to `prefix` through `ifindex` from the main table. 0, or the errno
// (ESRCH: no such route).
int netlink_delete_route(int ifindex, const IpPrefix& prefix);

// What the kernel would do with a packet to one address (RTM_GETROUTE).
struct RouteInfo {
  int ifindex = 0;        // the outgoing interface (0: none, e.g. a blackhole)
  std::string interface;  // its name ("" if it has none)
  std::optional<IpAddr> gateway;
  std::optional<IpAddr> source;  // the preferred source address
  // The prefix length of the FIB entry that matched (RTM_F_FIB_MATCH): 0 for a default route.
  // -1 when the kernel could not say.
  int matched_prefix_len = -1;
  uint8_t type = 0;  // RTN_UNICAST, RTN_LOCAL, ...
};

// The route the kernel would choose for `destination`, as a socket with mark `mark` (SO_MARK;
// 0: none) sees it, so policy rules that select on the mark apply. nullopt with `err` set to
// the errno when there is none (ENETUNREACH, EHOSTUNREACH, ...).
std::optional<RouteInfo> netlink_route_lookup(const IpAddr& destination, uint32_t mark, int& err);

// The main table's default route of a family (0.0.0.0/0 or ::/0) with the lowest metric;
// nullopt if there is none. `v6`: the IPv6 table.
std::optional<RouteInfo> netlink_default_route(bool v6);

}  // namespace utcp::dev
