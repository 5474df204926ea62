// libFuzzer target for the wire layer: IPv4, then TCP or ICMP, every accessor, and an
// emit -> parse round trip of every valid TCP segment and ICMP message. Checksums would
// hide most of the parsers from random bytes, so TCP is also parsed with checksum
// verification off, and the raw input is fed to the options parser directly.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "wire/checksum.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/packet_format.hpp"
#include "wire/tcp.hpp"

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

void fuzz_tcp(std::span<const uint8_t> seg, Ipv4Addr src, Ipv4Addr dst, bool verify) {
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
  (void)format_tcp(*p, src, dst);

  // Emit the repr and parse it back: it must succeed and carry the same fields, except
  // SACK blocks that do not fit next to the other options in Linux's layout.
  const TcpRepr r = p->repr();
  (void)format_tcp(r, src, dst);
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
  } else if (ip->protocol() == ip_proto::kIcmp) {
    fuzz_icmp(ip->payload());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  fuzz_ipv4(in);
  // Past the checksums: the same bytes as a bare TCP segment, options area and ICMP message.
  fuzz_tcp(in, Ipv4Addr(10, 77, 0, 1), Ipv4Addr(10, 77, 0, 2), false);
  (void)parse_tcp_options(in);
  fuzz_icmp(in);
  return 0;
}
