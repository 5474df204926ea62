// SPDX-License-Identifier: BSD-2-Clause
#include "route_setup.hpp"

#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "dev/netlink_route.hpp"

namespace utcp::proxy {

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

// Whether the kernel has IPv6 switched on for `interface` (the TUN gets it unless --no-ipv6).
bool ipv6_on(const std::string& interface) {
  std::ifstream f("/proc/sys/net/ipv6/conf/" + interface + "/disable_ipv6");
  int disabled = 1;
  return f >> disabled && disabled == 0;
}

// A route through an interface other than the TUN, by which the kernel really sends (not a
// local delivery, a blackhole or an unreachable route).
bool usable(const std::optional<dev::RouteInfo>& r, int tun_ifindex) {
  return r && r->type == RTN_UNICAST && r->ifindex > 0 && r->ifindex != tun_ifindex &&
         !r->interface.empty();
}

// An address inside `p` to ask the kernel about: the first after the network address (which
// the local table may hold as a broadcast address), or the address itself for a /31, /32.
IpAddr probe_address(const IpPrefix& p) {
  const size_t bits = p.addr.is_v4() ? 32 : 128;
  if (size_t{p.length} + 1 >= bits) return p.addr;
  std::array<uint8_t, 16> b = p.addr.bytes16();
  b[15] = static_cast<uint8_t>(b[15] | 1);
  return p.addr.is_v4() ? IpAddr(Ipv4Addr(b[12], b[13], b[14], b[15])) : IpAddr(Ipv6Addr(b));
}

}  // namespace

std::vector<IpPrefix> RouteSetup::auto_route_prefixes(bool ipv6) {
  std::vector<IpPrefix> out = {*IpPrefix::parse("0.0.0.0/1"), *IpPrefix::parse("128.0.0.0/1")};
  if (ipv6) {
    out.push_back(*IpPrefix::parse("::/1"));
    out.push_back(*IpPrefix::parse("8000::/1"));
  }
  return out;
}

IpPrefix RouteSetup::canonical(const IpPrefix& prefix) {
  const size_t first = prefix.addr.is_v4() ? 12 : 0;
  const size_t bits = prefix.addr.is_v4() ? 32 : 128;
  const auto len = static_cast<uint8_t>(std::min<size_t>(prefix.length, bits));
  std::array<uint8_t, 16> b = prefix.addr.bytes16();
  for (size_t bit = len; bit < bits; ++bit) {
    b[first + bit / 8] = static_cast<uint8_t>(b[first + bit / 8] & ~(0x80u >> (bit % 8)));
  }
  const IpAddr addr =
      prefix.addr.is_v4() ? IpAddr(Ipv4Addr(b[12], b[13], b[14], b[15])) : IpAddr(Ipv6Addr(b));
  return IpPrefix{addr, len};
}

RouteSetup::RouteSetup(const ProxyConfig& config, const std::string& tun_name)
    : tun_(tun_name), fwmark_(config.fwmark) {
  tun_ifindex_ = static_cast<int>(::if_nametoindex(tun_name.c_str()));
  if (tun_ifindex_ == 0) throw std::runtime_error("no TUN interface '" + tun_name + "'");

  // What goes into the TUN: --route, the split default of --auto-route, the fake-IP pools;
  // each once (two spellings of one prefix would be refused by the kernel as a duplicate).
  const bool v6 = ipv6_on(tun_name);
  std::vector<IpPrefix> wanted;
  const auto want = [&wanted](const IpPrefix& p) {
    const IpPrefix c = canonical(p);
    if (std::find(wanted.begin(), wanted.end(), c) == wanted.end()) wanted.push_back(c);
  };
  for (const IpPrefix& p : config.routes) want(p);
  if (config.auto_route) {
    // Without IPv6 on the TUN (--no-ipv6) IPv6 is left to the kernel's own routes.
    for (const IpPrefix& p : auto_route_prefixes(v6)) want(p);
  }
  if (config.dns == DnsMode::kFakeIp) {
    want(config.fake_ip_pool);
    if (v6) want(config.fake_ip_pool6);
  }

  // Before any route is added: afterwards the kernel's answer would be the TUN itself.
  resolve_outbound(config, wanted);
  try {
    for (const IpPrefix& p : wanted) add(p);
  } catch (...) {
    remove_all();
    throw;
  }
}

RouteSetup::~RouteSetup() {
  remove_all();
}

void RouteSetup::resolve_outbound(const ProxyConfig& config, const std::vector<IpPrefix>& wanted) {
  if (!config.outbound_interface.empty()) {
    if (config.outbound_interface == tun_) {
      throw std::runtime_error("--interface " + tun_ + " is the proxy's own TUN");
    }
    if (::if_nametoindex(config.outbound_interface.c_str()) == 0) {
      throw std::runtime_error("--interface " + config.outbound_interface + ": no such interface");
    }
    outbound_ = config.outbound_interface;
    return;
  }
  if (wanted.empty()) return;  // nothing routed into the TUN: nothing can loop

  if (config.upstream == UpstreamKind::kDirect) {
    // Direct connections go to the original destinations, which are inside the routed
    // prefixes by construction: each family's connections leave by the interface the kernel
    // used for those prefixes before (with --auto-route: the default route's).
    for (const bool v6 : {false, true}) {
      std::optional<dev::RouteInfo> r;
      if (config.auto_route) {
        r = dev::netlink_default_route(v6);
      } else {
        const auto p = std::find_if(wanted.begin(), wanted.end(),
                                    [v6](const IpPrefix& q) { return q.addr.is_v6() == v6; });
        int err = 0;
        if (p != wanted.end()) r = dev::netlink_route_lookup(probe_address(*p), fwmark_, err);
      }
      if (usable(r, tun_ifindex_)) (v6 ? outbound6_ : outbound_) = r->interface;
    }
    if (outbound_.empty() && outbound6_.empty()) {
      throw std::runtime_error(
          std::string(config.auto_route ? "--auto-route" : "--route") +
          " with --direct: no route by another interface than the TUN for the proxy's own "
          "connections (no default route?); give --interface IF");
    }
    if (outbound_.empty()) std::swap(outbound_, outbound6_);
    if (outbound6_ == outbound_) outbound6_.clear();
    return;
  }

  // A SOCKS5 or HTTP proxy: its server must stay reachable outside the TUN.
  const IpAddr server = config.upstream_server.addr;
  const bool covered = std::any_of(wanted.begin(), wanted.end(),
                                   [&server](const IpPrefix& p) { return p.contains(server); });
  int err = 0;
  const auto r = dev::netlink_route_lookup(server, fwmark_, err);
  // A server on this host: the local table is consulted before any route into the TUN.
  if (r && r->type == RTN_LOCAL) return;
  if (usable(r, tun_ifindex_)) {
    // Bound even when a more specific route keeps the server out of the split routes: the
    // binding also survives a later change of the routing table.
    if (covered || config.auto_route) outbound_ = r->interface;
    return;
  }
  if (covered) {
    throw std::runtime_error(
        std::string(config.auto_route ? "--auto-route" : "--route") +
        " would send the proxy's own connections to its server " + server.to_string() +
        " into the TUN, and no route to it leaves by another interface (" +
        (r ? "only through " + (r->interface.empty() ? std::string("none") : r->interface)
           : errno_text(err)) +
        "); give --interface IF");
  }
}

void RouteSetup::add(const IpPrefix& prefix) {
  if (const int err = dev::netlink_add_route(tun_ifindex_, prefix); err != 0) {
    std::string why = "cannot add the route to " + prefix.to_string() + " through '" + tun_ +
                      "': " + errno_text(err);
    if (err == EEXIST) why += " (a route to that prefix exists already)";
    if (prefix.addr.is_v6() && !ipv6_on(tun_)) why += " (IPv6 is off on the TUN)";
    throw std::runtime_error(why);
  }
  added_.push_back(prefix);
}

void RouteSetup::remove_all() noexcept {
  // The device may be gone already (its routes with it): ESRCH/ENODEV are expected then.
  while (!added_.empty()) {
    (void)dev::netlink_delete_route(tun_ifindex_, added_.back());
    added_.pop_back();
  }
}

bool RouteSetup::prepare_upstream_socket(int fd, std::string& error) const {
  // The family matters only when IPv6 leaves by an interface of its own; otherwise asking
  // would be one system call per upstream connection for nothing.
  int domain = AF_UNSPEC;
  socklen_t len = sizeof domain;
  if (!outbound6_.empty() && ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) {
    error = "upstream socket: SO_DOMAIN: " + errno_text(errno);
    return false;
  }
  const std::string& dev = domain == AF_INET6 && !outbound6_.empty() ? outbound6_ : outbound_;
  if (!dev.empty() && ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev.c_str(),
                                   static_cast<socklen_t>(dev.size())) < 0) {
    error = "upstream socket: SO_BINDTODEVICE " + dev + ": " + errno_text(errno);
    return false;
  }
  if (fwmark_ != 0 && ::setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark_, sizeof fwmark_) < 0) {
    error = "upstream socket: SO_MARK " + std::to_string(fwmark_) + ": " + errno_text(errno);
    return false;
  }
  return true;
}

}  // namespace utcp::proxy
