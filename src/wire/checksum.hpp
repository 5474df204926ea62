// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The Internet checksum (RFC 1071): a ones'-complement sum of 16-bit big-endian words,
// summed here 64 bits at a time. Incremental update per RFC 1624.
#include <cstddef>
#include <cstdint>
#include <span>

#include "utcp/address.hpp"

namespace utcp::wire {

// Accumulates the ones'-complement sum over any number of byte ranges, of any parity:
// a range that ends on an odd byte leaves the next range starting mid-word, as if the
// ranges were one contiguous buffer.
class Checksum {
 public:
  Checksum& add(std::span<const uint8_t> bytes);
  // Adds a 16- or 32-bit value given in host order, as if written big-endian at an even offset.
  Checksum& add16(uint16_t value);
  Checksum& add32(uint32_t value);

  // The folded 16-bit ones'-complement sum, in host order (not complemented).
  uint16_t sum() const;
  // The checksum field value, in host order: the complement of sum().
  uint16_t finish() const { return static_cast<uint16_t>(~sum()); }

 private:
  uint64_t acc_ = 0;  // sum of big-endian 16-bit words, carries folded lazily
  bool odd_ = false;  // the next byte is the low half of a word
};

// Checksum field value over one buffer (host order).
uint16_t internet_checksum(std::span<const uint8_t> bytes);

// True when a buffer that contains its own checksum field sums to 0xffff.
inline bool checksum_ok(std::span<const uint8_t> bytes) {
  return Checksum().add(bytes).sum() == 0xffff;
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for a 16-bit field changed from old_word to new_word.
uint16_t checksum_update16(uint16_t old_checksum, uint16_t old_word, uint16_t new_word);
uint16_t checksum_update32(uint16_t old_checksum, uint32_t old_value, uint32_t new_value);

// Starts a TCP/UDP checksum with the IPv4 pseudo-header (RFC 9293 §3.1): addresses in
// host order, protocol, and the upper-layer length.
Checksum ipv4_pseudo_header(uint32_t src, uint32_t dst, uint8_t protocol, uint16_t length);

// Starts an upper-layer checksum with the IPv6 pseudo-header (RFC 8200 §8.1): the addresses,
// the 32-bit upper-layer packet length and the next header value of the upper-layer protocol
// (not of an extension header in between).
Checksum ipv6_pseudo_header(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t next_header,
                            uint32_t length);

// The pseudo-header of the addresses' family: the same code serves TCP (and UDP) over both.
// Both addresses must be of one family; a mixed pair is summed as IPv6.
Checksum pseudo_header(const IpAddr& src, const IpAddr& dst, uint8_t protocol, uint32_t length);

}  // namespace utcp::wire
