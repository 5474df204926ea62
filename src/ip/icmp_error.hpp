// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// An ICMP error about a TCP segment or UDP datagram we sent, decoded for the Stack, which finds
// the connection by the quoted 4-tuple and checks the quoted sequence number (RFC 5927 §4.1),
// or the UDP socket by the quoted addresses and ports.
#include <cstdint>

#include "utcp/address.hpp"
#include "wire/icmp.hpp"
#include "wire/parse_error.hpp"
#include "wire/seq_num.hpp"

namespace utcp::ip {

enum class IcmpErrorKind : uint8_t {
  kSoft,     // report, retry: the connection may still succeed (RFC 1122 §4.2.3.9)
  kHard,     // protocol or port unreachable: a SYN-SENT connection should abort
  kPathMtu,  // fragmentation needed and DF set (RFC 1191): lower the path MTU
};

struct IcmpError {
  IcmpErrorKind kind = IcmpErrorKind::kSoft;
  uint8_t type = 0;
  uint8_t code = 0;
  uint16_t next_hop_mtu = 0;  // kPathMtu only; 0 when the router did not say (RFC 1191 §5)
  wire::Ipv4Addr reporter;    // who sent the ICMP message
  // The quoted segment, seen from our side: we sent it from local to remote.
  wire::Ipv4Addr local_addr;
  uint16_t local_port = 0;
  wire::Ipv4Addr remote_addr;
  uint16_t remote_port = 0;
  wire::SeqNum seq;                         // the quoted segment's sequence number (TCP only)
  uint8_t protocol = wire::ip_proto::kTcp;  // of the quoted datagram: kTcp or kUdp
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

}  // namespace utcp::ip
