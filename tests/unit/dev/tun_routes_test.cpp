// SPDX-License-Identifier: BSD-2-Clause
// TunOptions::routes and the rtnetlink route calls under them (dev/netlink_route.hpp), against
// the real kernel, each test in a forked child inside a fresh network namespace
// (support/netns_child.hpp): the routes point into the TUN once it is up, host bits are
// cleared, they vanish with the device, and a refused route is a clear error that leaves none.
#include <gtest/gtest.h>
#include <net/if.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "dev/netlink_route.hpp"
#include "support/netns_child.hpp"
#include "utcp/tun.hpp"

namespace utcp::dev {
namespace {

// The interface the kernel routes `a` by ("" if it has no route).
std::string dev_for(const char* a) {
  int err = 0;
  const auto r = netlink_route_lookup(*IpAddr::parse(a), 0, err);
  return r ? r->interface : "";
}

TunOptions options(const char* name, bool ipv6) {
  TunOptions t;
  t.name = name;
  t.kernel_address = Ipv4Addr(10, 77, 0, 1);
  if (ipv6) t.kernel_address6 = Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 1);
  t.offload = false;
  return t;
}

TEST(TunRoutes, RoutesPointIntoTheTunAndGoWithIt) {
  UTCP_RUN_IN_NETNS([]() -> std::string {
    {
      TunOptions t = options("utcpr0", true);
      t.routes = {*IpPrefix::parse("198.18.7.7/15"), *IpPrefix::parse("2001:db8::/32")};
      TunDevice tun(t);
      for (const char* a : {"198.18.0.1", "198.19.255.254", "2001:db8:ffff::1"}) {
        if (dev_for(a) != "utcpr0") return std::string(a) + " is not routed via utcpr0";
      }
      if (!dev_for("198.20.0.1").empty()) return "198.20.0.1 is routed: the prefix grew";
      int err = 0;
      const auto r = netlink_route_lookup(*IpAddr::parse("198.18.0.1"), 0, err);
      if (!r || r->matched_prefix_len != 15) return "the matched route is not the /15";
    }
    // The device is gone, and its routes with it.
    if (!dev_for("198.18.0.1").empty() || !dev_for("2001:db8::1").empty()) {
      return "a route outlived the device";
    }
    return "";
  });
}

TEST(TunRoutes, ARefusedRouteIsAClearErrorAndLeavesNone) {
  UTCP_RUN_IN_NETNS([]() -> std::string {
    TunDevice first(options("utcpr1", false));
    if (netlink_add_route(static_cast<int>(::if_nametoindex("utcpr1")),
                          *IpPrefix::parse("10.82.0.0/16")) != 0) {
      return "cannot add 10.82.0.0/16 via utcpr1";
    }
    TunOptions t = options("utcpr2", false);
    t.kernel_address = Ipv4Addr(10, 78, 0, 1);
    // The second is there already (through utcpr1): the kernel refuses it (EEXIST).
    t.routes = {*IpPrefix::parse("10.81.0.0/16"), *IpPrefix::parse("10.82.0.0/16")};
    try {
      TunDevice tun(t);
      return "a duplicate route was accepted";
    } catch (const std::system_error& e) {
      const std::string what = e.what();
      if (what.find("10.82.0.0/16") == std::string::npos || e.code().value() != EEXIST) {
        return "unclear error: " + what;
      }
    }
    if (!dev_for("10.81.0.1").empty()) return "10.81.0.0/16 was left behind";
    if (dev_for("10.82.0.1") != "utcpr1") return "the existing route was disturbed";
    if (netlink_delete_route(static_cast<int>(::if_nametoindex("utcpr1")),
                             *IpPrefix::parse("10.82.0.0/16")) != 0) {
      return "cannot delete 10.82.0.0/16";
    }
    if (!dev_for("10.82.0.1").empty()) return "10.82.0.0/16 still routed after delete";
    return "";
  });
}

}  // namespace
}  // namespace utcp::dev
