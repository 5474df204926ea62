// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// utcp-proxy's kernel routes into its TUN and the guard that keeps the proxy's own upstream
// sockets out of them (issue 14, "Routes" and "never routed back into the TUN").
//
// Routes: --route prefixes, and with --auto-route the split routes 0.0.0.0/1 + 128.0.0.0/1
// and ::/1 + 8000::/1 ("split default"): together they cover every address, and as /1s they
// are longer than any default route (/0), so they win without the default route being
// replaced or deleted; undoing them restores the routing table exactly. More specific routes
// (the LAN, the TUN's own link, local addresses) still win over them, so the local network
// stays reachable directly. With --dns fake-ip the fake-IP pools are routed into the TUN too.
// All are added by rtnetlink through the TUN's ifindex: the kernel deletes them with the
// device, so even a SIGKILLed proxy leaves none behind; the destructor removes them on a
// normal exit.
//
// Loop prevention: every upstream socket gets SO_BINDTODEVICE to the outbound interface
// (found before the routes are added) and, with --fwmark, SO_MARK. A socket bound to a device
// is routed only by routes through that device (Linux restricts the lookup to it), so the
// split routes into the TUN never apply to it. See docs/proxy.md for the choice.
#include <string>
#include <vector>

#include "proxy_config.hpp"

namespace utcp::proxy {

class RouteSetup {
 public:
  // Resolves the outbound interface (--interface; else, with --auto-route or a --route that
  // covers the upstream server, the interface of the kernel's current route to the upstream
  // server, or for --direct the default route's), then adds the routes through the TUN
  // `tun_name`. Throws std::runtime_error with a one-line message fit for the user; nothing is
  // left added then.
  RouteSetup(const ProxyConfig& config, const std::string& tun_name);
  ~RouteSetup();  // removes what it added
  RouteSetup(const RouteSetup&) = delete;
  RouteSetup& operator=(const RouteSetup&) = delete;

  // SO_BINDTODEVICE (the outbound interface for the socket's family) and SO_MARK (--fwmark) on
  // an upstream socket, before its connect(). false with `error` set (one line) on failure.
  bool prepare_upstream_socket(int fd, std::string& error) const;
  // The interface upstream sockets are bound to; empty: none bound.
  const std::string& outbound_interface() const { return outbound_; }
  // For IPv6 sockets, when it differs (--direct --auto-route with the IPv4 and IPv6 default
  // routes on different interfaces); else empty and outbound_interface() applies.
  const std::string& outbound_interface6() const { return outbound6_; }
  // The routes it added through the TUN, in order.
  const std::vector<IpPrefix>& routes() const { return added_; }

  // The split routes of --auto-route for IPv4 and, if `ipv6`, IPv6.
  static std::vector<IpPrefix> auto_route_prefixes(bool ipv6);
  // The prefix with the bits past its length cleared (what the kernel stores).
  static IpPrefix canonical(const IpPrefix& prefix);

 private:
  void resolve_outbound(const ProxyConfig& config, const std::vector<IpPrefix>& wanted);
  void add(const IpPrefix& prefix);
  void remove_all() noexcept;

  std::string tun_;
  int tun_ifindex_ = 0;
  std::string outbound_;
  std::string outbound6_;
  uint32_t fwmark_ = 0;
  std::vector<IpPrefix> added_;
};

}  // namespace utcp::proxy
