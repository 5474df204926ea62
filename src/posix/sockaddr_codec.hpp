// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Socket addresses in and out of the facade: sockaddr_in for AF_INET sockets, sockaddr_in6
// for AF_INET6 ones, where an IPv4 peer of a dual-stack socket appears as its IPv4-mapped
// address ::ffff:a.b.c.d (RFC 4291 §2.5.5.2, RFC 3493 §3.7). Checks and errno values as
// Linux's inet_bind/inet6_bind and tcp_v4_connect/tcp_v6_connect.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

#include "utcp/address.hpp"

namespace utcp::posix {

struct SockAddr {
  IpAddr addr;  // an AF_INET6 sockaddr holding ::ffff:a.b.c.d decodes to the IPv4 address
  uint16_t port = 0;
  bool mapped = false;  // it was written as an IPv4-mapped IPv6 address
};

// Reads the address given to bind() or connect() on a socket of `domain`; 0, or the errno:
// EFAULT for NULL with a length, EINVAL when shorter than the family's sockaddr,
// EAFNOSUPPORT for another family (an AF_INET6 socket takes only sockaddr_in6).
int decode_sockaddr(int domain, const sockaddr* addr, socklen_t len, SockAddr& out);

// Writes `addr`:`port` as a socket of `domain` names it (an IPv4 address on an AF_INET6
// socket as ::ffff:a.b.c.d), truncated to *len as Linux does; *len becomes the full size.
void encode_sockaddr(int domain, const IpAddr& addr, uint16_t port, sockaddr* out, socklen_t* len);

}  // namespace utcp::posix
