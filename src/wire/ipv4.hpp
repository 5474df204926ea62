// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// IPv4 datagrams (RFC 791 §3.1): a checked zero-copy view (`Ipv4Packet`) and a plain
// struct (`Ipv4Repr`) for the 20-byte header utcp emits.
#include <cstddef>
#include <cstdint>
#include <span>

#include "utcp/address.hpp"
#include "wire/parse_error.hpp"

namespace utcp::wire {

namespace ip_proto {
inline constexpr uint8_t kIcmp = 1;
inline constexpr uint8_t kTcp = 6;
inline constexpr uint8_t kUdp = 17;
}  // namespace ip_proto

inline constexpr size_t kIpv4HeaderMin = 20;
inline constexpr size_t kIpv4HeaderMax = 60;

struct Ipv4Repr;

// A checked view over an IPv4 datagram. parse() validates version, IHL, total length and
// the header checksum; options are skipped, not rejected. The view is trimmed to the
// total length, so link-layer padding after the datagram is not part of the payload.
class Ipv4Packet {
 public:
  static Parsed<Ipv4Packet> parse(std::span<const uint8_t> bytes);
  // For the header quoted inside an ICMP error (RFC 792): no checksum check, and the
  // total length may exceed what is quoted (the payload is whatever follows, trimmed).
  static Parsed<Ipv4Packet> parse_quoted(std::span<const uint8_t> bytes);
  Ipv4Packet() = default;

  uint8_t version() const { return bytes_[0] >> 4; }
  uint8_t ihl() const { return bytes_[0] & 0x0f; }  // in 32-bit words
  size_t header_len() const { return size_t{ihl()} * 4; }
  uint8_t dscp() const { return bytes_[1] >> 2; }
  uint8_t ecn() const { return bytes_[1] & 0x03; }
  uint16_t total_len() const;
  uint16_t identification() const;
  bool df() const { return (bytes_[6] & 0x40) != 0; }
  bool mf() const { return (bytes_[6] & 0x20) != 0; }
  uint16_t frag_offset() const;  // in bytes (the field counts 8-byte units)
  bool is_fragment() const { return mf() || frag_offset() != 0; }
  uint8_t ttl() const { return bytes_[8]; }
  uint8_t protocol() const { return bytes_[9]; }
  uint16_t checksum() const;
  Ipv4Addr src() const;
  Ipv4Addr dst() const;
  std::span<const uint8_t> options() const {
    return bytes_.subspan(kIpv4HeaderMin, header_len() - kIpv4HeaderMin);
  }
  std::span<const uint8_t> header() const { return bytes_.first(header_len()); }
  std::span<const uint8_t> payload() const { return bytes_.subspan(header_len()); }
  std::span<const uint8_t> bytes() const { return bytes_; }  // header + payload

  Ipv4Repr repr() const;  // payload_len is payload().size(); options are dropped

 private:
  std::span<const uint8_t> bytes_;
};

// The header utcp emits: 20 bytes, no options.
struct Ipv4Repr {
  Ipv4Addr src;
  Ipv4Addr dst;
  uint8_t protocol = 0;
  uint8_t ttl = 64;
  uint8_t dscp = 0;
  uint8_t ecn = 0;
  uint16_t identification = 0;
  bool df = true;  // RFC 1191 path MTU discovery: never fragment
  bool mf = false;
  uint16_t frag_offset = 0;  // in bytes, a multiple of 8
  uint16_t payload_len = 0;

  size_t header_len() const { return kIpv4HeaderMin; }
  size_t total_len() const { return header_len() + payload_len; }
  // Writes the header with its checksum into buf (at least header_len() bytes); the
  // payload is the caller's. Returns header_len(), or 0 if buf is too short or the
  // total length does not fit 16 bits.
  size_t emit(std::span<uint8_t> buf) const;
  friend bool operator==(const Ipv4Repr&, const Ipv4Repr&) = default;
};

}  // namespace utcp::wire
