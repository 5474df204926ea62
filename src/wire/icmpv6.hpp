// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// ICMPv6 messages (RFC 4443): a checked zero-copy view (`Icmpv6Packet`) and a plain struct
// (`Icmpv6Repr`) for echo request/reply and the four error messages. The checksum covers
// the IPv6 pseudo-header (RFC 4443 §2.3, RFC 8200 §8.1).
#include <cstddef>
#include <cstdint>
#include <span>

#include "utcp/address.hpp"
#include "wire/ipv6.hpp"
#include "wire/parse_error.hpp"

namespace utcp::wire {

namespace icmpv6_type {
inline constexpr uint8_t kDestUnreachable = 1;
inline constexpr uint8_t kPacketTooBig = 2;
inline constexpr uint8_t kTimeExceeded = 3;
inline constexpr uint8_t kParameterProblem = 4;
inline constexpr uint8_t kEchoRequest = 128;
inline constexpr uint8_t kEchoReply = 129;
}  // namespace icmpv6_type

// Destination Unreachable codes (RFC 4443 §3.1).
namespace icmpv6_unreach {
inline constexpr uint8_t kNoRoute = 0;
inline constexpr uint8_t kAdminProhibited = 1;
inline constexpr uint8_t kBeyondScope = 2;
inline constexpr uint8_t kAddress = 3;
inline constexpr uint8_t kPort = 4;
inline constexpr uint8_t kSourcePolicy = 5;
inline constexpr uint8_t kRejectRoute = 6;
}  // namespace icmpv6_unreach

// Time Exceeded codes (RFC 4443 §3.3).
namespace icmpv6_time {
inline constexpr uint8_t kHopLimit = 0;
inline constexpr uint8_t kReassembly = 1;
}  // namespace icmpv6_time

inline constexpr size_t kIcmpv6HeaderLen = 8;
// RFC 4443 §2.4(c): an error message must fit the IPv6 minimum MTU with its IPv6 header,
// so at most this many bytes of the invoking packet are quoted.
inline constexpr size_t kIcmpv6MaxQuote = kIpv6MinMtu - kIpv6HeaderLen - kIcmpv6HeaderLen;

// The invoking packet an error quotes, as far as it was quoted.
struct Icmpv6Quote {
  Ipv6Packet ip;                   // lenient view (parse_quoted)
  std::span<const uint8_t> bytes;  // the whole quote, as received
  // The upper-layer header after the quoted packet's extension headers, when the walk
  // got there (has_upper): for TCP the ports and the sequence number.
  bool has_upper = false;
  uint8_t upper_protocol = 0;
  std::span<const uint8_t> upper;
};

struct Icmpv6Repr;
struct Ipv6ExtWalk;

inline constexpr uint8_t kIcmpv6Redirect = 137;  // RFC 4861 §4.5

// RFC 4443 §2.4(e): whether an error of this type and code may answer `invoking`, given its
// extension-header walk. Never about an ICMPv6 error or a Redirect (e.1, e.2), about a packet
// to a multicast address other than with Packet Too Big or Parameter Problem code 2 (e.3),
// or about a packet whose source is not one node, unspecified or multicast (e.6). e.4 and e.5
// concern link-layer multicast and broadcast, which a TUN does not have.
bool icmpv6_error_allowed(const Ipv6Packet& invoking, const Ipv6ExtWalk& walk, uint8_t type,
                          uint8_t code);

class Icmpv6Packet {
 public:
  // Validates the length (8-byte header) and, unless disabled, the checksum over the IPv6
  // pseudo-header (next header 58) and the whole message.
  static Parsed<Icmpv6Packet> parse(std::span<const uint8_t> bytes, const Ipv6Addr& src,
                                    const Ipv6Addr& dst, bool verify_checksum = true);
  Icmpv6Packet() = default;

  uint8_t type() const { return bytes_[0]; }
  uint8_t code() const { return bytes_[1]; }
  uint16_t checksum() const;
  uint32_t rest_of_header() const;  // bytes 4..7
  uint16_t identifier() const;      // echo (RFC 4443 §4)
  uint16_t sequence() const;        // echo
  uint32_t mtu() const;             // Packet Too Big (§3.2)
  uint32_t pointer() const;         // Parameter Problem (§3.4)
  std::span<const uint8_t> data() const { return bytes_.subspan(kIcmpv6HeaderLen); }
  std::span<const uint8_t> bytes() const { return bytes_; }

  // RFC 4443 §2.1: types 0-127 are errors, 128-255 informational.
  bool is_error() const { return type() < 128; }
  // For an error: the quoted invoking packet (the message body); empty otherwise.
  std::span<const uint8_t> invoking() const {
    return is_error() ? data() : std::span<const uint8_t>();
  }
  // The quote read as an IPv6 packet; kUnsupported for informational messages, or the
  // reason the quoted header could not be read.
  Parsed<Icmpv6Quote> quote() const;

  Icmpv6Repr repr() const;

 private:
  std::span<const uint8_t> bytes_;
};

struct Icmpv6Repr {
  uint8_t type = icmpv6_type::kEchoRequest;
  uint8_t code = 0;
  uint16_t identifier = 0;  // echo
  uint16_t sequence = 0;    // echo
  uint32_t mtu = 0;         // Packet Too Big
  uint32_t pointer = 0;     // Parameter Problem
  // Echo data, or for errors the invoking packet (cut to kIcmpv6MaxQuote when emitted).
  std::span<const uint8_t> data;

  static Icmpv6Repr echo_request(uint16_t id, uint16_t seq, std::span<const uint8_t> data);
  static Icmpv6Repr echo_reply(uint16_t id, uint16_t seq, std::span<const uint8_t> data);
  static Icmpv6Repr dest_unreachable(uint8_t code, std::span<const uint8_t> invoking);
  static Icmpv6Repr packet_too_big(uint32_t mtu, std::span<const uint8_t> invoking);
  static Icmpv6Repr time_exceeded(uint8_t code, std::span<const uint8_t> invoking);
  static Icmpv6Repr parameter_problem(uint8_t code, uint32_t pointer,
                                      std::span<const uint8_t> invoking);

  bool is_error() const { return type < 128; }
  uint32_t rest_of_header() const;
  // Bytes of data emitted: for an error at most kIcmpv6MaxQuote (RFC 4443 §2.4(c)).
  size_t data_len() const;
  size_t total_len() const { return kIcmpv6HeaderLen + data_len(); }
  // Writes header, data and the checksum over the IPv6 pseudo-header into buf (at least
  // total_len() bytes). Returns bytes written, or 0 if buf is too short.
  size_t emit(std::span<uint8_t> buf, const Ipv6Addr& src, const Ipv6Addr& dst) const;
};

}  // namespace utcp::wire
