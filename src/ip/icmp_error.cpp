// SPDX-License-Identifier: BSD-2-Clause
#include "ip/icmp_error.hpp"

#include <algorithm>

#include "wire/endian.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"

namespace utcp::ip {

namespace {

IcmpErrorKind classify(uint8_t type, uint8_t code) {
  if (type != wire::icmp_type::kDestUnreachable) {
    // RFC 1122 §4.2.3.9: time exceeded and parameter problem are soft errors.
    return IcmpErrorKind::kSoft;
  }
  switch (code) {
    case wire::icmp_unreach::kFragmentationNeeded:
      // RFC 1191 §6.1 and RFC 5927 §7: a path MTU signal, never a reason to abort.
      return IcmpErrorKind::kPathMtu;
    case wire::icmp_unreach::kProtocol:
    case wire::icmp_unreach::kPort:
      // RFC 1122 §4.2.3.9: codes 2-4 are hard errors (4 is handled above).
      return IcmpErrorKind::kHard;
    default:
      // RFC 1122 §4.2.3.9: codes 0, 1, 5 are soft; unlisted codes are treated alike.
      return IcmpErrorKind::kSoft;
  }
}

IcmpErrorKind classify_v6(uint8_t type, uint8_t code) {
  switch (type) {
    case wire::icmpv6_type::kPacketTooBig:
      // RFC 8201 §4: a path MTU signal, never a reason to abort.
      return IcmpErrorKind::kPathMtu;
    case wire::icmpv6_type::kDestUnreachable:
      // RFC 4443 §3.1 leaves the reaction to the upper layer; as Linux does, port
      // unreachable, administratively prohibited, source policy and reject route are hard
      // (a retry meets the same answer), no route, beyond scope and address unreachable soft.
      // Unassigned codes stay soft (RFC 5927 §4: do not let unknown errors abort).
      switch (code) {
        case wire::icmpv6_unreach::kAdminProhibited:
        case wire::icmpv6_unreach::kPort:
        case wire::icmpv6_unreach::kSourcePolicy:
        case wire::icmpv6_unreach::kRejectRoute:
          return IcmpErrorKind::kHard;
        default:
          return IcmpErrorKind::kSoft;
      }
    case wire::icmpv6_type::kParameterProblem:
      // The peer cannot parse what we send; a retry would not help (Linux: fatal).
      return IcmpErrorKind::kHard;
    default:
      // Time Exceeded (RFC 4443 §3.3: transient) and unknown error types (§2.4(b)).
      return IcmpErrorKind::kSoft;
  }
}

// RFC 8201 §4: a Packet Too Big below the IPv6 minimum link MTU is not acted upon as such;
// the path MTU is then 1280 (RFC 8200 §5). Above 65535 needs jumbograms, which utcp lacks.
uint16_t ptb_mtu(uint32_t mtu) {
  return static_cast<uint16_t>(
      std::clamp<uint32_t>(mtu, static_cast<uint32_t>(wire::kIpv6MinMtu), 0xffffu));
}

}  // namespace

IcmpErrorDecode decode_icmp_error(const wire::IcmpPacket& icmp, wire::Ipv4Addr reporter,
                                  IcmpError& out) {
  if (icmp.type() == wire::icmp_type::kSourceQuench) {
    return IcmpErrorDecode::kSourceQuench;  // RFC 6633 §1: hosts MUST ignore it
  }
  if (!icmp.is_error()) return IcmpErrorDecode::kNotAnError;
  auto quote = icmp.quote();
  // RFC 792: an error quotes the header plus at least 8 bytes, enough for ports and seq.
  if (!quote || !quote->has_tcp_seq()) return IcmpErrorDecode::kBadQuote;
  const uint8_t protocol = quote->ip.protocol();
  if (protocol != wire::ip_proto::kTcp && protocol != wire::ip_proto::kUdp) {
    return IcmpErrorDecode::kNotTcp;
  }

  out.type = icmp.type();
  out.code = icmp.code();
  out.kind = classify(out.type, out.code);
  out.next_hop_mtu = out.kind == IcmpErrorKind::kPathMtu ? icmp.next_hop_mtu() : 0;
  out.reporter = reporter;
  out.local_addr = IpAddr(quote->ip.src());
  out.remote_addr = IpAddr(quote->ip.dst());
  out.local_port = quote->src_port();
  out.remote_port = quote->dst_port();
  // The 8 quoted bytes of a UDP header hold its ports, Length and checksum: no sequence.
  out.seq = protocol == wire::ip_proto::kTcp ? quote->tcp_seq() : wire::SeqNum();
  out.protocol = protocol;
  return IcmpErrorDecode::kOk;
}

IcmpErrorDecode decode_icmpv6_error(const wire::Icmpv6Packet& icmp, wire::Ipv6Addr reporter,
                                    IcmpError& out) {
  if (!icmp.is_error()) return IcmpErrorDecode::kNotAnError;  // RFC 4443 §2.1
  auto quote = icmp.quote();
  if (!quote || !quote->has_upper) return IcmpErrorDecode::kBadQuote;
  const uint8_t protocol = quote->upper_protocol;
  if (protocol != wire::ipv6_next::kTcp && protocol != wire::ipv6_next::kUdp) {
    return IcmpErrorDecode::kNotTcp;
  }
  // RFC 4443 §2.4(c) quotes as much as fits; the ports and sequence number (or the whole UDP
  // header) take 8 bytes.
  if (quote->upper.size() < 8) return IcmpErrorDecode::kBadQuote;
  const uint8_t* tcp = quote->upper.data();

  out.type = icmp.type();
  out.code = icmp.code();
  out.kind = classify_v6(out.type, out.code);
  out.next_hop_mtu = out.kind == IcmpErrorKind::kPathMtu ? ptb_mtu(icmp.mtu()) : 0;
  out.reporter = IpAddr(reporter);
  out.local_addr = IpAddr(quote->ip.src());
  out.remote_addr = IpAddr(quote->ip.dst());
  out.local_port = wire::load_be16(tcp);
  out.remote_port = wire::load_be16(tcp + 2);
  out.seq =
      protocol == wire::ipv6_next::kTcp ? wire::SeqNum(wire::load_be32(tcp + 4)) : wire::SeqNum();
  out.protocol = protocol;
  return IcmpErrorDecode::kOk;
}

}  // namespace utcp::ip
