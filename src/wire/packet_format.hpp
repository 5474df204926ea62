// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// One-line, tcpdump-like text for a TCP segment or an IPv4 or IPv6 packet, for tools' -v
// output and test failure messages. Not for the hot path: it builds a std::string.
#include <cstdint>
#include <span>
#include <string>

#include "utcp/address.hpp"
#include "wire/tcp.hpp"

namespace utcp::wire {

// "10.77.0.1:5000 > 10.77.0.2:80 [S.] seq 1 ack 2 win 65535 <mss 1460,...> len 0" (IPv6:
// "[fd77::1]:5000 > [fd77::2]:80 ..."); the options are listed in the order emit() writes
// them, NOPs included.
std::string format_tcp(const TcpRepr& seg, const IpAddr& src, const IpAddr& dst);
// Same for a parsed segment, listing its options exactly as they appear on the wire.
std::string format_tcp(const TcpPacket& seg, const IpAddr& src, const IpAddr& dst);
// Flags as tcpdump prints them: F S R P . U E W, or "none".
std::string format_tcp_flags(uint8_t flags);
// A whole IPv4 packet: TCP and ICMP are decoded, anything else summarised; a packet that
// does not parse yields "invalid ipv4 (<reason>)" and similar.
// verify_tcp_checksum = false decodes segments whose checksum a device vouched for (TUN
// offload leaves it partial).
std::string format_ipv4_packet(std::span<const uint8_t> bytes, bool verify_tcp_checksum = true);
// A whole IPv6 packet: extension headers walked, TCP and ICMPv6 decoded ("fragment" for a
// non-first fragment, "invalid ipv6 (<reason>)" when it does not parse), a flow label shown.
std::string format_ipv6_packet(std::span<const uint8_t> bytes, bool verify_tcp_checksum = true);
// Either, by the version nibble.
std::string format_ip_packet(std::span<const uint8_t> bytes, bool verify_tcp_checksum = true);

}  // namespace utcp::wire
