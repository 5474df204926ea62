// SPDX-License-Identifier: BSD-2-Clause
#include "udp/udp_icmp.hpp"

#include "wire/icmp.hpp"
#include "wire/icmpv6.hpp"

namespace utcp::udp {

std::optional<std::errc> udp_error_from_icmp(uint8_t type, uint8_t code) {
  switch (type) {
    case wire::icmp_type::kDestUnreachable:
      // RFC 1122 §3.2.2.1 codes 0-12, RFC 1812 §5.2.7.1 codes 13-15.
      switch (code) {
        case wire::icmp_unreach::kNet:
        case 6:   // destination network unknown
        case 9:   // network administratively prohibited
        case 11:  // network unreachable for TOS
          return std::errc::network_unreachable;
        case wire::icmp_unreach::kProtocol:
          return std::errc::no_protocol_option;
        case wire::icmp_unreach::kPort:
          return std::errc::connection_refused;
        case wire::icmp_unreach::kFragmentationNeeded:
          return std::nullopt;  // RFC 1191: a path MTU update, not an error
        case wire::icmp_unreach::kSourceRouteFailed:
          return std::errc::operation_not_supported;
        case 7:   // destination host unknown (Linux: EHOSTDOWN, which std::errc lacks)
        default:  // host (1), isolated (8), administratively prohibited (10, 13), ...
          return std::errc::host_unreachable;
      }
    case wire::icmp_type::kTimeExceeded:
      return std::errc::host_unreachable;
    case wire::icmp_type::kParameterProblem:
      return std::errc::protocol_error;
    default:
      return std::nullopt;  // source quench (RFC 6633: ignored) and non-errors
  }
}

std::optional<std::errc> udp_error_from_icmpv6(uint8_t type, uint8_t code) {
  switch (type) {
    case wire::icmpv6_type::kDestUnreachable:
      switch (code) {  // RFC 4443 §3.1
        case wire::icmpv6_unreach::kNoRoute:
          return std::errc::network_unreachable;
        case wire::icmpv6_unreach::kPort:
          return std::errc::connection_refused;
        case wire::icmpv6_unreach::kAdminProhibited:
        case wire::icmpv6_unreach::kSourcePolicy:
        case wire::icmpv6_unreach::kRejectRoute:
          return std::errc::permission_denied;
        default:  // beyond scope, address unreachable, unknown codes
          return std::errc::host_unreachable;
      }
    case wire::icmpv6_type::kPacketTooBig:
      return std::nullopt;  // RFC 8201: a path MTU update
    case wire::icmpv6_type::kTimeExceeded:
      return std::errc::host_unreachable;
    case wire::icmpv6_type::kParameterProblem:
      return std::errc::protocol_error;
    default:
      return std::nullopt;
  }
}

}  // namespace utcp::udp
