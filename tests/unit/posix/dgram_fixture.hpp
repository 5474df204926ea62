// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The SOCK_DGRAM tests' fixture: two dual-stack stacks on a simulated link (virtual clock,
// fixed secrets; support/sim_net.hpp), a facade on each, and address helpers of both families.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "support/counters.hpp"
#include "support/sim_net.hpp"
#include "utcp/posix.hpp"

namespace utcp::posix {

inline const Ipv4Addr kDgramA4(10, 77, 0, 2);
inline const Ipv4Addr kDgramB4(10, 77, 0, 1);
inline const Ipv6Addr kDgramA6(0xfd77, 0, 0, 0, 0, 0, 0, 2);
inline const Ipv6Addr kDgramB6(0xfd77, 0, 0, 0, 0, 0, 0, 1);

inline sockaddr_in in4(Ipv4Addr a, uint16_t port) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  in.sin_addr.s_addr = htonl(a.value);
  return in;
}

inline sockaddr_in6 in6(const Ipv6Addr& a, uint16_t port) {
  sockaddr_in6 s{};
  s.sin6_family = AF_INET6;
  s.sin6_port = htons(port);
  std::memcpy(s.sin6_addr.s6_addr, a.bytes.data(), 16);
  return s;
}

// ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
inline sockaddr_in6 mapped(Ipv4Addr a, uint16_t port) {
  return in6(IpAddr(a).v6(), port);
}

template <class T>
const sockaddr* csa(const T& in) {
  return reinterpret_cast<const sockaddr*>(&in);
}
template <class T>
sockaddr* msa(T& in) {
  return reinterpret_cast<sockaddr*>(&in);
}

class DgramTest : public ::testing::Test {
 protected:
  test::SimNet net;
  Sockets a{net.a()};  // no host: every call is non-blocking
  Sockets b{net.b()};

  void settle() { net.advance(std::chrono::milliseconds(50)); }

  static uint64_t counter(const Stack& s, std::string_view name) { return test::counter(s, name); }

  // A UDP socket of `domain` on `side` bound to the wildcard and `port`.
  static int bound(Sockets& side, int domain, uint16_t port) {
    const int fd = side.socket(domain, SOCK_DGRAM, 0);
    EXPECT_GE(fd, 0);
    if (domain == AF_INET) {
      const sockaddr_in any = in4(Ipv4Addr(), port);
      EXPECT_EQ(side.bind(fd, csa(any), sizeof any), 0);
    } else {
      const sockaddr_in6 any = in6(Ipv6Addr(), port);
      EXPECT_EQ(side.bind(fd, csa(any), sizeof any), 0);
    }
    return fd;
  }

  static uint16_t port_of(Sockets& side, int fd) {
    sockaddr_in6 name{};  // big enough for either family; the port sits at the same offset
    socklen_t len = sizeof name;
    EXPECT_EQ(side.getsockname(fd, msa(name), &len), 0);
    return ntohs(name.sin6_port);
  }
};

}  // namespace utcp::posix
