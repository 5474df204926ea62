// SPDX-License-Identifier: BSD-2-Clause
#include "wire/tcp.hpp"

#include <cstring>

#include "wire/checksum.hpp"
#include "wire/endian.hpp"

namespace utcp::wire {
namespace {

constexpr uint8_t kProtocolTcp = 6;
constexpr size_t kChecksumOffset = 16;

// RFC 9293 §3.1: the checksum covers the pseudo-header, the header and the data; over
// IPv6 the pseudo-header is RFC 8200 §8.1's.
Checksum tcp_pseudo(Ipv4Addr src, Ipv4Addr dst, size_t len) {
  return ipv4_pseudo_header(src.value, dst.value, kProtocolTcp, static_cast<uint16_t>(len));
}
Checksum tcp_pseudo(const IpAddr& src, const IpAddr& dst, size_t len) {
  return pseudo_header(src, dst, kProtocolTcp, static_cast<uint32_t>(len));
}

}  // namespace

Parsed<TcpPacket> TcpPacket::parse(std::span<const uint8_t> segment, Ipv4Addr src, Ipv4Addr dst,
                                   bool verify_checksum) {
  if (segment.size() < kTcpHeaderMin) return ParseError::kTruncated;
  // The pseudo-header length field is 16 bits; no IPv4 datagram carries more.
  if (segment.size() > 0xffff) return ParseError::kBadTotalLength;
  const size_t header_len = size_t{static_cast<uint8_t>(segment[12] >> 4)} * 4;
  // RFC 9293 §3.1: data offset counts 32-bit words, at least 5.
  if (header_len < kTcpHeaderMin || header_len > segment.size()) {
    return ParseError::kBadHeaderLength;
  }
  if (verify_checksum && !checksum_ok_tcp(segment, src, dst)) return ParseError::kBadChecksum;
  auto options = parse_tcp_options(segment.subspan(kTcpHeaderMin, header_len - kTcpHeaderMin));
  if (!options) return options.error();
  TcpPacket p;
  p.bytes_ = segment;
  p.options_ = *options;
  return p;
}

bool TcpPacket::checksum_ok_tcp(std::span<const uint8_t> segment, Ipv4Addr src, Ipv4Addr dst) {
  return tcp_pseudo(src, dst, segment.size()).add(segment).sum() == 0xffff;
}

bool TcpPacket::checksum_ok_tcp(std::span<const uint8_t> segment, const IpAddr& src,
                                const IpAddr& dst) {
  return tcp_pseudo(src, dst, segment.size()).add(segment).sum() == 0xffff;
}

Parsed<TcpPacket> TcpPacket::parse(std::span<const uint8_t> segment, const IpAddr& src,
                                   const IpAddr& dst, bool verify_checksum) {
  if (src.is_v4() && dst.is_v4()) return parse(segment, src.v4(), dst.v4(), verify_checksum);
  // The same order of checks as for IPv4: length and data offset, then the checksum, then
  // the options.
  auto p = parse(segment, Ipv4Addr(), Ipv4Addr(), false);
  if (!verify_checksum || (!p && p.error() != ParseError::kBadOptions)) return p;
  if (!checksum_ok_tcp(segment, src, dst)) return ParseError::kBadChecksum;
  return p;
}

uint16_t TcpPacket::src_port() const {
  return load_be16(bytes_.data());
}
uint16_t TcpPacket::dst_port() const {
  return load_be16(bytes_.data() + 2);
}
SeqNum TcpPacket::seq() const {
  return SeqNum(load_be32(bytes_.data() + 4));
}
SeqNum TcpPacket::ack() const {
  return SeqNum(load_be32(bytes_.data() + 8));
}
uint8_t TcpPacket::data_offset() const {
  return bytes_[12] >> 4;
}
uint8_t TcpPacket::flags() const {
  return bytes_[13];
}
uint16_t TcpPacket::window() const {
  return load_be16(bytes_.data() + 14);
}
uint16_t TcpPacket::checksum() const {
  return load_be16(bytes_.data() + kChecksumOffset);
}
uint16_t TcpPacket::urgent_pointer() const {
  return load_be16(bytes_.data() + 18);
}

std::span<const uint8_t> TcpPacket::options_bytes() const {
  return bytes_.subspan(kTcpHeaderMin, header_len() - kTcpHeaderMin);
}

std::span<const uint8_t> TcpPacket::payload() const {
  return bytes_.subspan(header_len());
}

TcpRepr TcpPacket::repr() const {
  TcpRepr r;
  r.src_port = src_port();
  r.dst_port = dst_port();
  r.seq = seq();
  r.ack = ack();
  r.flags = flags();
  r.window = window();
  r.urgent = urgent_pointer();
  r.options = options_;
  r.payload = payload();
  return r;
}

size_t TcpRepr::write_header(std::span<uint8_t> buf) const {
  const size_t hlen = header_len();
  const size_t total = hlen + payload.size();
  if (buf.size() < total || total > 0xffff) return 0;
  uint8_t* p = buf.data();
  store_be16(p, src_port);
  store_be16(p + 2, dst_port);
  store_be32(p + 4, seq.raw());
  store_be32(p + 8, ack.raw());
  p[12] = static_cast<uint8_t>((hlen / 4) << 4);  // reserved bits zero (RFC 9293 §3.1)
  p[13] = flags;
  store_be16(p + 14, window);
  store_be16(p + kChecksumOffset, 0);
  store_be16(p + 18, urgent);
  options.emit(buf.subspan(kTcpHeaderMin, hlen - kTcpHeaderMin));
  return hlen;
}

size_t TcpRepr::copy_payload(std::span<uint8_t> buf) const {
  const size_t hlen = header_len();
  const size_t total = hlen + payload.size();
  if (buf.size() < total || total > 0xffff) return 0;
  // memmove: the payload may already live in (or overlap) the output buffer.
  if (!payload.empty() && payload.data() != buf.data() + hlen) {
    std::memmove(buf.data() + hlen, payload.data(), payload.size());
  }
  return total;
}

size_t TcpRepr::emit_header(std::span<uint8_t> buf, Ipv4Addr src, Ipv4Addr dst,
                            bool checksum) const {
  const size_t hlen = write_header(buf);
  if (hlen == 0 || !checksum) return hlen;
  const auto segment = buf.first(hlen + payload.size());
  store_be16(buf.data() + kChecksumOffset,
             tcp_pseudo(src, dst, segment.size()).add(segment).finish());
  return hlen;
}

size_t TcpRepr::emit_header(std::span<uint8_t> buf, const IpAddr& src, const IpAddr& dst,
                            bool checksum) const {
  const size_t hlen = write_header(buf);
  if (hlen == 0 || !checksum) return hlen;
  const auto segment = buf.first(hlen + payload.size());
  store_be16(buf.data() + kChecksumOffset,
             tcp_pseudo(src, dst, segment.size()).add(segment).finish());
  return hlen;
}

size_t TcpRepr::emit(std::span<uint8_t> buf, Ipv4Addr src, Ipv4Addr dst, bool checksum) const {
  const size_t total = copy_payload(buf);
  if (total == 0) return 0;
  emit_header(buf, src, dst, checksum);
  return total;
}

size_t TcpRepr::emit(std::span<uint8_t> buf, const IpAddr& src, const IpAddr& dst,
                     bool checksum) const {
  const size_t total = copy_payload(buf);
  if (total == 0) return 0;
  emit_header(buf, src, dst, checksum);
  return total;
}

}  // namespace utcp::wire
