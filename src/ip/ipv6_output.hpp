// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Puts the IPv6 header (RFC 8200 §3) in front of an upper-layer payload the caller already
// wrote into a buffer, leaving kHeadroom bytes free at its start: no copy of the payload.
// No extension headers: utcp sends none (a fragment header is the fragmenter's, on output).
#include <cstddef>
#include <cstdint>
#include <span>

#include "utcp/address.hpp"
#include "wire/ipv6.hpp"

namespace utcp::ip {

class Ipv6Output {
 public:
  static constexpr size_t kHeadroom = wire::kIpv6HeaderLen;
  // RFC 8200 §3 leaves the default to the node; 64, as Linux and as IPv4's TTL here.
  static constexpr uint8_t kDefaultHopLimit = 64;

  explicit Ipv6Output(uint8_t hop_limit = kDefaultHopLimit) : hop_limit_(hop_limit) {}

  // Writes the 40-byte header into packet[0, 40) for a payload of payload_len bytes that
  // starts at packet[40]. `traffic_class` is the whole byte: DSCP in its upper six bits
  // (passed unchanged, RFC 9293 §3.9.1.9) and the ECN codepoint in its low two (RFC 3168
  // §5, RFC 8200 §7). `flow_label`: 0 for none, else 20 bits (RFC 6437; see flow_label.hpp).
  // Returns the packet length, or 0 if the buffer is too short, the payload exceeds 65535
  // bytes (no jumbograms) or the flow label does not fit 20 bits.
  size_t write_header(std::span<uint8_t> packet, size_t payload_len, const wire::Ipv6Addr& src,
                      const wire::Ipv6Addr& dst, uint8_t next_header, uint8_t traffic_class = 0,
                      uint32_t flow_label = 0) const;

  uint8_t hop_limit() const { return hop_limit_; }

 private:
  uint8_t hop_limit_;
};

}  // namespace utcp::ip
