// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Errors between the wire, the engine and the application: an ICMP error quoting one of our
// segments becomes the engine's tcp::IcmpError (and a path MTU), and the engine's hard and
// soft errors become the errno values Linux reports for the same events.
#include <system_error>

#include "ip/icmp_error.hpp"
#include "tcp/connection.hpp"
#include "tcp/time.hpp"

namespace utcp::stack {

// The engine's name for an ICMP Destination Unreachable, Time Exceeded or Parameter Problem.
tcp::IcmpError icmp_to_tcp(const ip::IcmpError& e);

// Hands an ICMP error to the connection it quotes: a Fragmentation Needed lowers the path MTU
// first (RFC 1191), the connection decides the rest (RFC 1122 §4.2.3.9, RFC 5927).
void deliver_icmp_error(tcp::Connection& c, const ip::IcmpError& e, Instant now);

// errno for why a connection failed (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ECONNABORTED).
std::error_code error_for(tcp::ErrorReason r);

// errno for a soft error, as Linux's icmp_err_convert / tcp_v4_err map it.
std::error_code soft_error_code(const tcp::SoftError& e);

}  // namespace utcp::stack
