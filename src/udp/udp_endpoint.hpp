// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The UDP layer's vocabulary: an endpoint of either family, and what is known about a
// received datagram besides its bytes.
#include <cstdint>

#include "utcp/address.hpp"

namespace utcp::udp {

struct UdpEndpoint {
  IpAddr addr;
  uint16_t port = 0;
  friend constexpr bool operator==(const UdpEndpoint&, const UdpEndpoint&) = default;
};

// A received datagram's addressing: who sent it (recvfrom's address), where it was sent
// (IP_PKTINFO / IPV6_RECVPKTINFO; what a forwarding embedder needs), and the IP traffic
// class (the IPv4 TOS byte or the IPv6 Traffic Class: DSCP << 2 | ECN, RFC 2474, RFC 3168).
struct DatagramInfo {
  UdpEndpoint src;
  UdpEndpoint dst;
  uint8_t traffic_class = 0;
  uint8_t ecn() const { return traffic_class & 0x03; }
};

}  // namespace utcp::udp
