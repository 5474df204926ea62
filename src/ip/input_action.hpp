// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What the Stack does with a packet the IP layer took in; shared by IPv4 and IPv6 input.
#include <cstdint>

namespace utcp::ip {

enum class InputAction : uint8_t {
  kDrop,          // rejected; a counter says why
  kHeld,          // a fragment, stored until its datagram is complete
  kConsumed,      // handled here, nothing for the Stack (e.g. an echo reply or source quench)
  kTcp,           // a TCP segment for the Stack: src, dst, ecn, payload
  kUdp,           // a UDP datagram for the Stack: src, dst, payload (and more, per family)
  kIcmpError,     // an ICMP error about one of our TCP segments: icmp_error
  kReply,         // transmit `reply` (an echo reply or an ICMP error we generated)
  kUdpIcmpError,  // an ICMP error about one of our UDP datagrams: icmp_error
};

}  // namespace utcp::ip
