// SPDX-License-Identifier: BSD-2-Clause
#include "wire/ipv6_ext.hpp"

#include <algorithm>

#include "wire/endian.hpp"

namespace utcp::wire {
namespace {

Ipv6ExtWalk& discard(Ipv6ExtWalk& w, Ipv6ExtDrop why) {
  w.verdict = Ipv6ExtVerdict::kDiscard;
  w.drop = why;
  return w;
}

Ipv6ExtWalk& problem(Ipv6ExtWalk& w, uint8_t code, size_t pointer) {
  w.verdict = Ipv6ExtVerdict::kParameterProblem;
  w.problem_code = code;
  w.problem_pointer = static_cast<uint32_t>(pointer);
  return w;
}

// RFC 8200 §4.2: the TLV options of a Hop-by-Hop or Destination Options header, at
// [begin, end) of the packet. False when the walk must stop (w says why).
bool check_options(std::span<const uint8_t> pkt, size_t begin, size_t end, bool dst_multicast,
                   Ipv6ExtWalk& w) {
  size_t i = begin;
  while (i < end) {
    const uint8_t type = pkt[i];
    if (type == 0) {  // Pad1: a single byte
      ++i;
      continue;
    }
    if (i + 2 > end || i + 2 + pkt[i + 1] > end) {
      discard(w, Ipv6ExtDrop::kTruncated);
      return false;
    }
    // PadN (1) is skipped; utcp recognizes no other option. The two high-order bits of an
    // unrecognized option's type say what to do (§4.2).
    if (type != 1) {
      switch (type >> 6) {
        case 0:  // 00: skip over this option
          break;
        case 1:  // 01: discard the packet
          discard(w, Ipv6ExtDrop::kOptionDiscard);
          return false;
        case 2:  // 10: discard and send Parameter Problem, code 2, pointing at the type
          problem(w, icmpv6_param::kUnrecognizedOption, i);
          return false;
        default:  // 11: the same, but only if the destination is not multicast
          if (dst_multicast) {
            discard(w, Ipv6ExtDrop::kOptionDiscard);
          } else {
            problem(w, icmpv6_param::kUnrecognizedOption, i);
          }
          return false;
      }
    }
    i += 2 + size_t{pkt[i + 1]};
  }
  return true;
}

}  // namespace

std::string_view to_string(Ipv6ExtDrop d) {
  switch (d) {
    case Ipv6ExtDrop::kNone:
      return "none";
    case Ipv6ExtDrop::kTruncated:
      return "ext-truncated";
    case Ipv6ExtDrop::kOptionDiscard:
      return "ext-option-discard";
    case Ipv6ExtDrop::kTooManyHeaders:
      return "ext-too-many";
  }
  return "unknown";
}

size_t Ipv6FragmentHeader::emit(std::span<uint8_t> buf) const {
  if (buf.size() < 8) return 0;
  buf[0] = next_header;
  buf[1] = 0;
  store_be16(buf.data() + 2, static_cast<uint16_t>((offset & 0xfff8) | (more ? 1 : 0)));
  store_be32(buf.data() + 4, identification);
  return 8;
}

Ipv6ExtWalk walk_ipv6_ext(const Ipv6Packet& packet, std::span<const uint8_t> upper) {
  const std::span<const uint8_t> pkt = packet.bytes();
  const bool dst_multicast = packet.dst().is_multicast();
  Ipv6ExtWalk w;
  uint8_t nh = packet.next_header();
  size_t nh_field = 6;  // offset of the Next Header field that holds nh
  size_t off = kIpv6HeaderLen;
  while (true) {
    w.upper_protocol = nh;
    w.upper_offset = off;
    w.next_header_offset = nh_field;
    const bool options_header = nh == ipv6_next::kHopByHop || nh == ipv6_next::kDestOptions;
    if (!options_header && nh != ipv6_next::kRouting && nh != ipv6_next::kFragment) break;
    // RFC 8200 §4.3: Hop-by-Hop Options only immediately after the IPv6 header; elsewhere
    // it is an unrecognized Next Header (§4: code 1, pointing at that Next Header field).
    if (nh == ipv6_next::kHopByHop && w.headers > 0) {
      return problem(w, icmpv6_param::kUnrecognizedNextHeader, nh_field);
    }
    if (w.headers == kIpv6MaxExtHeaders) return discard(w, Ipv6ExtDrop::kTooManyHeaders);
    // Every extension header starts with Next Header; all but Fragment then carry Hdr Ext
    // Len in 8-byte units, not counting the first 8 (§4.3, §4.4, §4.6). Fragment is 8.
    if (off + 8 > pkt.size()) return discard(w, Ipv6ExtDrop::kTruncated);
    const size_t len = nh == ipv6_next::kFragment ? 8 : (size_t{pkt[off + 1]} + 1) * 8;
    if (off + len > pkt.size()) return discard(w, Ipv6ExtDrop::kTruncated);
    ++w.headers;
    if (options_header) {
      if (!check_options(pkt, off + 2, off + len, dst_multicast, w)) return w;
    } else if (nh == ipv6_next::kRouting) {
      // RFC 8200 §4.4: with Segments Left zero the header is ignored; otherwise an
      // unrecognized Routing Type is a Parameter Problem, code 0, pointing at the type.
      // utcp is a host that forwards nothing, so it recognizes no type (RFC 5095 treats
      // type 0 as unrecognized as well).
      if (pkt[off + 3] != 0) return problem(w, icmpv6_param::kErroneousHeaderField, off + 2);
    } else {
      Ipv6FragmentHeader f;
      f.next_header = pkt[off];
      const uint16_t word = load_be16(pkt.data() + off + 2);
      f.offset = static_cast<uint16_t>(word & 0xfff8);
      f.more = (word & 1) != 0;
      f.identification = load_be32(pkt.data() + off + 4);
      f.header_offset = off;
      w.fragment = f;
      // RFC 6946 §4: an atomic fragment is processed in isolation, as the packet it is;
      // any other fragment ends the walk: what follows is fragment data until reassembly,
      // which walks the whole packet again.
      if (!f.is_atomic()) {
        w.upper_protocol = f.next_header;
        w.upper_offset = off + 8;
        w.next_header_offset = off;
      }
      const size_t data_len = pkt.size() - (off + 8);
      // RFC 8200 §4.5: a fragment that is not the last must carry a multiple of 8 bytes,
      // else Parameter Problem code 0 pointing at the Payload Length field...
      if (f.more && data_len % 8 != 0) {
        return problem(w, icmpv6_param::kErroneousHeaderField, 4);
      }
      // ...and no fragment may reach past 65,535 bytes of reassembled payload (pointing at
      // the Fragment Offset field). The headers before this one stay in that payload.
      if ((off - kIpv6HeaderLen) + f.offset + data_len > 0xffff) {
        return problem(w, icmpv6_param::kErroneousHeaderField, off + 2);
      }
      if (!f.is_atomic()) return w;
    }
    nh = pkt[off];
    nh_field = off;
    off += len;
  }
  // RFC 8200 §4.7: No Next Header ends the packet; anything after it is ignored.
  if (nh == ipv6_next::kNoNextHeader) return w;
  // RFC 8200 §4: a Next Header value the node does not recognize is a Parameter Problem,
  // code 1, pointing at the Next Header field that holds it.
  if (std::find(upper.begin(), upper.end(), nh) == upper.end()) {
    return problem(w, icmpv6_param::kUnrecognizedNextHeader, nh_field);
  }
  return w;
}

}  // namespace utcp::wire
