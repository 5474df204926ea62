// SPDX-License-Identifier: BSD-2-Clause
#include "packet_codec.hpp"

#include <sstream>

#include "wire/checksum.hpp"
#include "wire/endian.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/packet_format.hpp"
#include "wire/tcp.hpp"

namespace utcp::drill {

namespace {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kPsh = 0x08, kAck = 0x10;

std::string flag_text(uint8_t f) {
  std::string s;
  if (f & 0x01) s += 'F';
  if (f & 0x02) s += 'S';
  if (f & 0x04) s += 'R';
  if (f & 0x08) s += 'P';
  if (f & 0x10) s += '.';
  if (f & 0x20) s += 'U';
  if (f & 0x40) s += 'E';
  if (f & 0x80) s += 'W';
  return s.empty() ? "none" : s;
}

void put_options(std::vector<uint8_t>& out, const std::vector<TcpOptionSpec>& opts,
                 const Flow& flow) {
  const uint32_t isn = flow.local_isn.value_or(0);
  for (const TcpOptionSpec& o : opts) {
    switch (o.kind) {
      case TcpOptionSpec::Kind::kMss:
        out.insert(out.end(), {2, 4, static_cast<uint8_t>(o.a >> 8), static_cast<uint8_t>(o.a)});
        break;
      case TcpOptionSpec::Kind::kNop:
        out.push_back(1);
        break;
      case TcpOptionSpec::Kind::kEol:
        out.push_back(0);
        break;
      case TcpOptionSpec::Kind::kWscale:
        out.insert(out.end(), {3, 3, static_cast<uint8_t>(o.a)});
        break;
      case TcpOptionSpec::Kind::kSackOk:
        out.insert(out.end(), {4, 2});
        break;
      case TcpOptionSpec::Kind::kSack: {
        out.push_back(5);
        out.push_back(static_cast<uint8_t>(2 + 8 * o.sacks.size()));
        for (const auto& [l, r] : o.sacks) {
          uint8_t b[8];
          wire::store_be32(b, l + isn);
          wire::store_be32(b + 4, r + isn);
          out.insert(out.end(), b, b + 8);
        }
        break;
      }
      case TcpOptionSpec::Kind::kTimestamp: {
        // RFC 7323 §3.2: our TSecr echoes the stack's TSval, which the script writes relative.
        const uint32_t ecr =
            o.b == 0 || !flow.ts_offset ? o.b : static_cast<uint32_t>(o.b + *flow.ts_offset);
        uint8_t b[10] = {8, 10};
        wire::store_be32(b + 2, o.a);
        wire::store_be32(b + 6, ecr);
        out.insert(out.end(), b, b + 10);
        break;
      }
    }
  }
  while (out.size() % 4) out.push_back(0);
}

// The IP header of the flow's family in front of `payload` (remote -> local).
std::vector<uint8_t> wrap_ip(const Flow& flow, uint8_t protocol, std::vector<uint8_t> payload) {
  std::vector<uint8_t> out;
  if (flow.remote_ip.is_v6()) {
    wire::Ipv6Repr ip{.src = flow.remote_ip.v6(),
                      .dst = flow.local_ip.v6(),
                      .next_header = protocol,
                      .payload_len = static_cast<uint16_t>(payload.size())};
    out.resize(ip.header_len() + payload.size());
    ip.emit(out);
  } else {
    wire::Ipv4Repr ip;
    ip.src = flow.remote_ip.v4();
    ip.dst = flow.local_ip.v4();
    ip.protocol = protocol;
    ip.payload_len = static_cast<uint16_t>(payload.size());
    out.resize(ip.header_len() + payload.size());
    ip.emit(out);
  }
  std::copy(payload.begin(), payload.end(), out.end() - static_cast<long>(payload.size()));
  return out;
}

std::vector<uint8_t> build_tcp(const PacketSpec& p, const Flow& flow) {
  std::vector<uint8_t> opts;
  put_options(opts, p.options, flow);
  std::vector<uint8_t> seg(20 + opts.size() + p.len, 0);
  uint8_t* h = seg.data();
  wire::store_be16(h, flow.remote_port);
  wire::store_be16(h + 2, flow.local_port);
  wire::store_be32(h + 4, p.seq);
  const uint32_t ack = p.ack ? *p.ack + flow.local_isn.value_or(0) : 0;
  wire::store_be32(h + 8, ack);
  h[12] = static_cast<uint8_t>(((20 + opts.size()) / 4) << 4);
  h[13] = p.flags;
  wire::store_be16(h + 14, static_cast<uint16_t>(p.win.value_or(65535)));
  wire::store_be16(h + 18, static_cast<uint16_t>(p.urg.value_or(0)));
  std::copy(opts.begin(), opts.end(), seg.begin() + 20);
  for (uint32_t i = 0; i < p.len; ++i)
    seg[20 + opts.size() + i] = static_cast<uint8_t>('a' + i % 26);
  wire::Checksum c =
      wire::pseudo_header(flow.remote_ip, flow.local_ip, 6, static_cast<uint32_t>(seg.size()));
  c.add(seg);
  wire::store_be16(h + 16, c.finish());
  return seg;
}

// The quoted segment (20 bytes, no options) the stack sent to the remote side.
void put_quoted_tcp(uint8_t* t, const PacketSpec& p, const Flow& flow) {
  wire::store_be16(t, flow.local_port);
  wire::store_be16(t + 2, flow.remote_port);
  wire::store_be32(t + 4, p.seq + flow.local_isn.value_or(0));
  t[12] = 5 << 4;
  t[13] = kAck;
}

// RFC 792: an ICMP error quotes the offending IP header and the first 8 bytes of its payload
// (we quote 20, as Linux does), here a segment the stack sent to the remote side.
std::vector<uint8_t> build_icmp(const PacketSpec& p, const Flow& flow) {
  wire::Ipv4Repr quoted;
  quoted.src = flow.local_ip.v4();
  quoted.dst = flow.remote_ip.v4();
  quoted.protocol = 6;
  quoted.payload_len = static_cast<uint16_t>(20 + p.len);
  std::vector<uint8_t> msg(8 + 20 + 20, 0);
  msg[0] = p.icmp_type;
  msg[1] = p.icmp_code;
  if (p.icmp_mtu) wire::store_be16(msg.data() + 6, static_cast<uint16_t>(*p.icmp_mtu));
  quoted.emit(std::span<uint8_t>(msg).subspan(8, 20));
  put_quoted_tcp(msg.data() + 28, p, flow);
  wire::store_be16(msg.data() + 2, wire::internet_checksum(msg));
  return msg;
}

// RFC 4443 §3: an ICMPv6 error quotes as much of the invoking packet as fits; here its IPv6
// header and 20 bytes of TCP. Packet Too Big carries a 32-bit MTU (§3.2), the others 0 or a
// pointer (Parameter Problem, §3.4) in the same place.
std::vector<uint8_t> build_icmpv6(const PacketSpec& p, const Flow& flow) {
  wire::Ipv6Repr quoted{.src = flow.local_ip.v6(),
                        .dst = flow.remote_ip.v6(),
                        .next_header = 6,
                        .payload_len = static_cast<uint16_t>(20 + p.len)};
  std::vector<uint8_t> msg(8 + 40 + 20, 0);
  msg[0] = p.icmp6_type;
  msg[1] = p.icmp6_code;
  if (p.icmp_mtu) wire::store_be32(msg.data() + 4, *p.icmp_mtu);
  quoted.emit(std::span<uint8_t>(msg).subspan(8, 40));
  put_quoted_tcp(msg.data() + 48, p, flow);
  // RFC 4443 §2.3: the checksum covers the IPv6 pseudo-header (remote -> local).
  wire::store_be16(msg.data() + 2, wire::pseudo_header(flow.remote_ip, flow.local_ip, 58,
                                                       static_cast<uint32_t>(msg.size()))
                                       .add(msg)
                                       .finish());
  return msg;
}

std::string options_text(const wire::TcpOptions& o, const Flow& flow) {
  std::vector<std::string> parts;
  if (o.mss) parts.push_back("mss " + std::to_string(*o.mss));
  if (o.sack_permitted) parts.push_back("sackOK");
  if (o.timestamps) {
    const int64_t val =
        flow.ts_offset ? o.timestamps->tsval - *flow.ts_offset : o.timestamps->tsval;
    parts.push_back("TS val " + std::to_string(static_cast<uint32_t>(val)) + " ecr " +
                    std::to_string(o.timestamps->tsecr));
  }
  if (o.window_scale) parts.push_back("wscale " + std::to_string(*o.window_scale));
  if (o.sack_count) {
    std::string s = "sack";
    for (const auto& b : o.sacks()) {
      // Appended piece by piece: g++ 12 -O3 reports a false -Wrestrict on `" " + to_string()`.
      s += ' ';
      s += std::to_string(b.left.raw());
      s += ':';
      s += std::to_string(b.right.raw());
    }
    parts.push_back(s);
  }
  if (parts.empty()) return "";
  std::string out = " <";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "," : "") + parts[i];
  return out + ">";
}

}  // namespace

std::vector<uint8_t> build_inbound(const PacketSpec& p, const Flow& flow, std::string& error) {
  if (!p.icmp) return wrap_ip(flow, 6, build_tcp(p, flow));
  if (flow.remote_ip.is_v6()) {
    if (!p.icmp6) return error = "this ICMP message has no ICMPv6 form", std::vector<uint8_t>{};
    return wrap_ip(flow, 58, build_icmpv6(p, flow));
  }
  if (!p.icmp4) return error = "this ICMPv6 message has no IPv4 form", std::vector<uint8_t>{};
  return wrap_ip(flow, 1, build_icmp(p, flow));
}

namespace {

struct IpView {
  IpAddr src, dst;
  uint8_t protocol = 0;
  std::span<const uint8_t> payload;
};

std::optional<IpView> ip_of(std::span<const uint8_t> bytes, std::string& error) {
  if (!bytes.empty() && bytes[0] >> 4 == 6) {
    auto ip = wire::Ipv6Packet::parse(bytes);
    if (!ip) return error = "invalid IPv6 packet", std::nullopt;
    return IpView{ip->src(), ip->dst(), ip->next_header(), ip->payload()};
  }
  auto ip = wire::Ipv4Packet::parse(bytes);
  if (!ip) return error = "invalid IPv4 packet", std::nullopt;
  return IpView{ip->src(), ip->dst(), ip->protocol(), ip->payload()};
}

}  // namespace

std::optional<wire::TcpPacket> tcp_of(std::span<const uint8_t> bytes) {
  std::string error;
  const auto ip = ip_of(bytes, error);
  if (!ip || ip->protocol != 6) return std::nullopt;
  auto tcp = wire::TcpPacket::parse(ip->payload, ip->src, ip->dst);
  if (!tcp) return std::nullopt;
  return *tcp;
}

std::string format_packet(std::span<const uint8_t> bytes) {
  if (bytes.empty() || bytes[0] >> 4 != 6) return wire::format_ipv4_packet(bytes);
  std::string error;
  const auto ip = ip_of(bytes, error);
  if (!ip) return error;
  std::string s = ip->src.to_string() + " > " + ip->dst.to_string() + " next header " +
                  std::to_string(ip->protocol) + ", " + std::to_string(ip->payload.size()) +
                  " bytes";
  if (ip->protocol == 6) {
    if (auto tcp = wire::TcpPacket::parse(ip->payload, ip->src, ip->dst)) {
      s += ": ports " + std::to_string(tcp->src_port()) + " > " + std::to_string(tcp->dst_port());
    }
  }
  return s;
}

std::optional<Outbound> decode_outbound(std::span<const uint8_t> bytes, Flow& flow,
                                        std::string& error) {
  const auto ip = ip_of(bytes, error);
  if (!ip) return std::nullopt;
  if (ip->protocol != 6) {
    error = "not TCP (protocol " + std::to_string(ip->protocol) + ")";
    return std::nullopt;
  }
  auto tcp = wire::TcpPacket::parse(ip->payload, ip->src, ip->dst);
  if (!tcp) {
    error = "invalid TCP segment (bad checksum, offset or options)";
    return std::nullopt;
  }
  Outbound o;
  o.flags = tcp->flags();
  o.src = ip->src;
  o.dst = ip->dst;
  o.src_port = tcp->src_port();
  o.dst_port = tcp->dst_port();
  if ((o.flags & kSyn) && !flow.local_isn) flow.local_isn = tcp->seq().raw();
  const auto& opts = tcp->options();
  o.rel_seq = tcp->seq().raw() - flow.local_isn.value_or(0);
  o.len = static_cast<uint32_t>(tcp->payload().size());
  o.ack = tcp->ack().raw();
  o.win = tcp->window();
  o.urg = tcp->urgent_pointer();
  std::ostringstream s;
  s << "> " << flag_text(o.flags) << " " << o.rel_seq << ":" << o.rel_seq + o.len << "(" << o.len
    << ")";
  if (o.flags & kAck) s << " ack " << o.ack;
  s << " win " << o.win;
  if (o.flags & 0x20) s << " urg " << o.urg;
  s << options_text(opts, flow);
  if (o.src != flow.local_ip || o.dst != flow.remote_ip ||
      (flow.known && (o.src_port != flow.local_port || o.dst_port != flow.remote_port))) {
    s << "  [" << o.src.to_string() << ":" << o.src_port << " > " << o.dst.to_string() << ":"
      << o.dst_port << "]";
  }
  o.text = s.str();
  return o;
}

std::string match_outbound(const PacketSpec& want, const Outbound& got,
                           std::span<const uint8_t> bytes, const Flow& flow, uint32_t want_seq,
                           uint32_t want_len, bool final_piece) {
  std::vector<std::string> diffs;
  if (got.src != flow.local_ip || got.dst != flow.remote_ip) diffs.push_back("addresses");
  if (flow.known && (got.src_port != flow.local_port || got.dst_port != flow.remote_port)) {
    diffs.push_back("ports");
  }
  const uint8_t want_flags = final_piece ? want.flags : want.flags & ~(kPsh | kFin);
  const uint8_t got_flags = final_piece ? got.flags : got.flags & ~kPsh;
  if (got_flags != want_flags) diffs.push_back("flags");
  if (got.rel_seq != want_seq) diffs.push_back("seq");
  if (got.len != want_len) diffs.push_back("length");
  if (want.ack && got.ack != *want.ack) diffs.push_back("ack");
  if (want.win && got.win != *want.win) diffs.push_back("win");
  if (want.urg && got.urg != *want.urg) diffs.push_back("urg");
  if (!want.any_options) {
    const auto tcp = tcp_of(bytes);  // decode_outbound() accepted it
    const wire::TcpOptions& o = tcp->options();
    wire::TcpOptions w;
    bool want_ts = false;
    uint32_t want_ecr = 0;
    for (const TcpOptionSpec& s : want.options) {
      switch (s.kind) {
        case TcpOptionSpec::Kind::kMss:
          w.mss = static_cast<uint16_t>(s.a);
          break;
        case TcpOptionSpec::Kind::kWscale:
          w.window_scale = static_cast<uint8_t>(s.a);
          break;
        case TcpOptionSpec::Kind::kSackOk:
          w.sack_permitted = true;
          break;
        case TcpOptionSpec::Kind::kTimestamp:
          want_ts = true;
          want_ecr = s.b;
          break;
        case TcpOptionSpec::Kind::kSack:
          for (const auto& [l, r] : s.sacks) {
            if (w.sack_count < wire::kTcpMaxSackBlocks) {
              w.sack_blocks[w.sack_count++] = {wire::SeqNum(l), wire::SeqNum(r)};
            }
          }
          break;
        case TcpOptionSpec::Kind::kNop:
        case TcpOptionSpec::Kind::kEol:
          break;
      }
    }
    if (o.mss != w.mss) diffs.push_back("mss option");
    if (o.window_scale != w.window_scale) diffs.push_back("wscale option");
    if (o.sack_permitted != w.sack_permitted) diffs.push_back("sackOK option");
    if (o.timestamps.has_value() != want_ts) {
      diffs.push_back("TS option");
    } else if (want_ts && o.timestamps->tsecr != want_ecr) {
      diffs.push_back("TS ecr");
    }
    if (o.sack_count != w.sack_count ||
        !std::equal(o.sacks().begin(), o.sacks().end(), w.sacks().begin())) {
      diffs.push_back("sack blocks");
    }
  }
  std::string out;
  for (const auto& d : diffs) out += (out.empty() ? "" : ", ") + d;
  return out;
}

std::string describe_spec(const PacketSpec& p) {
  std::ostringstream s;
  s << p.direction << " ";
  if (p.icmp) {
    s << "icmp type " << int{p.icmp4 ? p.icmp_type : p.icmp6_type} << " code "
      << int{p.icmp4 ? p.icmp_code : p.icmp6_code} << " [" << p.seq << ":" << p.end_seq << "("
      << p.len << ")]";
    return s.str();
  }
  s << flag_text(p.flags) << " " << p.seq << ":" << p.end_seq << "(" << p.len << ")";
  if (p.ack) s << " ack " << *p.ack;
  if (p.win) s << " win " << *p.win;
  if (p.urg) s << " urg " << *p.urg;
  if (p.any_options) s << " <...>";
  return s.str();
}

}  // namespace utcp::drill
