// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Splits an outgoing IPv6 packet larger than the path MTU into fragments (RFC 8200 §4.5).
// Only the source fragments in IPv6 (routers never do), so this serves what utcp itself
// originates: ICMPv6 echo replies as big as the request, and UDP datagrams later. TCP sizes
// its segments to the path MTU and never needs it.
//
//   ip::Ipv6Fragmenter f(packet, mtu, ids.next(src, dst));
//   if (!f.ok()) drop;
//   while (!f.done()) send(buf.first(f.next(buf)));  // buf: at least mtu bytes
//
// A packet that fits the MTU goes out as one unchanged packet, without a Fragment header
// (RFC 8200 §4.5 and RFC 8021: no atomic fragments).
#include <cstddef>
#include <cstdint>
#include <span>

namespace utcp::ip {

class Ipv6Fragmenter {
 public:
  // `packet` is a whole IPv6 packet (it must outlive the fragmenter); `mtu` the path MTU,
  // at least 1280 (RFC 8200 §5); `identification` from Ipv6FragmentIds (RFC 7739).
  Ipv6Fragmenter(std::span<const uint8_t> packet, size_t mtu, uint32_t identification);

  // False when the packet cannot be split: it does not parse, its extension headers are
  // malformed or it is already a fragment, the MTU is below 1280, or the Per-Fragment
  // headers leave no room for 8 bytes of data.
  bool ok() const { return ok_; }
  bool done() const { return !ok_ || finished_; }
  size_t count() const;  // how many packets next() will write in all

  // Writes the next packet into buf (at least mtu bytes) and returns its length; 0 when
  // done() or buf is too short.
  size_t next(std::span<uint8_t> buf);

 private:
  std::span<const uint8_t> packet_;
  size_t mtu_ = 0;
  uint32_t id_ = 0;
  size_t unfrag_len_ = 0;  // fixed header + Per-Fragment extension headers
  size_t nh_field_ = 6;    // the Next Header field that will name the Fragment header
  size_t sent_ = 0;        // fragmentable bytes already written
  bool whole_ = false;     // fits the MTU: sent as is
  bool finished_ = false;
  bool ok_ = false;

  size_t chunk() const;  // data bytes per non-last fragment
  size_t fragmentable() const { return packet_.size() - unfrag_len_; }
};

}  // namespace utcp::ip
