// SPDX-License-Identifier: BSD-2-Clause
#include "dev/netlink_address.hpp"

#include <linux/if_addr.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>

#include "dev/netlink_request.hpp"

namespace utcp::dev {

int netlink_add_ipv6_address(int ifindex, const Ipv6Addr& addr, uint8_t prefix_len) {
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET6;
  ifa.ifa_prefixlen = prefix_len;
  ifa.ifa_flags = IFA_F_NODAD | IFA_F_PERMANENT;
  ifa.ifa_scope = RT_SCOPE_UNIVERSE;
  ifa.ifa_index = static_cast<uint32_t>(ifindex);
  // NLM_F_REPLACE: a persistent device that already has the address keeps it, now NODAD.
  NetlinkRequest request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &ifa, sizeof ifa);
  request.add_attr(IFA_LOCAL, addr.bytes.data(), 16);
  request.add_attr(IFA_ADDRESS, addr.bytes.data(), 16);
  return netlink_transact(request);
}

bool ipv6_local_route_present(const Ipv6Addr& addr, const std::string& interface) {
  char want[33];
  for (size_t i = 0; i < 16; ++i) std::snprintf(want + 2 * i, 3, "%02x", addr.bytes[i]);
  FILE* f = std::fopen("/proc/net/ipv6_route", "re");
  if (f == nullptr) return false;
  // Each line: destination, its prefix length, source, its length, next hop, metric, refcnt,
  // use, flags (all hex), device.
  char dst[33], dst_len[3], dev[32];
  char line[256];
  bool found = false;
  while (!found && std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "%32s %2s %*s %*s %*s %*s %*s %*s %*s %31s", dst, dst_len, dev) == 3) {
      found = std::strcmp(dst, want) == 0 && std::strcmp(dst_len, "80") == 0 && interface == dev;
    }
  }
  std::fclose(f);
  return found;
}

}  // namespace utcp::dev
