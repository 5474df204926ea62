// SPDX-License-Identifier: BSD-2-Clause
#include "wire/udp.hpp"

#include <cstring>

#include "wire/checksum.hpp"
#include "wire/endian.hpp"

namespace utcp::wire {
namespace {

constexpr uint8_t kProtocolUdp = 17;
constexpr size_t kLengthOffset = 4;
constexpr size_t kChecksumOffset = 6;

// RFC 768: the pseudo-header's length is the UDP Length; RFC 8200 §8.1 the same for IPv6.
Checksum udp_pseudo(const IpAddr& src, const IpAddr& dst, size_t len) {
  return pseudo_header(src, dst, kProtocolUdp, static_cast<uint32_t>(len));
}

}  // namespace

Parsed<UdpPacket> UdpPacket::parse(std::span<const uint8_t> ip_payload, const IpAddr& src,
                                   const IpAddr& dst, bool verify_checksum) {
  if (ip_payload.size() < kUdpHeaderLen) return ParseError::kTruncated;
  const size_t length = load_be16(ip_payload.data() + kLengthOffset);
  // RFC 768: Length counts the header, so it is at least 8. (A zero Length over IPv6 would
  // announce a jumbogram, RFC 2675 §4, which utcp does not support: rejected here too.)
  if (length < kUdpHeaderLen) return ParseError::kBadHeaderLength;
  if (length > ip_payload.size()) return ParseError::kTruncated;
  const auto datagram = ip_payload.first(length);
  const uint16_t field = load_be16(datagram.data() + kChecksumOffset);
  if (field == 0) {
    // RFC 768: zero means the sender computed none, allowed over IPv4 only;
    // RFC 8200 §8.1: "IPv6 receivers must discard UDP packets containing a zero checksum".
    if (!(src.is_v4() && dst.is_v4())) return ParseError::kBadChecksum;
  } else if (verify_checksum && !checksum_ok_udp(datagram, src, dst)) {
    return ParseError::kBadChecksum;
  }
  UdpPacket p;
  p.bytes_ = datagram;
  return p;
}

bool UdpPacket::checksum_ok_udp(std::span<const uint8_t> datagram, const IpAddr& src,
                                const IpAddr& dst) {
  return udp_pseudo(src, dst, datagram.size()).add(datagram).sum() == 0xffff;
}

uint16_t UdpPacket::src_port() const {
  return load_be16(bytes_.data());
}
uint16_t UdpPacket::dst_port() const {
  return load_be16(bytes_.data() + 2);
}
uint16_t UdpPacket::length() const {
  return load_be16(bytes_.data() + kLengthOffset);
}
uint16_t UdpPacket::checksum() const {
  return load_be16(bytes_.data() + kChecksumOffset);
}

UdpRepr UdpPacket::repr() const {
  UdpRepr r;
  r.src_port = src_port();
  r.dst_port = dst_port();
  r.payload = payload();
  return r;
}

size_t UdpRepr::emit_header(std::span<uint8_t> buf, const IpAddr& src, const IpAddr& dst,
                            bool checksum) const {
  const size_t total = total_len();
  if (buf.size() < total || total > kUdpMaxDatagram) return 0;
  uint8_t* p = buf.data();
  store_be16(p, src_port);
  store_be16(p + 2, dst_port);
  store_be16(p + kLengthOffset, static_cast<uint16_t>(total));
  store_be16(p + kChecksumOffset, 0);
  if (checksum) {
    uint16_t c = udp_pseudo(src, dst, total).add(buf.first(total)).finish();
    // RFC 768: "If the computed checksum is zero, it is transmitted as all ones" (the
    // same in ones'-complement arithmetic, and zero is reserved for "none").
    if (c == 0) c = 0xffff;
    store_be16(p + kChecksumOffset, c);
  }
  return kUdpHeaderLen;
}

size_t UdpRepr::emit(std::span<uint8_t> buf, const IpAddr& src, const IpAddr& dst,
                     bool checksum) const {
  const size_t total = total_len();
  if (buf.size() < total || total > kUdpMaxDatagram) return 0;
  // memmove: the payload may already live in (or overlap) the output buffer.
  if (!payload.empty() && payload.data() != buf.data() + kUdpHeaderLen) {
    std::memmove(buf.data() + kUdpHeaderLen, payload.data(), payload.size());
  }
  emit_header(buf, src, dst, checksum);
  return total;
}

}  // namespace utcp::wire
