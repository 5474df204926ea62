// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Errors between the wire, the engine and the application: an ICMP error quoting one of our
// segments becomes the engine's tcp::IcmpError (and a path MTU), and the engine's hard and
// soft errors become the errno values Linux reports for the same events.
#include <system_error>

#include "ip/icmp_error.hpp"
#include "tcp/connection.hpp"
#include "utcp/time.hpp"

namespace utcp::stack {

// The engine's name for an ICMP Destination Unreachable, Time Exceeded or Parameter Problem.
tcp::IcmpError icmp_to_tcp(const ip::IcmpError& e);

// The lowest path MTU an ICMP "fragmentation needed" may set for TCP: Linux's min_pmtu (552),
// so that a forged message cannot shrink segments to a few bytes (RFC 5927 §7.2).
inline constexpr uint16_t kTcpMinPathMtu = 552;

// RFC 5927 §4.1, RFC 9293 §3.9.2.2: an ICMP error is about one of our segments only if the
// sequence number it quotes is one we sent and is not yet acknowledged: SND.UNA <= seq <=
// SND.MAX (inclusive at the top, as Linux, for a quoted pure ACK or window probe at SND.NXT).
// A blind attacker must then guess it within the flight, not just the 4-tuple.
bool icmp_quote_in_flight(const tcp::Tcb& tcb, wire::SeqNum seq);

// The path MTU to apply for a "fragmentation needed" reporting `next_hop_mtu` (0: the router
// did not say) on a path now at `current`: never below kTcpMinPathMtu, never above `current`
// (RFC 1191 §6.3: an increase is not learnt from an ICMP message).
uint16_t tcp_path_mtu_for(uint16_t next_hop_mtu, uint16_t current);

// The path MTU an ICMPv6 Packet Too Big reporting `packet_too_big_mtu` sets on a path now at
// `current`: never below 1280 (RFC 8201 §4, RFC 8200 §5), never above `current`.
uint16_t tcp_path_mtu6_for(uint32_t packet_too_big_mtu, uint16_t current);

// Hands an ICMP or ICMPv6 error to the connection it quotes: a Fragmentation Needed or a
// Packet Too Big lowers the path MTU first (RFC 1191, RFC 8201), the connection decides the rest
// (RFC 1122 §4.2.3.9, RFC 5927). False, and nothing done, when the quoted sequence number is not in
// flight (icmp_quote_in_flight).
bool deliver_icmp_error(tcp::Connection& c, const ip::IcmpError& e, Instant now);

// errno for why a connection failed (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ECONNABORTED).
std::error_code error_for(tcp::ErrorReason r);

// errno for a soft error, as Linux's icmp_err_convert / tcp_v4_err map it.
std::error_code soft_error_code(const tcp::SoftError& e);

}  // namespace utcp::stack
