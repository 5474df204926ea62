// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A kernel socket address for tests that talk to the kernel's TCP/UDP beside a stack.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>

#include "utcp/address.hpp"

namespace utcp::test {

inline sockaddr_in sockaddr_of(wire::Ipv4Addr a, uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(a.value);
  sin.sin_port = htons(port);
  return sin;
}

}  // namespace utcp::test
