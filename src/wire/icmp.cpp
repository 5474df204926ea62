// SPDX-License-Identifier: BSD-2-Clause
#include "wire/icmp.hpp"

#include <cstring>

#include "wire/checksum.hpp"
#include "wire/endian.hpp"

namespace utcp::wire {
namespace {

bool is_echo(uint8_t type) {
  return type == icmp_type::kEchoRequest || type == icmp_type::kEchoReply;
}

}  // namespace

uint16_t IcmpQuote::src_port() const {
  return load_be16(transport.data());
}
uint16_t IcmpQuote::dst_port() const {
  return load_be16(transport.data() + 2);
}
SeqNum IcmpQuote::tcp_seq() const {
  return SeqNum(load_be32(transport.data() + 4));
}

Parsed<IcmpPacket> IcmpPacket::parse(std::span<const uint8_t> bytes) {
  if (bytes.size() < kIcmpHeaderLen) return ParseError::kTruncated;
  // RFC 792: the checksum covers the whole ICMP message.
  if (!checksum_ok(bytes)) return ParseError::kBadChecksum;
  IcmpPacket p;
  p.bytes_ = bytes;
  return p;
}

uint16_t IcmpPacket::checksum() const {
  return load_be16(bytes_.data() + 2);
}
uint32_t IcmpPacket::rest_of_header() const {
  return load_be32(bytes_.data() + 4);
}
uint16_t IcmpPacket::identifier() const {
  return load_be16(bytes_.data() + 4);
}
uint16_t IcmpPacket::sequence() const {
  return load_be16(bytes_.data() + 6);
}
uint16_t IcmpPacket::next_hop_mtu() const {
  return load_be16(bytes_.data() + 6);
}

bool IcmpPacket::is_error() const {
  switch (type()) {
    case icmp_type::kDestUnreachable:
    case icmp_type::kSourceQuench:
    case icmp_type::kTimeExceeded:
    case icmp_type::kParameterProblem:
      return true;
    default:
      return false;
  }
}

Parsed<IcmpQuote> IcmpPacket::quote() const {
  if (!is_error()) return ParseError::kUnsupported;
  auto ip = Ipv4Packet::parse_quoted(data());
  if (!ip) return ip.error();
  return IcmpQuote{*ip, ip->payload()};
}

IcmpRepr IcmpPacket::repr() const {
  IcmpRepr r;
  r.type = type();
  r.code = code();
  if (is_echo(r.type)) {
    r.identifier = identifier();
    r.sequence = sequence();
  } else if (r.type == icmp_type::kDestUnreachable) {
    r.next_hop_mtu = next_hop_mtu();
  }
  r.data = data();
  return r;
}

IcmpRepr IcmpRepr::echo_request(uint16_t id, uint16_t seq, std::span<const uint8_t> data) {
  return IcmpRepr{icmp_type::kEchoRequest, 0, id, seq, 0, data};
}

IcmpRepr IcmpRepr::echo_reply(uint16_t id, uint16_t seq, std::span<const uint8_t> data) {
  return IcmpRepr{icmp_type::kEchoReply, 0, id, seq, 0, data};
}

IcmpRepr IcmpRepr::dest_unreachable(uint8_t code, uint16_t mtu, std::span<const uint8_t> quoted) {
  return IcmpRepr{icmp_type::kDestUnreachable, code, 0, 0, mtu, quoted};
}

IcmpRepr IcmpRepr::time_exceeded(uint8_t code, std::span<const uint8_t> quoted) {
  return IcmpRepr{icmp_type::kTimeExceeded, code, 0, 0, 0, quoted};
}

uint32_t IcmpRepr::rest_of_header() const {
  if (is_echo(type)) return uint32_t{identifier} << 16 | sequence;
  // RFC 1191 §4: unused high half, next-hop MTU in the low half (zero for other codes).
  if (type == icmp_type::kDestUnreachable) return next_hop_mtu;
  return 0;
}

size_t IcmpRepr::emit(std::span<uint8_t> buf) const {
  const size_t total = total_len();
  if (buf.size() < total) return 0;
  uint8_t* p = buf.data();
  if (!data.empty() && data.data() != p + kIcmpHeaderLen) {
    std::memmove(p + kIcmpHeaderLen, data.data(), data.size());
  }
  p[0] = type;
  p[1] = code;
  store_be16(p + 2, 0);
  store_be32(p + 4, rest_of_header());
  store_be16(p + 2, internet_checksum(buf.first(total)));
  return total;
}

}  // namespace utcp::wire
