// SPDX-License-Identifier: BSD-2-Clause
#include "wire/icmpv6.hpp"

#include <algorithm>
#include <cstring>

#include "wire/checksum.hpp"
#include "wire/endian.hpp"
#include "wire/ipv6_ext.hpp"

namespace utcp::wire {
namespace {

bool is_echo(uint8_t type) {
  return type == icmpv6_type::kEchoRequest || type == icmpv6_type::kEchoReply;
}

// RFC 4443 §2.3: the checksum covers the IPv6 pseudo-header (next header 58) and the message.
Checksum icmpv6_sum(std::span<const uint8_t> msg, const Ipv6Addr& src, const Ipv6Addr& dst) {
  return ipv6_pseudo_header(src, dst, ipv6_next::kIcmpv6, static_cast<uint32_t>(msg.size()))
      .add(msg);
}

}  // namespace

bool icmpv6_error_allowed(const Ipv6Packet& invoking, const Ipv6ExtWalk& walk, uint8_t type,
                          uint8_t code) {
  const std::span<const uint8_t> pkt = invoking.bytes();
  // (e.1), (e.2): the invoking packet is itself an ICMPv6 error or a Redirect.
  if (walk.upper_protocol == ipv6_next::kIcmpv6 && walk.upper_offset < pkt.size()) {
    const uint8_t t = pkt[walk.upper_offset];
    if (t < 128 || t == kIcmpv6Redirect) return false;
  }
  // (e.3): to a multicast destination only Packet Too Big and Parameter Problem code 2 (an
  // option whose type asks for it; the walk has already left out action 11 to multicast).
  if (invoking.dst().is_multicast()) {
    const bool exempt =
        type == icmpv6_type::kPacketTooBig ||
        (type == icmpv6_type::kParameterProblem && code == icmpv6_param::kUnrecognizedOption);
    if (!exempt) return false;
  }
  // (e.6): a source that does not name a single node.
  const Ipv6Addr src = invoking.src();
  return !src.is_unspecified() && !src.is_multicast();
}

Parsed<Icmpv6Packet> Icmpv6Packet::parse(std::span<const uint8_t> bytes, const Ipv6Addr& src,
                                         const Ipv6Addr& dst, bool verify_checksum) {
  if (bytes.size() < kIcmpv6HeaderLen) return ParseError::kTruncated;
  if (verify_checksum && icmpv6_sum(bytes, src, dst).sum() != 0xffff) {
    return ParseError::kBadChecksum;
  }
  Icmpv6Packet p;
  p.bytes_ = bytes;
  return p;
}

uint16_t Icmpv6Packet::checksum() const {
  return load_be16(bytes_.data() + 2);
}
uint32_t Icmpv6Packet::rest_of_header() const {
  return load_be32(bytes_.data() + 4);
}
uint16_t Icmpv6Packet::identifier() const {
  return load_be16(bytes_.data() + 4);
}
uint16_t Icmpv6Packet::sequence() const {
  return load_be16(bytes_.data() + 6);
}
uint32_t Icmpv6Packet::mtu() const {
  return load_be32(bytes_.data() + 4);
}
uint32_t Icmpv6Packet::pointer() const {
  return load_be32(bytes_.data() + 4);
}

Parsed<Icmpv6Quote> Icmpv6Packet::quote() const {
  if (!is_error()) return ParseError::kUnsupported;
  auto ip = Ipv6Packet::parse_quoted(data());
  if (!ip) return ip.error();
  Icmpv6Quote q;
  q.ip = *ip;
  q.bytes = data();
  // The quote's own extension headers lead to its upper layer. Any protocol will do here
  // (an unrecognized one still names where the upper layer starts); a walk stopped early,
  // e.g. by a cut-off header, leaves has_upper false.
  const Ipv6ExtWalk w = walk_ipv6_ext(*ip);
  const bool unknown_upper = w.verdict == Ipv6ExtVerdict::kParameterProblem &&
                             w.problem_code == icmpv6_param::kUnrecognizedNextHeader &&
                             w.problem_pointer == w.next_header_offset;
  // A quoted fragment: only the first holds the upper-layer header, and the §4.5 length
  // checks mean nothing for a quote that was cut short.
  const bool fragment = w.fragment && !w.fragment->is_atomic();
  const bool first_fragment = fragment && w.fragment->offset == 0;
  if (((w.accepted() && !fragment) || unknown_upper || first_fragment) &&
      w.upper_offset <= ip->bytes().size()) {
    q.has_upper = true;
    q.upper_protocol = w.upper_protocol;
    q.upper = ip->bytes().subspan(w.upper_offset);
  }
  return q;
}

Icmpv6Repr Icmpv6Packet::repr() const {
  Icmpv6Repr r;
  r.type = type();
  r.code = code();
  if (is_echo(r.type)) {
    r.identifier = identifier();
    r.sequence = sequence();
  } else if (r.type == icmpv6_type::kPacketTooBig) {
    r.mtu = mtu();
  } else if (r.type == icmpv6_type::kParameterProblem) {
    r.pointer = pointer();
  }
  r.data = data();
  return r;
}

Icmpv6Repr Icmpv6Repr::echo_request(uint16_t id, uint16_t seq, std::span<const uint8_t> data) {
  Icmpv6Repr r;
  r.type = icmpv6_type::kEchoRequest;
  r.identifier = id;
  r.sequence = seq;
  r.data = data;
  return r;
}

Icmpv6Repr Icmpv6Repr::echo_reply(uint16_t id, uint16_t seq, std::span<const uint8_t> data) {
  Icmpv6Repr r = echo_request(id, seq, data);
  r.type = icmpv6_type::kEchoReply;
  return r;
}

namespace {
// An error message of `type`/`code` quoting the invoking packet (RFC 4443 §3, §2.4(c)).
Icmpv6Repr error_repr(uint8_t type, uint8_t code, std::span<const uint8_t> invoking) {
  Icmpv6Repr r;
  r.type = type;
  r.code = code;
  r.data = invoking;
  return r;
}
}  // namespace

Icmpv6Repr Icmpv6Repr::dest_unreachable(uint8_t code, std::span<const uint8_t> invoking) {
  return error_repr(icmpv6_type::kDestUnreachable, code, invoking);
}

Icmpv6Repr Icmpv6Repr::packet_too_big(uint32_t mtu, std::span<const uint8_t> invoking) {
  Icmpv6Repr r = error_repr(icmpv6_type::kPacketTooBig, 0, invoking);
  r.mtu = mtu;
  return r;
}

Icmpv6Repr Icmpv6Repr::time_exceeded(uint8_t code, std::span<const uint8_t> invoking) {
  return error_repr(icmpv6_type::kTimeExceeded, code, invoking);
}

Icmpv6Repr Icmpv6Repr::parameter_problem(uint8_t code, uint32_t pointer,
                                         std::span<const uint8_t> invoking) {
  Icmpv6Repr r = error_repr(icmpv6_type::kParameterProblem, code, invoking);
  r.pointer = pointer;
  return r;
}

uint32_t Icmpv6Repr::rest_of_header() const {
  if (is_echo(type)) return uint32_t{identifier} << 16 | sequence;
  if (type == icmpv6_type::kPacketTooBig) return mtu;          // RFC 4443 §3.2
  if (type == icmpv6_type::kParameterProblem) return pointer;  // RFC 4443 §3.4
  return 0;                                                    // §3.1, §3.3: unused, zero
}

size_t Icmpv6Repr::data_len() const {
  // RFC 4443 §2.4(c): as much of the invoking packet as fits without the error exceeding
  // the minimum IPv6 MTU.
  return is_error() ? std::min(data.size(), kIcmpv6MaxQuote) : data.size();
}

size_t Icmpv6Repr::emit(std::span<uint8_t> buf, const Ipv6Addr& src, const Ipv6Addr& dst) const {
  const size_t total = total_len();
  if (buf.size() < total) return 0;
  uint8_t* p = buf.data();
  if (data_len() != 0 && data.data() != p + kIcmpv6HeaderLen) {
    std::memmove(p + kIcmpv6HeaderLen, data.data(), data_len());
  }
  p[0] = type;
  p[1] = code;
  store_be16(p + 2, 0);
  store_be32(p + 4, rest_of_header());
  store_be16(p + 2, icmpv6_sum(buf.first(total), src, dst).finish());
  return total;
}

}  // namespace utcp::wire
