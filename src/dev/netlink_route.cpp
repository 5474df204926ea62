// SPDX-License-Identifier: BSD-2-Clause
#include "dev/netlink_route.hpp"

#include <net/if.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>

#include "dev/netlink_request.hpp"

namespace utcp::dev {

namespace {

size_t family_bytes(const IpAddr& a) {
  return a.is_v4() ? 4 : 16;
}

// The address in wire order: the last 4 of bytes16() for IPv4 (its IPv4-mapped form).
const uint8_t* wire_bytes(const IpAddr& a) {
  return a.bytes16().data() + (a.is_v4() ? 12 : 0);
}

IpAddr addr_from_wire(bool v6, const void* data) {
  const auto* p = static_cast<const uint8_t*>(data);
  if (v6) return Ipv6Addr::from_bytes(p);
  return Ipv4Addr(p[0], p[1], p[2], p[3]);
}

// The prefix's address with every bit past its length cleared: the kernel refuses a route
// whose destination has host bits set (EINVAL).
std::array<uint8_t, 16> masked(const IpPrefix& prefix, uint8_t& len) {
  const size_t n = family_bytes(prefix.addr);
  len = static_cast<uint8_t>(std::min<size_t>(prefix.length, n * 8));
  std::array<uint8_t, 16> out{};
  std::memcpy(out.data(), wire_bytes(prefix.addr), n);
  for (size_t bit = len; bit < n * 8; ++bit) {
    out[bit / 8] = static_cast<uint8_t>(out[bit / 8] & ~(0x80u >> (bit % 8)));
  }
  return out;
}

int change_route(uint16_t type, uint16_t flags, int ifindex, const IpPrefix& prefix) {
  rtmsg rtm{};
  rtm.rtm_family = prefix.addr.is_v4() ? AF_INET : AF_INET6;
  const auto dst = masked(prefix, rtm.rtm_dst_len);
  rtm.rtm_table = RT_TABLE_MAIN;
  rtm.rtm_protocol = RTPROT_STATIC;
  // A route through a device without a gateway: its addresses are on the link (what
  // `ip route add P dev IF` makes). A delete with scope "nowhere" matches any scope.
  rtm.rtm_scope = type == RTM_NEWROUTE ? RT_SCOPE_LINK : RT_SCOPE_NOWHERE;
  rtm.rtm_type = RTN_UNICAST;
  NetlinkRequest request(type, flags, &rtm, sizeof rtm);
  if (rtm.rtm_dst_len > 0) request.add_attr(RTA_DST, dst.data(), family_bytes(prefix.addr));
  const auto oif = static_cast<uint32_t>(ifindex);
  request.add_attr(RTA_OIF, &oif, sizeof oif);
  return netlink_transact(request);
}

// Reads the answer to a route request (an RTM_NEWROUTE message) into `out`.
void parse_route(const nlmsghdr& reply, RouteInfo& out) {
  if (reply.nlmsg_type != RTM_NEWROUTE || reply.nlmsg_len < NLMSG_LENGTH(sizeof(rtmsg))) return;
  const auto* rtm = static_cast<const rtmsg*>(NLMSG_DATA(&reply));
  const bool v6 = rtm->rtm_family == AF_INET6;
  const size_t alen = v6 ? 16 : 4;
  out.type = rtm->rtm_type;
  for_each_rtattr(reply, sizeof(rtmsg), [&](const rtattr& a) {
    const size_t len = RTA_PAYLOAD(&a);
    if (a.rta_type == RTA_OIF && len >= sizeof(uint32_t)) {
      uint32_t oif;
      std::memcpy(&oif, RTA_DATA(&a), sizeof oif);
      out.ifindex = static_cast<int>(oif);
    } else if (a.rta_type == RTA_GATEWAY && len >= alen) {
      out.gateway = addr_from_wire(v6, RTA_DATA(&a));
    } else if (a.rta_type == RTA_PREFSRC && len >= alen) {
      out.source = addr_from_wire(v6, RTA_DATA(&a));
    } else if (a.rta_type == RTA_MULTIPATH && len >= sizeof(rtnexthop) && out.ifindex == 0) {
      // A multipath route (several next hops): its first next hop's interface.
      const auto* nh = static_cast<const rtnexthop*>(RTA_DATA(&a));
      out.ifindex = nh->rtnh_ifindex;
    }
  });
  char name[IF_NAMESIZE] = {};
  if (out.ifindex > 0 && ::if_indextoname(static_cast<unsigned>(out.ifindex), name) != nullptr) {
    out.interface = name;
  }
}

}  // namespace

int netlink_add_route(int ifindex, const IpPrefix& prefix) {
  return change_route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, ifindex, prefix);
}

int netlink_delete_route(int ifindex, const IpPrefix& prefix) {
  return change_route(RTM_DELROUTE, 0, ifindex, prefix);
}

std::optional<RouteInfo> netlink_route_lookup(const IpAddr& destination, uint32_t mark, int& err) {
  RouteInfo info;
  bool got = false;
  // RTM_F_FIB_MATCH (Linux 4.13) answers with the FIB entry that matched, whose prefix length
  // tells a default route from a more specific one; without it, the route to the one address.
  for (const unsigned flags : {unsigned{RTM_F_FIB_MATCH}, 0u}) {
    rtmsg rtm{};
    rtm.rtm_family = destination.is_v4() ? AF_INET : AF_INET6;
    rtm.rtm_dst_len = static_cast<uint8_t>(family_bytes(destination) * 8);
    rtm.rtm_flags = flags;
    NetlinkRequest request(RTM_GETROUTE, 0, &rtm, sizeof rtm);
    request.add_attr(RTA_DST, wire_bytes(destination), family_bytes(destination));
    if (mark != 0) request.add_attr(RTA_MARK, &mark, sizeof mark);
    info = RouteInfo{};
    got = false;
    err = netlink_transact(request, [&](const nlmsghdr& reply) {
      if (reply.nlmsg_type != RTM_NEWROUTE || reply.nlmsg_len < NLMSG_LENGTH(sizeof(rtmsg))) {
        return;
      }
      parse_route(reply, info);
      if (flags != 0)
        info.matched_prefix_len = static_cast<const rtmsg*>(NLMSG_DATA(&reply))->rtm_dst_len;
      got = true;
    });
    if (err == 0 && got) return info;
    // Only an older kernel's refusal of the flag is worth the second try.
    if (err != EINVAL) break;
  }
  if (err == 0) err = EPROTO;
  return std::nullopt;
}

std::optional<RouteInfo> netlink_default_route(bool v6) {
  rtmsg rtm{};
  rtm.rtm_family = v6 ? AF_INET6 : AF_INET;
  NetlinkRequest request(RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof rtm);
  std::optional<RouteInfo> best;
  uint32_t best_metric = std::numeric_limits<uint32_t>::max();
  const int err = netlink_transact(request, [&](const nlmsghdr& reply) {
    if (reply.nlmsg_type != RTM_NEWROUTE || reply.nlmsg_len < NLMSG_LENGTH(sizeof(rtmsg))) return;
    const auto* r = static_cast<const rtmsg*>(NLMSG_DATA(&reply));
    if (r->rtm_dst_len != 0 || r->rtm_table != RT_TABLE_MAIN || r->rtm_type != RTN_UNICAST) return;
    uint32_t metric = 0;
    uint32_t table = r->rtm_table;
    for_each_rtattr(reply, sizeof(rtmsg), [&](const rtattr& a) {
      if (RTA_PAYLOAD(&a) < sizeof(uint32_t)) return;
      if (a.rta_type == RTA_PRIORITY) std::memcpy(&metric, RTA_DATA(&a), sizeof metric);
      if (a.rta_type == RTA_TABLE) std::memcpy(&table, RTA_DATA(&a), sizeof table);
    });
    if (table != RT_TABLE_MAIN || (best && metric >= best_metric)) return;
    RouteInfo info;
    parse_route(reply, info);
    if (info.ifindex == 0) return;  // no interface: nothing to bind to
    info.matched_prefix_len = 0;
    best = info;
    best_metric = metric;
  });
  if (err != 0) return std::nullopt;
  return best;
}

}  // namespace utcp::dev
