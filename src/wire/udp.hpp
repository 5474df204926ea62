// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// UDP datagrams (RFC 768) over either IP family: a checked zero-copy view (`UdpPacket`) and a
// plain struct (`UdpRepr`) for what is emitted.
//
// The rules that differ by family live here, so every caller gets them the same way:
//   - the checksum covers the family's pseudo-header (RFC 768; RFC 8200 §8.1 for IPv6);
//   - a zero checksum field means "no checksum" over IPv4 and is accepted (RFC 768), but is
//     invalid over IPv6 and rejected (RFC 8200 §8.1);
//   - a computed checksum of zero is sent as 0xffff (RFC 768, RFC 8200 §8.1), so it is never
//     mistaken for "no checksum".
#include <cstddef>
#include <cstdint>
#include <span>

#include "utcp/address.hpp"
#include "wire/parse_error.hpp"

namespace utcp::wire {

inline constexpr size_t kUdpHeaderLen = 8;
// The length field is 16 bits and utcp supports no IPv6 jumbograms (RFC 2675).
inline constexpr size_t kUdpMaxDatagram = 0xffff;
inline constexpr size_t kUdpMaxPayload = kUdpMaxDatagram - kUdpHeaderLen;

struct UdpRepr {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  std::span<const uint8_t> payload;

  size_t header_len() const { return kUdpHeaderLen; }
  size_t total_len() const { return kUdpHeaderLen + payload.size(); }

  // Writes header and payload into buf (at least total_len() bytes) with the checksum over
  // the pseudo-header of the addresses' family. Returns total_len(), or 0 if buf is short or
  // the datagram exceeds 65,535 bytes. checksum false leaves the field zero, for a device
  // that computes it (offload) -- over IPv6 the device must.
  size_t emit(std::span<uint8_t> buf, const IpAddr& src, const IpAddr& dst,
              bool checksum = true) const;
  // Same, but the payload already sits right after the 8 header bytes in buf (zero-copy
  // send path); only the header is written. Returns kUdpHeaderLen, or 0.
  size_t emit_header(std::span<uint8_t> buf, const IpAddr& src, const IpAddr& dst,
                     bool checksum = true) const;
};

// A checked view over a UDP datagram, given the whole IP payload (after any extension
// headers). parse() checks, in this order:
//   - at least 8 bytes (kTruncated);
//   - the Length field: below 8 is kBadHeaderLength; beyond the IP payload is kTruncated
//     (the datagram was cut); shorter than the IP payload is accepted and the bytes after
//     it are not part of the datagram (RFC 768 defines the datagram by its Length, as Linux
//     trims them);
//   - the checksum over Length bytes (kBadChecksum), unless verify_checksum is false
//     (checksum-offloaded input); a zero field is "none" over IPv4 and kBadChecksum over
//     IPv6 whatever verify_checksum says.
class UdpPacket {
 public:
  static Parsed<UdpPacket> parse(std::span<const uint8_t> ip_payload, const IpAddr& src,
                                 const IpAddr& dst, bool verify_checksum = true);
  UdpPacket() = default;

  uint16_t src_port() const;
  uint16_t dst_port() const;
  uint16_t length() const;  // the Length field: header plus payload
  uint16_t checksum() const;
  bool has_checksum() const { return checksum() != 0; }  // IPv4 only may lack one
  std::span<const uint8_t> payload() const { return bytes_.subspan(kUdpHeaderLen); }
  std::span<const uint8_t> bytes() const { return bytes_; }  // Length bytes

  UdpRepr repr() const;  // payload still points into the packet

  // True when the first Length bytes sum to 0xffff with the family's pseudo-header (the
  // zero field is not special here).
  static bool checksum_ok_udp(std::span<const uint8_t> datagram, const IpAddr& src,
                              const IpAddr& dst);

 private:
  std::span<const uint8_t> bytes_;
};

}  // namespace utcp::wire
