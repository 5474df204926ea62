// SPDX-License-Identifier: BSD-2-Clause
#include "stack/icmp_errors.hpp"

#include <algorithm>
#include <limits>

#include "wire/icmp.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv6.hpp"

namespace utcp::stack {

namespace {

// RFC 4443 §3.1-§3.4, with the errno Linux's icmpv6_err_convert gives each code in mind.
tcp::IcmpError icmpv6_to_tcp(const ip::IcmpError& e) {
  if (e.type == wire::icmpv6_type::kTimeExceeded) return tcp::IcmpError::kTimeExceeded;
  if (e.type == wire::icmpv6_type::kParameterProblem) return tcp::IcmpError::kParameterProblem;
  if (e.type == wire::icmpv6_type::kPacketTooBig) return tcp::IcmpError::kFragmentationNeeded;
  if (e.type != wire::icmpv6_type::kDestUnreachable) return tcp::IcmpError::kHostUnreachable;
  switch (e.code) {
    case wire::icmpv6_unreach::kNoRoute:
      return tcp::IcmpError::kNetUnreachable;
    case wire::icmpv6_unreach::kPort:
      return tcp::IcmpError::kPortUnreachable;
    case wire::icmpv6_unreach::kAdminProhibited:
    case wire::icmpv6_unreach::kSourcePolicy:
    case wire::icmpv6_unreach::kRejectRoute:
      return tcp::IcmpError::kAdminProhibited;
    default:  // beyond scope, address unreachable
      return tcp::IcmpError::kHostUnreachable;
  }
}

}  // namespace

tcp::IcmpError icmp_to_tcp(const ip::IcmpError& e) {
  if (e.is_v6()) return icmpv6_to_tcp(e);
  if (e.type == wire::icmp_type::kTimeExceeded) return tcp::IcmpError::kTimeExceeded;
  if (e.type == wire::icmp_type::kParameterProblem) return tcp::IcmpError::kParameterProblem;
  // RFC 792 / RFC 1122 §3.2.2.1: Destination Unreachable codes.
  switch (e.code) {
    case 0:
      return tcp::IcmpError::kNetUnreachable;
    case 1:
      return tcp::IcmpError::kHostUnreachable;
    case 2:
      return tcp::IcmpError::kProtocolUnreachable;
    case 3:
      return tcp::IcmpError::kPortUnreachable;
    case 4:
      return tcp::IcmpError::kFragmentationNeeded;
    case 5:
      return tcp::IcmpError::kSourceRouteFailed;
    case 9:
    case 10:
    case 13:
      return tcp::IcmpError::kAdminProhibited;
    default:
      return tcp::IcmpError::kHostUnreachable;
  }
}

bool icmp_quote_in_flight(const tcp::Tcb& tcb, wire::SeqNum seq) {
  // RFC 5927 §4.1: SND.UNA <= SEG.SEQ; SND.MAX is the RFC's SND.NXT (ours rewinds on an RTO,
  // while segments sent before it may still be quoted).
  return seq.distance_from(tcb.snd_una) <= tcb.snd_max.distance_from(tcb.snd_una);
}

uint16_t tcp_path_mtu_for(uint16_t next_hop_mtu, uint16_t current) {
  // RFC 1191 §5: a router that does not say the MTU gets the next lower plateau; we take
  // the conservative 576 of RFC 1122 §3.3.3 (MSS 536).
  const uint16_t reported = next_hop_mtu ? next_hop_mtu : 576;
  const uint16_t floored = std::max(reported, kTcpMinPathMtu);
  return std::min(floored, current);
}

uint16_t tcp_path_mtu6_for(uint32_t packet_too_big_mtu, uint16_t current) {
  // RFC 8201 §4: never below the IPv6 minimum link MTU, whatever the message says.
  const auto floored = static_cast<uint16_t>(std::clamp<uint32_t>(
      packet_too_big_mtu, wire::kIpv6MinMtu, std::numeric_limits<uint16_t>::max()));
  return std::min(floored, current);
}

bool deliver_icmp_error(tcp::Connection& c, const ip::IcmpError& e, Instant now) {
  if (!icmp_quote_in_flight(c.tcb(), e.seq)) return false;
  if (e.kind == ip::IcmpErrorKind::kPathMtu) {
    const uint16_t current = c.config().path_mtu;
    c.set_path_mtu(e.is_v6() ? tcp_path_mtu6_for(e.next_hop_mtu, current)
                             : tcp_path_mtu_for(e.next_hop_mtu, current));
    c.on_icmp_error(tcp::IcmpError::kFragmentationNeeded, now);
  } else {
    c.on_icmp_error(icmp_to_tcp(e), now);
  }
  return true;
}

std::error_code error_for(tcp::ErrorReason r) {
  switch (r) {
    case tcp::ErrorReason::kRefused:
      return std::make_error_code(std::errc::connection_refused);
    case tcp::ErrorReason::kReset:
      return std::make_error_code(std::errc::connection_reset);
    case tcp::ErrorReason::kTimedOut:
      return std::make_error_code(std::errc::timed_out);
    case tcp::ErrorReason::kAborted:
      return std::make_error_code(std::errc::connection_aborted);
    case tcp::ErrorReason::kNone:
      break;
  }
  return {};
}

std::error_code soft_error_code(const tcp::SoftError& e) {
  using std::errc;
  if (e.kind == tcp::SoftError::Kind::kRetransmitThreshold) {
    return std::make_error_code(errc::timed_out);
  }
  switch (e.icmp) {
    case tcp::IcmpError::kNetUnreachable:
      return std::make_error_code(errc::network_unreachable);
    case tcp::IcmpError::kProtocolUnreachable:
      return std::make_error_code(errc::no_protocol_option);
    case tcp::IcmpError::kPortUnreachable:
      return std::make_error_code(errc::connection_refused);
    case tcp::IcmpError::kFragmentationNeeded:
      return std::make_error_code(errc::message_size);
    case tcp::IcmpError::kSourceRouteFailed:
      return std::make_error_code(errc::operation_not_supported);
    case tcp::IcmpError::kParameterProblem:
      return std::make_error_code(errc::protocol_error);
    case tcp::IcmpError::kHostUnreachable:
    case tcp::IcmpError::kAdminProhibited:
    case tcp::IcmpError::kTimeExceeded:
      break;
  }
  return std::make_error_code(errc::host_unreachable);
}

}  // namespace utcp::stack
