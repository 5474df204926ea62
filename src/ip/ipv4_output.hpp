// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Puts the IPv4 header in front of a transport segment the caller already wrote into a
// buffer, leaving kHeadroom bytes free at its start: no copy of the payload.
#include <cstddef>
#include <cstdint>
#include <span>

#include "utcp/address.hpp"
#include "wire/ipv4.hpp"

namespace utcp::ip {

// RFC 3168 §5: the two ECN bits of the IPv4 TOS byte.
namespace ecn {
inline constexpr uint8_t kNotEct = 0b00;
inline constexpr uint8_t kEct1 = 0b01;
inline constexpr uint8_t kEct0 = 0b10;
inline constexpr uint8_t kCe = 0b11;
}  // namespace ecn

class Ipv4Output {
 public:
  static constexpr size_t kHeadroom = wire::kIpv4HeaderMin;
  static constexpr uint8_t kDefaultTtl = 64;  // RFC 1122 §3.2.1.7: fixed, configurable

  explicit Ipv4Output(uint16_t first_id = 1, uint8_t ttl = kDefaultTtl)
      : next_id_(first_id), ttl_(ttl) {}

  // Writes a 20-byte header into packet[0, 20) for a payload of payload_len bytes that
  // starts at packet[20]. DF is set unless `df` is false (RFC 1191: TCP does path MTU
  // discovery and never needs fragmenting; an ICMP echo reply may exceed the MTU and is
  // then fragmented on output, see ipv4_fragmenter.hpp).
  // `tos` is the whole TOS byte: the Diffserv field in its upper six bits (RFC 2474, passed
  // unchanged, RFC 9293 §3.9.1.9) and the ECN codepoint in its low two (RFC 3168 §5).
  // Returns the datagram length, or 0 if the buffer is too short or the total exceeds 65535.
  size_t write_header(std::span<uint8_t> packet, size_t payload_len, wire::Ipv4Addr src,
                      wire::Ipv4Addr dst, uint8_t protocol, uint8_t tos = ecn::kNotEct,
                      bool df = true);

  uint8_t ttl() const { return ttl_; }
  uint16_t peek_next_id() const { return next_id_; }

 private:
  uint16_t next_id_;  // RFC 6864 §4.1: any value is fine for atomic datagrams; a counter is cheap
  uint8_t ttl_;
};

}  // namespace utcp::ip
