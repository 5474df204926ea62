// SPDX-License-Identifier: BSD-2-Clause
#include "wire/ipv4.hpp"

#include <algorithm>

#include "wire/checksum.hpp"
#include "wire/endian.hpp"

namespace utcp::wire {
namespace {

constexpr size_t kChecksumOffset = 10;

// Version and IHL checks shared by the strict and the quoted parse (RFC 791 §3.1).
Parsed<size_t> check_header(std::span<const uint8_t> bytes) {
  if (bytes.size() < kIpv4HeaderMin) return ParseError::kTruncated;
  if (bytes[0] >> 4 != 4) return ParseError::kBadVersion;
  const size_t header_len = size_t{static_cast<uint8_t>(bytes[0] & 0x0f)} * 4;
  if (header_len < kIpv4HeaderMin || header_len > bytes.size()) {
    return ParseError::kBadHeaderLength;
  }
  return header_len;
}

}  // namespace

Parsed<Ipv4Packet> Ipv4Packet::parse(std::span<const uint8_t> bytes) {
  auto header_len = check_header(bytes);
  if (!header_len) return header_len.error();
  const size_t total = load_be16(bytes.data() + 2);
  // RFC 791 §3.1: total length counts header and data. A longer buffer is link padding.
  if (total < *header_len || total > bytes.size()) return ParseError::kBadTotalLength;
  // RFC 1122 §3.2.1.2: silently discard datagrams with a bad header checksum.
  if (!checksum_ok(bytes.first(*header_len))) return ParseError::kBadChecksum;
  Ipv4Packet p;
  p.bytes_ = bytes.first(total);
  return p;
}

Parsed<Ipv4Packet> Ipv4Packet::parse_quoted(std::span<const uint8_t> bytes) {
  auto header_len = check_header(bytes);
  if (!header_len) return header_len.error();
  const size_t total = load_be16(bytes.data() + 2);
  Ipv4Packet p;
  p.bytes_ = bytes.first(std::max(*header_len, std::min(total, bytes.size())));
  return p;
}

uint16_t Ipv4Packet::total_len() const {
  return load_be16(bytes_.data() + 2);
}
uint16_t Ipv4Packet::identification() const {
  return load_be16(bytes_.data() + 4);
}
uint16_t Ipv4Packet::frag_offset() const {
  return static_cast<uint16_t>((load_be16(bytes_.data() + 6) & 0x1fff) * 8);
}
uint16_t Ipv4Packet::checksum() const {
  return load_be16(bytes_.data() + kChecksumOffset);
}
Ipv4Addr Ipv4Packet::src() const {
  return Ipv4Addr(load_be32(bytes_.data() + 12));
}
Ipv4Addr Ipv4Packet::dst() const {
  return Ipv4Addr(load_be32(bytes_.data() + 16));
}

Ipv4Repr Ipv4Packet::repr() const {
  Ipv4Repr r;
  r.src = src();
  r.dst = dst();
  r.protocol = protocol();
  r.ttl = ttl();
  r.dscp = dscp();
  r.ecn = ecn();
  r.identification = identification();
  r.df = df();
  r.mf = mf();
  r.frag_offset = frag_offset();
  r.payload_len = static_cast<uint16_t>(payload().size());
  return r;
}

size_t Ipv4Repr::emit(std::span<uint8_t> buf) const {
  const size_t total = total_len();
  if (buf.size() < kIpv4HeaderMin || total > 0xffff) return 0;
  uint8_t* p = buf.data();
  p[0] = 0x45;  // version 4, IHL 5
  p[1] = static_cast<uint8_t>(dscp << 2 | (ecn & 0x03));
  store_be16(p + 2, static_cast<uint16_t>(total));
  store_be16(p + 4, identification);
  const uint16_t frag =
      static_cast<uint16_t>((df ? 0x4000 : 0) | (mf ? 0x2000 : 0) | ((frag_offset / 8) & 0x1fff));
  store_be16(p + 6, frag);
  p[8] = ttl;
  p[9] = protocol;
  store_be16(p + kChecksumOffset, 0);
  store_be32(p + 12, src.value);
  store_be32(p + 16, dst.value);
  store_be16(p + kChecksumOffset, internet_checksum(buf.first(kIpv4HeaderMin)));
  return kIpv4HeaderMin;
}

}  // namespace utcp::wire
