// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// IPv6 packets (RFC 8200 §3): a checked zero-copy view (`Ipv6Packet`) over the fixed
// 40-byte header and a plain struct (`Ipv6Repr`) to emit it. Extension headers are walked
// separately (wire/ipv6_ext.hpp): payload() starts right after the fixed header.
#include <cstddef>
#include <cstdint>
#include <span>

#include "utcp/address.hpp"
#include "wire/parse_error.hpp"

namespace utcp::wire {

// Next Header values (IANA "Assigned Internet Protocol Numbers"), beside ip_proto.
namespace ipv6_next {
inline constexpr uint8_t kHopByHop = 0;
inline constexpr uint8_t kTcp = 6;
inline constexpr uint8_t kUdp = 17;
inline constexpr uint8_t kRouting = 43;
inline constexpr uint8_t kFragment = 44;
inline constexpr uint8_t kEsp = 50;
inline constexpr uint8_t kAh = 51;
inline constexpr uint8_t kIcmpv6 = 58;
inline constexpr uint8_t kNoNextHeader = 59;
inline constexpr uint8_t kDestOptions = 60;
}  // namespace ipv6_next

inline constexpr size_t kIpv6HeaderLen = 40;
// RFC 8200 §5: every link carries packets of at least 1280 bytes.
inline constexpr size_t kIpv6MinMtu = 1280;

struct Ipv6Repr;

// A checked view over an IPv6 packet. parse() rejects a buffer shorter than 40 bytes
// (kTruncated), a version other than 6 (kBadVersion) and a payload length that runs past
// the buffer (kBadTotalLength). The view is trimmed to 40 + payload length, so link padding
// is not payload. A payload length of zero with a Jumbo Payload option (RFC 2675) is not
// supported: such a packet has an empty payload here.
class Ipv6Packet {
 public:
  static Parsed<Ipv6Packet> parse(std::span<const uint8_t> bytes);
  // For the packet quoted inside an ICMPv6 error (RFC 4443 §2.4(c)): the quote is usually
  // cut short, so the payload is whatever follows the header, up to the payload length.
  static Parsed<Ipv6Packet> parse_quoted(std::span<const uint8_t> bytes);
  Ipv6Packet() = default;

  uint8_t version() const { return bytes_[0] >> 4; }
  uint8_t traffic_class() const;  // DSCP << 2 | ECN (RFC 8200 §7)
  uint8_t dscp() const { return traffic_class() >> 2; }
  uint8_t ecn() const { return traffic_class() & 0x03; }
  uint32_t flow_label() const;  // 20 bits (RFC 6437)
  uint16_t payload_len() const;
  uint8_t next_header() const { return bytes_[6]; }
  uint8_t hop_limit() const { return bytes_[7]; }
  Ipv6Addr src() const { return Ipv6Addr::from_bytes(bytes_.data() + 8); }
  Ipv6Addr dst() const { return Ipv6Addr::from_bytes(bytes_.data() + 24); }
  std::span<const uint8_t> header() const { return bytes_.first(kIpv6HeaderLen); }
  // Extension headers and upper-layer data: everything after the fixed header.
  std::span<const uint8_t> payload() const { return bytes_.subspan(kIpv6HeaderLen); }
  std::span<const uint8_t> bytes() const { return bytes_; }  // header + payload

  Ipv6Repr repr() const;  // payload_len is payload().size()

 private:
  std::span<const uint8_t> bytes_;
};

// The fixed header utcp emits. Extension headers, if any, are the caller's payload.
struct Ipv6Repr {
  Ipv6Addr src;
  Ipv6Addr dst;
  uint8_t next_header = 0;
  uint8_t hop_limit = 64;
  uint8_t traffic_class = 0;
  uint32_t flow_label = 0;  // low 20 bits used
  uint16_t payload_len = 0;

  size_t header_len() const { return kIpv6HeaderLen; }
  size_t total_len() const { return kIpv6HeaderLen + payload_len; }
  // Writes the 40-byte header into buf. Returns 40, or 0 if buf is shorter or the flow
  // label does not fit 20 bits.
  size_t emit(std::span<uint8_t> buf) const;
  friend bool operator==(const Ipv6Repr&, const Ipv6Repr&) = default;
};

}  // namespace utcp::wire
