// SPDX-License-Identifier: BSD-2-Clause
#include "wire/ipv6.hpp"

#include <algorithm>

#include "wire/endian.hpp"

namespace utcp::wire {
namespace {

// RFC 8200 §3: the fixed header and its version field.
Parsed<size_t> check_header(std::span<const uint8_t> bytes) {
  if (bytes.size() < kIpv6HeaderLen) return ParseError::kTruncated;
  if (bytes[0] >> 4 != 6) return ParseError::kBadVersion;
  return size_t{load_be16(bytes.data() + 4)};
}

}  // namespace

Parsed<Ipv6Packet> Ipv6Packet::parse(std::span<const uint8_t> bytes) {
  auto payload_len = check_header(bytes);
  if (!payload_len) return payload_len.error();
  // RFC 8200 §3: the payload length counts everything after the fixed header; a longer
  // buffer is link padding, a shorter one a truncated packet.
  if (kIpv6HeaderLen + *payload_len > bytes.size()) return ParseError::kBadTotalLength;
  Ipv6Packet p;
  p.bytes_ = bytes.first(kIpv6HeaderLen + *payload_len);
  return p;
}

Parsed<Ipv6Packet> Ipv6Packet::parse_quoted(std::span<const uint8_t> bytes) {
  auto payload_len = check_header(bytes);
  if (!payload_len) return payload_len.error();
  Ipv6Packet p;
  p.bytes_ = bytes.first(std::min(bytes.size(), kIpv6HeaderLen + *payload_len));
  return p;
}

uint8_t Ipv6Packet::traffic_class() const {
  return static_cast<uint8_t>((bytes_[0] & 0x0f) << 4 | bytes_[1] >> 4);
}
uint32_t Ipv6Packet::flow_label() const {
  return load_be32(bytes_.data()) & 0xfffff;
}
uint16_t Ipv6Packet::payload_len() const {
  return load_be16(bytes_.data() + 4);
}

Ipv6Repr Ipv6Packet::repr() const {
  Ipv6Repr r;
  r.src = src();
  r.dst = dst();
  r.next_header = next_header();
  r.hop_limit = hop_limit();
  r.traffic_class = traffic_class();
  r.flow_label = flow_label();
  r.payload_len = static_cast<uint16_t>(payload().size());
  return r;
}

size_t Ipv6Repr::emit(std::span<uint8_t> buf) const {
  if (buf.size() < kIpv6HeaderLen || flow_label > 0xfffff) return 0;
  uint8_t* p = buf.data();
  store_be32(p, uint32_t{6} << 28 | uint32_t{traffic_class} << 20 | flow_label);
  store_be16(p + 4, payload_len);
  p[6] = next_header;
  p[7] = hop_limit;
  std::copy(src.bytes.begin(), src.bytes.end(), p + 8);
  std::copy(dst.bytes.begin(), dst.bytes.end(), p + 24);
  return kIpv6HeaderLen;
}

}  // namespace utcp::wire
