// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Splits an outgoing IPv4 datagram larger than the link MTU into fragments (RFC 791 §3.2,
// "An Example Fragmentation Procedure"; RFC 1122 §3.3.3). utcp's TCP never needs it (its
// MSS follows the MTU and it sets DF), but ICMP answers echo whatever size was asked for,
// and UDP will send what the application gives.
//
//   ip::Ipv4Fragmenter f(datagram, mtu);
//   if (!f.ok()) drop;                              // DF set, or MTU too small
//   while (!f.done()) send(buf.first(f.next(buf)));  // buf: at least mtu bytes
#include <cstddef>
#include <cstdint>
#include <span>

namespace utcp::ip {

class Ipv4Fragmenter {
 public:
  // RFC 791 §3.2: every module must forward a 68-byte datagram without fragmenting it
  // (a 60-byte header and 8 bytes of data), so no link MTU is smaller.
  static constexpr size_t kMinMtu = 68;

  // `datagram` is a whole IPv4 packet with a valid header (it may itself be a fragment,
  // which is then split further); it must outlive the fragmenter.
  Ipv4Fragmenter(std::span<const uint8_t> datagram, size_t mtu);

  // False when the datagram may not or cannot be split: DF set (RFC 791 §3.2: "discarded"),
  // an MTU below kMinMtu or too small for the header, or a header that does not parse.
  bool ok() const { return ok_; }
  bool done() const { return !ok_ || sent_ >= payload_.size(); }
  size_t count() const;  // how many fragments next() will write in all

  // Writes the next fragment into buf (at least mtu bytes) and returns its length; 0 when
  // done() or buf is too short.
  size_t next(std::span<uint8_t> buf);

 private:
  std::span<const uint8_t> header_;   // the original header, options included
  std::span<const uint8_t> payload_;  // the data to split
  uint8_t later_options_[40] = {};    // options with the "copied" flag, padded: non-first
  size_t later_options_len_ = 0;
  size_t mtu_ = 0;
  size_t base_offset_ = 0;  // the datagram's own fragment offset, in bytes
  bool last_mf_ = false;    // the datagram's own MF bit, kept by its last fragment
  size_t sent_ = 0;         // payload bytes already written
  bool ok_ = false;

  size_t chunk(size_t header_len) const;  // payload bytes per non-last fragment
};

}  // namespace utcp::ip
