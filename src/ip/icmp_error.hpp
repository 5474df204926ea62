// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// An ICMP or ICMPv6 error about a TCP segment or UDP datagram we sent, decoded for the Stack,
// which finds the connection by the quoted 4-tuple and checks the quoted sequence number
// (RFC 5927 §4.1), or the UDP socket by the quoted addresses and ports. Addresses are
// family-neutral: an ICMPv4 error carries IPv4 addresses, an ICMPv6 one IPv6.
#include <cstdint>

#include "utcp/address.hpp"
#include "wire/icmp.hpp"
#include "wire/icmpv6.hpp"
#include "wire/parse_error.hpp"
#include "wire/seq_num.hpp"

namespace utcp::ip {

enum class IcmpErrorKind : uint8_t {
  kSoft,     // report, retry: the connection may still succeed (RFC 1122 §4.2.3.9)
  kHard,     // protocol or port unreachable: a SYN-SENT connection should abort
  kPathMtu,  // fragmentation needed and DF set (RFC 1191), or Packet Too Big (RFC 8201)
};

struct IcmpError {
  IcmpErrorKind kind = IcmpErrorKind::kSoft;
  // The ICMP type and code as received: ICMPv4 values when reporter.is_v4(), ICMPv6
  // values (wire::icmpv6_type, RFC 4443) when reporter.is_v6().
  uint8_t type = 0;
  uint8_t code = 0;
  // kPathMtu only. ICMPv4: the next-hop MTU, 0 when the router did not say (RFC 1191 §5).
  // ICMPv6: the Packet Too Big MTU, raised to 1280 if lower (RFC 8201 §4) and capped at
  // 65535 (no jumbograms), so never 0.
  uint16_t next_hop_mtu = 0;
  IpAddr reporter;  // who sent the ICMP message
  // The quoted segment, seen from our side: we sent it from local to remote.
  IpAddr local_addr;
  uint16_t local_port = 0;
  IpAddr remote_addr;
  uint16_t remote_port = 0;
  wire::SeqNum seq;                         // the quoted segment's sequence number (TCP only)
  uint8_t protocol = wire::ip_proto::kTcp;  // of the quoted datagram: kTcp or kUdp

  bool is_v6() const { return reporter.is_v6(); }
};

enum class IcmpErrorDecode : uint8_t {
  kOk,
  kNotAnError,    // echo or another informational type
  kSourceQuench,  // RFC 6633: ignored
  kBadQuote,      // quoted header unreadable or shorter than 8 transport bytes
  kNotTcp,        // quotes a datagram of a protocol other than TCP and UDP
};

// Classifies the error (RFC 1122 §4.2.3.9, RFC 1191, RFC 5927) and extracts the quoted TCP
// ports and sequence number, or the quoted UDP ports (protocol says which). `reporter` is the outer
// source address.
IcmpErrorDecode decode_icmp_error(const wire::IcmpPacket& icmp, wire::Ipv4Addr reporter,
                                  IcmpError& out);

// The same for ICMPv6 (RFC 4443 §3.1-3.4): Destination Unreachable codes classified as
// Linux does (port unreachable and administratively prohibited hard, the others soft),
// Packet Too Big a path MTU signal (RFC 8201 §4), Time Exceeded and Parameter Problem soft.
// An error of an unknown type (RFC 4443 §2.4(b): passed to the upper layer) is soft.
IcmpErrorDecode decode_icmpv6_error(const wire::Icmpv6Packet& icmp, wire::Ipv6Addr reporter,
                                    IcmpError& out);

}  // namespace utcp::ip
