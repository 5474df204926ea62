// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer target for the wire layer: IPv4, then TCP, UDP or ICMP; IPv6, its extension-header
// walk, then TCP, UDP or ICMPv6; every accessor, and an emit -> parse round trip of every valid
// header, TCP segment, UDP datagram and ICMP/ICMPv6 message. Checksums would
// hide most of the parsers from random bytes, so TCP is also parsed with checksum
// verification off, and the raw input is fed to the options parser directly.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <type_traits>
#include <vector>

#include "wire/checksum.hpp"
#include "wire/icmp.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/ipv6_ext.hpp"
#include "wire/packet_format.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"

namespace {

using namespace utcp::wire;

void check(bool ok) {
  if (!ok) std::abort();
}

// Reads every byte a span covers, so ASan sees any out-of-bounds view.
uint32_t touch(std::span<const uint8_t> s) {
  uint32_t acc = 0;
  for (uint8_t b : s) acc += b;
  return acc;
}

// Over either family: Addr is Ipv4Addr (the IPv4 overloads) or IpAddr.
template <class Addr>
void fuzz_tcp(std::span<const uint8_t> seg, const Addr& src, const Addr& dst, bool verify) {
  auto p = TcpPacket::parse(seg, src, dst, verify);
  if (!p) return;
  volatile uint32_t sink = 0;
  sink = sink + p->src_port() + p->dst_port() + p->seq().raw() + p->ack().raw() + p->data_offset() +
         p->flags() + p->window() + p->checksum() + p->urgent_pointer() + p->fin() + p->syn() +
         p->rst() + p->psh() + p->ack_flag() + p->urg() + p->ece() + p->cwr() +
         touch(p->options_bytes()) + touch(p->payload()) + touch(p->bytes());
  check(p->header_len() + p->payload().size() == seg.size());
  // The options area decodes the same way on its own.
  auto again = parse_tcp_options(p->options_bytes());
  check(again.ok() && *again == p->options());
  if constexpr (std::is_same_v<Addr, Ipv4Addr>) (void)format_tcp(*p, src, dst);

  // Emit the repr and parse it back: it must succeed and carry the same fields, except
  // SACK blocks that do not fit next to the other options in Linux's layout.
  const TcpRepr r = p->repr();
  if constexpr (std::is_same_v<Addr, Ipv4Addr>) (void)format_tcp(r, src, dst);
  std::vector<uint8_t> out(r.total_len());
  const size_t n = r.emit(out, src, dst);
  if (r.total_len() > 0xffff) {
    check(n == 0);
    return;
  }
  check(n == r.total_len());
  auto back = TcpPacket::parse(out, src, dst);
  check(back.ok());
  const TcpRepr b = back->repr();
  TcpOptions want = r.options;
  want.sack_count = static_cast<uint8_t>(r.options.emitted_sack_count());
  for (size_t i = want.sack_count; i < kTcpMaxSackBlocks; ++i) want.sack_blocks[i] = {};
  check(b.src_port == r.src_port && b.dst_port == r.dst_port && b.seq == r.seq && b.ack == r.ack &&
        b.flags == r.flags && b.window == r.window && b.urgent == r.urgent);
  check(b.options == want);
  check(b.payload.size() == r.payload.size() &&
        std::equal(b.payload.begin(), b.payload.end(), r.payload.begin()));
}

// UDP over either family: the view stays inside the input, is Length bytes, and re-emits
// (with a fresh checksum) to a datagram that parses to the same ports and payload.
void fuzz_udp(std::span<const uint8_t> in, const IpAddr& src, const IpAddr& dst, bool verify) {
  auto p = UdpPacket::parse(in, src, dst, verify);
  if (!p) return;
  volatile uint32_t sink = 0;
  sink = sink + p->src_port() + p->dst_port() + p->length() + p->checksum() + p->has_checksum() +
         touch(p->payload()) + touch(p->bytes());
  check(p->bytes().size() == p->length() && p->length() <= in.size());
  check(p->bytes().size() == kUdpHeaderLen + p->payload().size());
  check(src.is_v4() || p->has_checksum());  // RFC 8200 §8.1
  const UdpRepr r = p->repr();
  std::vector<uint8_t> out(r.total_len());
  check(r.emit(out, src, dst) == out.size());
  auto back = UdpPacket::parse(out, src, dst);
  check(back.ok() && back->src_port() == p->src_port() && back->dst_port() == p->dst_port() &&
        back->checksum() != 0 &&
        std::equal(back->payload().begin(), back->payload().end(), p->payload().begin(),
                   p->payload().end()));
}

void fuzz_icmp(std::span<const uint8_t> msg) {
  auto p = IcmpPacket::parse(msg);
  if (!p) return;
  volatile uint32_t sink = 0;
  sink = sink + p->type() + p->code() + p->checksum() + p->rest_of_header() + p->identifier() +
         p->sequence() + p->next_hop_mtu() + touch(p->data()) + touch(p->bytes());
  if (auto q = p->quote()) {
    check(p->is_error());
    sink = sink + q->ip.version() + q->ip.header_len() + q->ip.total_len() + q->ip.protocol() +
           q->ip.src().value + q->ip.dst().value + touch(q->ip.options()) + touch(q->transport);
    if (q->has_ports()) sink = sink + q->src_port() + q->dst_port();
    if (q->has_tcp_seq()) sink = sink + q->tcp_seq().raw();
  }
  const IcmpRepr r = p->repr();
  std::vector<uint8_t> out(r.total_len());
  check(r.emit(out) == out.size());
  auto back = IcmpPacket::parse(out);
  check(back.ok() && back->type() == p->type() && back->code() == p->code() &&
        back->data().size() == p->data().size());
  if (p->type() == icmp_type::kEchoRequest || p->type() == icmp_type::kEchoReply) {
    check(back->identifier() == p->identifier() && back->sequence() == p->sequence());
  }
}

void fuzz_ipv4(std::span<const uint8_t> in) {
  (void)format_ipv4_packet(in);
  auto ip = Ipv4Packet::parse(in);
  if (!ip) {
    (void)Ipv4Packet::parse_quoted(in);
    return;
  }
  volatile uint32_t sink = 0;
  sink = sink + ip->version() + ip->ihl() + ip->dscp() + ip->ecn() + ip->total_len() +
         ip->identification() + ip->df() + ip->mf() + ip->frag_offset() + ip->ttl() +
         ip->protocol() + ip->checksum() + ip->src().value + ip->dst().value +
         touch(ip->options()) + touch(ip->header()) + touch(ip->payload());
  check(ip->bytes().size() == ip->total_len());
  check(checksum_ok(ip->header()));

  // The repr re-emits a valid header that parses to the same repr.
  const Ipv4Repr r = ip->repr();
  std::vector<uint8_t> out(r.total_len());
  check(r.emit(out) == kIpv4HeaderMin);
  std::copy(ip->payload().begin(), ip->payload().end(), out.begin() + kIpv4HeaderMin);
  auto back = Ipv4Packet::parse(out);
  check(back.ok() && back->repr() == r);

  if (ip->protocol() == ip_proto::kTcp) {
    fuzz_tcp(ip->payload(), ip->src(), ip->dst(), true);
    fuzz_tcp(ip->payload(), ip->src(), ip->dst(), false);
  } else if (ip->protocol() == ip_proto::kUdp) {
    fuzz_udp(ip->payload(), ip->src(), ip->dst(), true);
    fuzz_udp(ip->payload(), ip->src(), ip->dst(), false);
  } else if (ip->protocol() == ip_proto::kIcmp) {
    fuzz_icmp(ip->payload());
  }
}

void fuzz_icmpv6(std::span<const uint8_t> msg, const Ipv6Addr& src, const Ipv6Addr& dst,
                 bool verify) {
  auto p = Icmpv6Packet::parse(msg, src, dst, verify);
  if (!p) return;
  volatile uint32_t sink = 0;
  sink = sink + p->type() + p->code() + p->checksum() + p->rest_of_header() + p->identifier() +
         p->sequence() + p->mtu() + p->pointer() + touch(p->data()) + touch(p->invoking());
  check(p->invoking().empty() || p->is_error());
  if (auto q = p->quote()) {
    check(p->is_error());
    sink = sink + q->ip.version() + q->ip.payload_len() + q->ip.next_header() + q->ip.flow_label() +
           touch(q->ip.bytes()) + touch(q->bytes) + touch(q->upper);
    check(q->ip.bytes().size() <= q->bytes.size());
    check(q->has_upper || q->upper.empty());
  }
  // Emit and parse back: the same fields, the data cut to kIcmpv6MaxQuote for errors
  // (RFC 4443 §2.4(c)).
  const Icmpv6Repr r = p->repr();
  std::vector<uint8_t> out(r.total_len());
  check(r.emit(out, src, dst) == out.size());
  check(!r.is_error() || out.size() <= kIpv6MinMtu - kIpv6HeaderLen);
  auto back = Icmpv6Packet::parse(out, src, dst);
  check(back.ok() && back->type() == p->type() && back->code() == p->code() &&
        back->rest_of_header() == p->repr().rest_of_header() &&
        back->data().size() == r.data_len() &&
        std::equal(back->data().begin(), back->data().end(), p->data().begin()));
}

void fuzz_ipv6(std::span<const uint8_t> in) {
  auto ip = Ipv6Packet::parse(in);
  if (!ip) {
    if (auto q = Ipv6Packet::parse_quoted(in)) (void)walk_ipv6_ext(*q);
    return;
  }
  volatile uint32_t sink = 0;
  sink = sink + ip->version() + ip->traffic_class() + ip->dscp() + ip->ecn() + ip->flow_label() +
         ip->payload_len() + ip->next_header() + ip->hop_limit() + ip->src().bytes[15] +
         ip->dst().bytes[0] + touch(ip->header()) + touch(ip->payload());
  check(ip->bytes().size() == kIpv6HeaderLen + ip->payload_len());

  // The repr re-emits a header that parses to the same repr.
  const Ipv6Repr r = ip->repr();
  std::vector<uint8_t> out(r.total_len());
  check(r.emit(out) == kIpv6HeaderLen);
  std::copy(ip->payload().begin(), ip->payload().end(), out.begin() + kIpv6HeaderLen);
  auto back = Ipv6Packet::parse(out);
  check(back.ok() && back->repr() == r);
  check(std::equal(out.begin(), out.end(), ip->bytes().begin()));

  // The walk stays inside the packet and is bounded.
  const Ipv6ExtWalk w = walk_ipv6_ext(*ip);
  check(w.headers <= kIpv6MaxExtHeaders);
  check(w.next_header_offset < w.upper_offset || w.upper_offset == kIpv6HeaderLen);
  check(w.upper_offset <= ip->bytes().size() || !w.accepted());
  if (w.verdict == Ipv6ExtVerdict::kParameterProblem) check(w.problem_pointer < in.size());
  if (w.fragment) {
    check(w.fragment->header_offset + 8 <= ip->bytes().size());
    std::vector<uint8_t> frag(8);
    check(w.fragment->emit(frag) == 8);
    check(std::equal(frag.begin() + 2, frag.end(),
                     ip->bytes().begin() + static_cast<long>(w.fragment->header_offset) + 2) ||
          (ip->bytes()[w.fragment->header_offset + 3] & 0x06) != 0);  // reserved bits set
  }
  if (!w.accepted() || (w.fragment && !w.fragment->is_atomic())) return;
  const auto upper = ip->bytes().subspan(w.upper_offset);
  if (w.upper_protocol == ipv6_next::kTcp) {
    fuzz_tcp(upper, IpAddr(ip->src()), IpAddr(ip->dst()), true);
    fuzz_tcp(upper, IpAddr(ip->src()), IpAddr(ip->dst()), false);
  } else if (w.upper_protocol == ipv6_next::kUdp) {
    fuzz_udp(upper, IpAddr(ip->src()), IpAddr(ip->dst()), true);
    fuzz_udp(upper, IpAddr(ip->src()), IpAddr(ip->dst()), false);
  } else if (w.upper_protocol == ipv6_next::kIcmpv6) {
    fuzz_icmpv6(upper, ip->src(), ip->dst(), true);
    fuzz_icmpv6(upper, ip->src(), ip->dst(), false);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  fuzz_ipv4(in);
  fuzz_ipv6(in);
  // Past the checksums: the same bytes as a bare TCP segment, options area, ICMP message and
  // UDP datagram.
  fuzz_tcp(in, Ipv4Addr(10, 77, 0, 1), Ipv4Addr(10, 77, 0, 2), false);
  (void)parse_tcp_options(in);
  fuzz_icmp(in);
  const Ipv6Addr a(0xfd77, 0, 0, 0, 0, 0, 0, 1), b(0xfd77, 0, 0, 0, 0, 0, 0, 2);
  fuzz_icmpv6(in, a, b, false);
  fuzz_tcp(in, IpAddr(a), IpAddr(b), false);
  fuzz_udp(in, Ipv4Addr(10, 77, 0, 1), Ipv4Addr(10, 77, 0, 2), false);
  fuzz_udp(in, IpAddr(a), IpAddr(b), false);
  return 0;
}
