// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// utcp Endpoint <-> the kernel's sockaddr, for the proxy's upstream sockets.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "utcp/address.hpp"

namespace utcp::proxy {

inline socklen_t to_sockaddr(const Endpoint& e, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof out);
  if (e.addr.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(e.port);
    sin->sin_addr.s_addr = htonl(e.addr.v4().value);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(e.port);
  std::memcpy(&sin6->sin6_addr, e.addr.v6().bytes.data(), 16);
  return sizeof(sockaddr_in6);
}

inline Endpoint from_sockaddr(const sockaddr_storage& in) {
  if (in.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&in);
    return Endpoint{Ipv4Addr(ntohl(sin->sin_addr.s_addr)), ntohs(sin->sin_port)};
  }
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&in);
  const Ipv6Addr a = Ipv6Addr::from_bytes(reinterpret_cast<const uint8_t*>(&sin6->sin6_addr));
  if (auto v4 = a.to_v4_mapped()) return Endpoint{*v4, ntohs(sin6->sin6_port)};
  return Endpoint{a, ntohs(sin6->sin6_port)};
}

inline int family_of(const Endpoint& e) {
  return e.addr.is_v4() ? AF_INET : AF_INET6;
}

}  // namespace utcp::proxy
