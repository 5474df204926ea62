// SPDX-License-Identifier: BSD-2-Clause
#include "posix/sockaddr_codec.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace utcp::posix {

namespace {
// Linux accepts the RFC 2133 sockaddr_in6, without sin6_scope_id (24 bytes).
constexpr socklen_t kSin6LenRfc2133 = 24;
}  // namespace

int decode_sockaddr(int domain, const sockaddr* addr, socklen_t len, SockAddr& out) {
  if (!addr && len > 0) return EFAULT;  // Linux: the address cannot be copied in
  if (domain == AF_INET6) {
    if (!addr || len < kSin6LenRfc2133) return EINVAL;
    if (addr->sa_family != AF_INET6) return EAFNOSUPPORT;
    sockaddr_in6 in6{};
    std::memcpy(&in6, addr, std::min<size_t>(len, sizeof in6));
    const Ipv6Addr a = Ipv6Addr::from_bytes(in6.sin6_addr.s6_addr);
    out.port = ntohs(in6.sin6_port);
    out.mapped = a.is_v4_mapped();
    out.addr = out.mapped ? IpAddr(*a.to_v4_mapped()) : IpAddr(a);
    return 0;
  }
  if (!addr || len < static_cast<socklen_t>(sizeof(sockaddr_in))) return EINVAL;
  if (addr->sa_family != AF_INET) return EAFNOSUPPORT;
  sockaddr_in in{};
  std::memcpy(&in, addr, sizeof in);
  out.addr = Ipv4Addr(ntohl(in.sin_addr.s_addr));
  out.port = ntohs(in.sin_port);
  out.mapped = false;
  return 0;
}

void encode_sockaddr(int domain, const IpAddr& addr, uint16_t port, sockaddr* out, socklen_t* len) {
  if (domain == AF_INET6) {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    // v6() of an IPv4 address is its IPv4-mapped form.
    std::memcpy(in6.sin6_addr.s6_addr, addr.v6().bytes.data(), 16);
    std::memcpy(out, &in6, std::min<size_t>(*len, sizeof in6));
    *len = sizeof in6;
    return;
  }
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  in.sin_addr.s_addr = htonl(addr.v4().value);
  std::memcpy(out, &in, std::min<size_t>(*len, sizeof in));
  *len = sizeof in;
}

}  // namespace utcp::posix
