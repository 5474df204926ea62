// SPDX-License-Identifier: BSD-2-Clause
#include "ip/icmp_error.hpp"

#include "wire/ipv4.hpp"

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
  out.local_addr = quote->ip.src();
  out.remote_addr = quote->ip.dst();
  out.local_port = quote->src_port();
  out.remote_port = quote->dst_port();
  // The 8 quoted bytes of a UDP header hold its ports, Length and checksum: no sequence.
  out.seq = protocol == wire::ip_proto::kTcp ? quote->tcp_seq() : wire::SeqNum();
  out.protocol = protocol;
  return IcmpErrorDecode::kOk;
}

}  // namespace utcp::ip
