// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Which error an ICMP or ICMPv6 message about one of our datagrams becomes for a connected
// UDP socket (RFC 1122 §4.1.3.3: UDP MUST pass every ICMP error to the application). The
// errno values are Linux's (icmp_err_convert, icmpv6_err_convert). Unlike Linux without
// IP_RECVERR, the "soft" ones (net and host unreachable, time exceeded) are reported too, as
// RFC 1122 asks. nullopt: not an error for the application (source quench, RFC 6633; a
// fragmentation-needed or packet-too-big message, which updates the path MTU instead).
#include <cstdint>
#include <optional>
#include <system_error>

namespace utcp::udp {

std::optional<std::errc> udp_error_from_icmp(uint8_t type, uint8_t code);
std::optional<std::errc> udp_error_from_icmpv6(uint8_t type, uint8_t code);

}  // namespace utcp::udp
