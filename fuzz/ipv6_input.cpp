// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer target for IPv6 input (src/ip/ipv6_input): hostile packets through Ipv6Input on a
// virtual clock, with a small reassembly table (4 trains, 2 per source, 16 or 256 KiB) so
// every bound and eviction is reachable. The input is read as operations: raw packets (optionally
// given a valid version, payload length and our address, so they get past the first checks),
// fragments of four trains with fuzz-chosen offsets, lengths, flags, Next Header and a
// Per-Fragment header, ICMPv6 messages with a correct checksum, and clock jumps that expire
// trains (answering with Time Exceeded). Checked after every operation: memory and trains stay
// within bounds; a delivered payload lies inside its datagram, which parses and is for us; an
// answer parses, has a valid ICMPv6 checksum, comes from our address, and an error fits 1280
// bytes (RFC 4443 §2.4(c)); an ICMP error handed up quotes one of our addresses. A delivered
// datagram or echo reply larger than 1280 bytes is split by Ipv6Fragmenter and must reassemble
// to itself. At the end time runs on: every train is released (no leak).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_check.hpp"
#include "ip/fragment_reassembler.hpp"
#include "ip/ipv6_fragmenter.hpp"
#include "ip/ipv6_input.hpp"
#include "wire/checksum.hpp"
#include "wire/endian.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv6.hpp"
#include "wire/ipv6_ext.hpp"

namespace {

using namespace utcp;

const wire::Ipv6Addr kLocal(0xfd77, 0, 0, 0, 0, 0, 0, 2);
const wire::Ipv6Addr kAllNodes(0xff02, 0, 0, 0, 0, 0, 0, 1);
const std::array<wire::Ipv6Addr, 2> kSources = {wire::Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 1),
                                                wire::Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 9)};

class Input {
 public:
  explicit Input(std::span<const uint8_t> d) : d_(d) {}
  bool empty() const { return pos_ >= d_.size(); }
  uint8_t u8() { return pos_ < d_.size() ? d_[pos_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }
  uint32_t u32() { return uint32_t{u16()} << 16 | u16(); }
  // n bytes of the input (a pattern once it runs out).
  void take(uint8_t* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = pos_ < d_.size() ? d_[pos_++] : static_cast<uint8_t>(i);
  }

 private:
  std::span<const uint8_t> d_;
  size_t pos_ = 0;
};

void put_header(std::vector<uint8_t>& p, const wire::Ipv6Addr& src, const wire::Ipv6Addr& dst,
                uint8_t next) {
  wire::Ipv6Repr h;
  h.src = src;
  h.dst = dst;
  h.next_header = next;
  h.payload_len = static_cast<uint16_t>(p.size() - wire::kIpv6HeaderLen);
  check(h.emit(p) == wire::kIpv6HeaderLen);
}

// A whole packet that reached the upper layer (or an answer) splits and reassembles to itself.
void check_fragment_round_trip(std::span<const uint8_t> packet, size_t mtu) {
  const std::vector<uint8_t> whole(packet.begin(), packet.end());
  ip::Ipv6Fragmenter f(whole, mtu, 0x1234);
  if (!f.ok()) return;  // e.g. it carries an atomic Fragment header: not split again
  ip::FragmentReassembler again(ip::ReassemblyConfig{.max_bytes = 256 * 1024});
  std::vector<uint8_t> piece(mtu);
  size_t pieces = 0;
  ip::FragmentOutcome back{};
  while (!f.done()) {
    const size_t n = f.next(piece);
    check(n > 0 && n <= mtu);
    ++pieces;
    if (whole.size() <= mtu) {
      check(std::equal(whole.begin(), whole.end(), piece.begin()));
      return;
    }
    auto p = wire::Ipv6Packet::parse(std::span<const uint8_t>(piece).first(n));
    check(p.ok());
    const auto walk = wire::walk_ipv6_ext(*p);
    check(walk.fragment.has_value() && !walk.fragment->is_atomic());
    back = again.add(*p, *walk.fragment, Instant{});
    check(f.done() == (back.result == ip::FragmentResult::kComplete));
  }
  check(pieces == f.count());
  check(std::equal(whole.begin(), whole.end(), back.datagram.begin(), back.datagram.end()));
}

void check_answer(std::span<const uint8_t> reply, size_t buf_size) {
  check(!reply.empty() && reply.size() <= buf_size);
  auto ip = wire::Ipv6Packet::parse(reply);
  check(ip.ok());
  check(ip->bytes().size() == reply.size());
  check(ip->src() == kLocal);
  check(ip->next_header() == wire::ipv6_next::kIcmpv6);
  auto icmp = wire::Icmpv6Packet::parse(ip->payload(), ip->src(), ip->dst());
  check(icmp.ok());
  if (icmp->is_error()) {
    check(reply.size() <= wire::kIpv6MinMtu);  // RFC 4443 §2.4(c)
    check(!ip->dst().is_multicast() && !ip->dst().is_unspecified());
  } else {
    check(icmp->type() == wire::icmpv6_type::kEchoReply);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ip::Ipv6InputConfig cfg;
  cfg.local_addresses = {kLocal};
  cfg.reassembly.max_trains = 4;
  cfg.reassembly.max_trains_per_source = 2;
  // The first byte picks the byte budget: 16 KiB reaches the memory bound quickly, the default
  // 256 KiB lets one train grow to a whole 65,535-byte datagram.
  cfg.reassembly.max_bytes = size > 0 && (data[0] & 1) ? 256 * 1024 : 16 * 1024;
  cfg.icmp_errors_per_second = 1000;
  cfg.icmp_error_burst = 1000;
  ip::Ipv6Output output;
  ip::Ipv6Input input(cfg, output);
  Instant now{};
  std::vector<uint8_t> pkt;
  std::vector<uint8_t> reply_buf(4096);
  std::vector<uint8_t> expire_buf(1500);
  Input in(std::span<const uint8_t>(data, size));

  for (int ops = 0; !in.empty() && ops < 256; ++ops) {
    const uint8_t op = in.u8();
    switch (op & 3) {
      case 0: {  // a raw packet, optionally made plausible
        const uint8_t fix = in.u8();
        pkt.assign(in.u16() % 3000, 0);
        in.take(pkt.data(), pkt.size());
        if (pkt.size() >= wire::kIpv6HeaderLen) {
          if (fix & 1) pkt[0] = static_cast<uint8_t>(0x60 | (pkt[0] & 0x0f));
          if (fix & 2) wire::store_be16(pkt.data() + 4, static_cast<uint16_t>(pkt.size() - 40));
          if (fix & 4) std::copy(kLocal.bytes.begin(), kLocal.bytes.end(), pkt.begin() + 24);
          if (fix & 8) std::copy(kAllNodes.bytes.begin(), kAllNodes.bytes.end(), pkt.begin() + 24);
          const auto& src = kSources[(fix >> 4) & 1];
          if (fix & 32) std::copy(src.bytes.begin(), src.bytes.end(), pkt.begin() + 8);
        }
        break;
      }
      case 1: {  // a fragment of one of four trains
        const size_t key = (op >> 2) & 3;
        const uint8_t flags = in.u8();
        const uint8_t next = in.u8();
        const size_t offset = size_t{in.u16() & 0x1fffu} * 8;
        size_t len = in.u16() % 3000;
        if (flags & 2) len &= ~size_t{7};
        // A Hop-by-Hop header of 8 to 1992 bytes (Pad1 options), so a first fragment can bring
        // longer Per-Fragment headers than the train's other fragments.
        const bool hbh = flags & 4;
        const size_t hbh_len = 8 * (1 + size_t{(flags >> 3) & 31u} * 8);
        const size_t head = wire::kIpv6HeaderLen + (hbh ? hbh_len : 0);
        pkt.assign(head + 8 + len, 0);
        if (hbh) {
          pkt[40] = wire::ipv6_next::kFragment;
          pkt[41] = static_cast<uint8_t>(hbh_len / 8 - 1);
        }
        wire::Ipv6FragmentHeader fh;
        fh.next_header = next;
        fh.offset = static_cast<uint16_t>(offset);
        fh.more = flags & 1;
        fh.identification = static_cast<uint32_t>(key & 1) * 0x10001;
        check(fh.emit(std::span<uint8_t>(pkt).subspan(head)) == 8);
        in.take(pkt.data() + head + 8, len);
        put_header(pkt, kSources[key >> 1], kLocal,
                   hbh ? wire::ipv6_next::kHopByHop : wire::ipv6_next::kFragment);
        break;
      }
      case 2: {  // time passes; trains expire (Time Exceeded for those with a first fragment)
        now += Duration(int64_t{in.u8()} * 500'000);
        input.expire(now, expire_buf,
                     [&](std::span<const uint8_t> r) { check_answer(r, expire_buf.size()); });
        check(input.next_deadline() > now);
        continue;
      }
      default: {  // an ICMPv6 message with a valid checksum
        wire::Icmpv6Repr m;
        m.type = in.u8();
        m.code = in.u8();
        const uint32_t rest = in.u32();
        m.identifier = static_cast<uint16_t>(rest >> 16);
        m.sequence = static_cast<uint16_t>(rest);
        m.mtu = m.pointer = rest;
        std::vector<uint8_t> body(in.u16() % 2000);
        in.take(body.data(), body.size());
        m.data = body;
        const auto& src = kSources[(op >> 2) & 1];
        const auto& dst = (op & 16) ? kAllNodes : kLocal;
        pkt.assign(wire::kIpv6HeaderLen + m.total_len(), 0);
        check(m.emit(std::span<uint8_t>(pkt).subspan(wire::kIpv6HeaderLen), src, dst) ==
              m.total_len());
        put_header(pkt, src, dst, wire::ipv6_next::kIcmpv6);
        break;
      }
    }

    const ip::Ipv6InputResult r = input.input(pkt, now, reply_buf);
    const auto& reasm = input.reassembler();
    check(reasm.bytes_held() <= cfg.reassembly.max_bytes);
    check(reasm.trains() <= cfg.reassembly.max_trains);
    switch (r.action) {
      case ip::InputAction::kTcp:
      case ip::InputAction::kUdp: {
        auto d = wire::Ipv6Packet::parse(r.datagram);
        check(d.ok() && d->bytes().size() == r.datagram.size());
        check(input.is_local(d->dst()) && d->dst() == r.dst && d->src() == r.src);
        check(r.payload.data() >= r.datagram.data() &&
              r.payload.data() + r.payload.size() == r.datagram.data() + r.datagram.size());
        if (r.datagram.size() > wire::kIpv6MinMtu) {
          check_fragment_round_trip(r.datagram, wire::kIpv6MinMtu + (op >> 4) * 64);
        }
        break;
      }
      case ip::InputAction::kReply:
        check_answer(r.reply, reply_buf.size());
        if (r.reply.size() > wire::kIpv6MinMtu) check_fragment_round_trip(r.reply, 1280);
        break;
      case ip::InputAction::kIcmpError:
      case ip::InputAction::kUdpIcmpError:  // about a TCP segment or a UDP datagram of ours
        check(r.icmp_error->is_v6() && input.is_local(r.icmp_error->local_addr.v6()));
        check(r.icmp_error->kind != ip::IcmpErrorKind::kPathMtu ||
              r.icmp_error->next_hop_mtu >= wire::kIpv6MinMtu);
        break;
      case ip::InputAction::kDrop:
      case ip::InputAction::kHeld:
      case ip::InputAction::kConsumed:
        check(r.reply.empty() && r.payload.empty());
        break;
    }
  }
  // Everything is released by the timeout.
  now += cfg.reassembly.timeout;
  input.expire(now);
  check(input.reassembler().trains() == 0 && input.reassembler().bytes_held() == 0);
  return 0;
}
