// SPDX-License-Identifier: BSD-2-Clause
#include "wire/packet_format.hpp"

#include <algorithm>
#include <array>

#include "wire/endian.hpp"
#include "wire/icmp.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/ipv6_ext.hpp"

namespace utcp::wire {
namespace {

// Lists the options area as tcpdump does; parsing has already validated it (or, for
// a raw area, a malformed option ends the list with "bad-opt").
std::string format_options(std::span<const uint8_t> area) {
  std::string out;
  size_t i = 0;
  auto sep = [&out] {
    if (!out.empty()) out += ',';
  };
  while (i < area.size()) {
    const uint8_t kind = area[i];
    sep();
    if (kind == 0) {
      out += "eol";
      break;
    }
    if (kind == 1) {
      out += "nop";
      ++i;
      continue;
    }
    if (i + 1 >= area.size() || area[i + 1] < 2 || area[i + 1] > area.size() - i) {
      out += "bad-opt";
      break;
    }
    const uint8_t len = area[i + 1];
    const uint8_t* v = area.data() + i + 2;
    if (kind == 2 && len == 4) {
      out += "mss " + std::to_string(load_be16(v));
    } else if (kind == 3 && len == 3) {
      out += "wscale " + std::to_string(v[0]);
    } else if (kind == 4 && len == 2) {
      out += "sackOK";
    } else if (kind == 8 && len == 10) {
      out += "TS val " + std::to_string(load_be32(v)) + " ecr " + std::to_string(load_be32(v + 4));
    } else if (kind == 5 && (len - 2) % 8 == 0) {
      out += "sack " + std::to_string((len - 2) / 8) + " ";
      for (size_t b = 0; b + 8 <= size_t{len} - 2; b += 8) {
        // Appended piece by piece: g++ 12 -O3 reports a false -Wrestrict on `"{" + to_string()`.
        out += '{';
        out += std::to_string(load_be32(v + b));
        out += ':';
        out += std::to_string(load_be32(v + b + 4));
        out += '}';
      }
    } else {
      out += "opt-" + std::to_string(kind) + ":" + std::to_string(len);
    }
    i += len;
  }
  return out;
}

// "10.77.0.1:80", "[fd77::1]:80".
std::string endpoint_text(const IpAddr& a, uint16_t port) {
  // Appended piece by piece: GCC 12 at -O3 misreads `"[" + string` as an overlapping
  // memcpy (-Wrestrict, a known false positive).
  std::string s;
  if (a.is_v6()) s += '[';
  s += a.to_string();
  if (a.is_v6()) s += ']';
  s += ':';
  s += std::to_string(port);
  return s;
}

std::string format_common(uint16_t sport, uint16_t dport, const IpAddr& src, const IpAddr& dst,
                          uint8_t flags, SeqNum seq, SeqNum ack, uint16_t window, uint16_t urgent,
                          std::span<const uint8_t> options, size_t payload_len) {
  std::string s = endpoint_text(src, sport) + " > " + endpoint_text(dst, dport) + " [" +
                  format_tcp_flags(flags) + "] seq " + std::to_string(seq.raw());
  if (flags & tcp_flag::kAck) s += " ack " + std::to_string(ack.raw());
  s += " win " + std::to_string(window);
  if (flags & tcp_flag::kUrg) s += " urg " + std::to_string(urgent);
  if (!options.empty()) s += " <" + format_options(options) + ">";
  s += " len " + std::to_string(payload_len);
  return s;
}

}  // namespace

std::string format_tcp_flags(uint8_t flags) {
  static constexpr std::array<std::pair<uint8_t, char>, 8> kNames{{
      {tcp_flag::kFin, 'F'},
      {tcp_flag::kSyn, 'S'},
      {tcp_flag::kRst, 'R'},
      {tcp_flag::kPsh, 'P'},
      {tcp_flag::kAck, '.'},
      {tcp_flag::kUrg, 'U'},
      {tcp_flag::kEce, 'E'},
      {tcp_flag::kCwr, 'W'},
  }};
  std::string s;
  for (auto [bit, c] : kNames) {
    if (flags & bit) s += c;
  }
  return s.empty() ? "none" : s;
}

std::string format_tcp(const TcpRepr& seg, const IpAddr& src, const IpAddr& dst) {
  std::array<uint8_t, kTcpHeaderMax - kTcpHeaderMin> area{};
  const size_t n = seg.options.emit(area);
  return format_common(seg.src_port, seg.dst_port, src, dst, seg.flags, seg.seq, seg.ack,
                       seg.window, seg.urgent, std::span<const uint8_t>(area).first(n),
                       seg.payload.size());
}

std::string format_tcp(const TcpPacket& seg, const IpAddr& src, const IpAddr& dst) {
  return format_common(seg.src_port(), seg.dst_port(), src, dst, seg.flags(), seg.seq(), seg.ack(),
                       seg.window(), seg.urgent_pointer(), seg.options_bytes(),
                       seg.payload().size());
}

std::string format_ipv4_packet(std::span<const uint8_t> bytes, bool verify_tcp_checksum) {
  auto ip = Ipv4Packet::parse(bytes);
  if (!ip) return "invalid ipv4 (" + std::string(to_string(ip.error())) + ")";
  if (ip->is_fragment()) {
    return ip->src().to_string() + " > " + ip->dst().to_string() + " fragment id " +
           std::to_string(ip->identification()) + " offset " + std::to_string(ip->frag_offset()) +
           (ip->mf() ? "+" : "") + " len " + std::to_string(ip->payload().size());
  }
  if (ip->protocol() == ip_proto::kTcp) {
    auto tcp = TcpPacket::parse(ip->payload(), ip->src(), ip->dst(), verify_tcp_checksum);
    if (!tcp) {
      return ip->src().to_string() + " > " + ip->dst().to_string() + " invalid tcp (" +
             std::string(to_string(tcp.error())) + ")";
    }
    return format_tcp(*tcp, ip->src(), ip->dst());
  }
  std::string s = ip->src().to_string() + " > " + ip->dst().to_string();
  if (ip->protocol() == ip_proto::kIcmp) {
    auto icmp = IcmpPacket::parse(ip->payload());
    if (!icmp) return s + " invalid icmp (" + std::string(to_string(icmp.error())) + ")";
    s += " icmp type " + std::to_string(icmp->type()) + " code " + std::to_string(icmp->code());
    if (icmp->type() == icmp_type::kEchoRequest || icmp->type() == icmp_type::kEchoReply) {
      s += std::string(icmp->type() == icmp_type::kEchoRequest ? " echo request" : " echo reply") +
           " id " + std::to_string(icmp->identifier()) + " seq " + std::to_string(icmp->sequence());
    }
    if (icmp->type() == icmp_type::kDestUnreachable &&
        icmp->code() == icmp_unreach::kFragmentationNeeded) {
      s += " mtu " + std::to_string(icmp->next_hop_mtu());
    }
    if (auto q = icmp->quote()) {
      s += " quoting " + q->ip.src().to_string();
      if (q->has_ports()) s += ":" + std::to_string(q->src_port());
      s += " > " + q->ip.dst().to_string();
      if (q->has_ports()) s += ":" + std::to_string(q->dst_port());
      s += " proto " + std::to_string(q->ip.protocol());
    }
    return s + " len " + std::to_string(icmp->data().size());
  }
  return s + " proto " + std::to_string(ip->protocol()) + " len " +
         std::to_string(ip->payload().size());
}

std::string format_ipv6_packet(std::span<const uint8_t> bytes, bool verify_tcp_checksum) {
  auto ip = Ipv6Packet::parse(bytes);
  if (!ip) return "invalid ipv6 (" + std::string(to_string(ip.error())) + ")";
  const IpAddr src = ip->src(), dst = ip->dst();
  std::string s = src.to_string() + " > " + dst.to_string();
  const Ipv6ExtWalk walk = walk_ipv6_ext(*ip);
  if (walk.verdict == Ipv6ExtVerdict::kDiscard) {
    return s + " invalid ipv6 ext (" + std::string(to_string(walk.drop)) + ")";
  }
  if (walk.fragment && !walk.fragment->is_atomic()) {
    return s + " fragment id " + std::to_string(walk.fragment->identification) + " offset " +
           std::to_string(walk.fragment->offset) + (walk.fragment->more ? "+" : "") + " len " +
           std::to_string(bytes.size() - std::min(bytes.size(), walk.upper_offset));
  }
  const auto upper = ip->bytes().subspan(std::min(walk.upper_offset, ip->bytes().size()));
  std::string label;
  if (ip->flow_label() != 0) label = " flow " + std::to_string(ip->flow_label());
  if (walk.upper_protocol == ipv6_next::kTcp) {
    auto tcp = TcpPacket::parse(upper, src, dst, verify_tcp_checksum);
    if (!tcp) return s + " invalid tcp (" + std::string(to_string(tcp.error())) + ")";
    return format_tcp(*tcp, src, dst) + label;
  }
  if (walk.upper_protocol == ipv6_next::kIcmpv6) {
    auto icmp = Icmpv6Packet::parse(upper, ip->src(), ip->dst());
    if (!icmp) return s + " invalid icmp6 (" + std::string(to_string(icmp.error())) + ")";
    s += " icmp6 type " + std::to_string(icmp->type()) + " code " + std::to_string(icmp->code());
    if (icmp->type() == icmpv6_type::kEchoRequest || icmp->type() == icmpv6_type::kEchoReply) {
      s +=
          std::string(icmp->type() == icmpv6_type::kEchoRequest ? " echo request" : " echo reply") +
          " id " + std::to_string(icmp->identifier()) + " seq " + std::to_string(icmp->sequence());
    }
    if (icmp->type() == icmpv6_type::kPacketTooBig) s += " mtu " + std::to_string(icmp->mtu());
    if (auto q = icmp->quote()) {
      s += " quoting " + q->ip.src().to_string() + " > " + q->ip.dst().to_string();
      if (q->has_upper) s += " proto " + std::to_string(q->upper_protocol);
    }
    return s + " len " + std::to_string(icmp->data().size());
  }
  return s + " proto " + std::to_string(walk.upper_protocol) + " len " +
         std::to_string(upper.size()) + label;
}

std::string format_ip_packet(std::span<const uint8_t> bytes, bool verify_tcp_checksum) {
  if (!bytes.empty() && bytes[0] >> 4 == 6) return format_ipv6_packet(bytes, verify_tcp_checksum);
  return format_ipv4_packet(bytes, verify_tcp_checksum);
}

}  // namespace utcp::wire
