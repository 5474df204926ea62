// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer target for IP reassembly (src/ip/fragment_reassembler), both families: fragments
// of four datagram keys with fuzz-chosen offsets, lengths, MF flags and clock jumps, through a
// small reassembler per family (4 trains, 2 per source, 16 or 256 KiB) so every limit, and
// eviction, is reachable. IPv6 fragments also carry a fuzz-chosen Hop-by-Hop header (0 to 256
// bytes) before the Fragment header, so the first fragment's Per-Fragment headers may differ in
// length from those the train started with. Checked after every fragment: memory and trains
// stay within their bounds, and a completed datagram is a valid packet of the right key whose
// every payload byte was sent at that offset by a fragment of that key (each byte encodes key,
// offset and the fragment's salt), ending where a last fragment said; an IPv6 one has no
// Fragment header left and the first fragment's Hop-by-Hop header. Each completed datagram is
// then split again by ip::Ipv4Fragmenter / ip::Ipv6Fragmenter for a fuzz-chosen MTU, and
// those fragments must reassemble to it.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "fuzz_check.hpp"
#include "ip/fragment_reassembler.hpp"
#include "ip/ipv4_fragmenter.hpp"
#include "ip/ipv6_fragmenter.hpp"
#include "wire/endian.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/ipv6_ext.hpp"

namespace {

using namespace utcp;

struct Key {
  wire::Ipv4Addr src;
  uint8_t protocol;
  uint16_t id;
};
// Keys differ in one field each, so a train mixed up with another shows.
const std::array<Key, 4> kKeys = {{{wire::Ipv4Addr(10, 77, 0, 1), 6, 7},
                                   {wire::Ipv4Addr(10, 77, 0, 1), 6, 8},
                                   {wire::Ipv4Addr(10, 77, 0, 3), 6, 7},
                                   {wire::Ipv4Addr(10, 77, 0, 1), 17, 7}}};
const wire::Ipv4Addr kDst(10, 77, 0, 2);

uint8_t byte_at(size_t key, size_t pos, uint8_t salt) {
  return static_cast<uint8_t>(key * 61 + pos * 7 + (pos >> 8) * 13 + salt * 101);
}

struct Sent {
  size_t offset, len;
  uint8_t salt;
  bool more;
  size_t hbh = 0;  // IPv6: the Hop-by-Hop header's length in front of the Fragment header
};

// The IPv6 form of key k: the source's last byte from the IPv4 key, and the protocol folded
// into the identification (an IPv6 train is keyed without it, RFC 8200 §4.5).
wire::Ipv6Addr v6_src(size_t k) {
  return wire::Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, static_cast<uint16_t>(kKeys[k].src.value & 0xff));
}
uint32_t v6_id(size_t k) {
  return uint32_t{kKeys[k].protocol} << 16 | kKeys[k].id;
}
const wire::Ipv6Addr kDst6(0xfd77, 0, 0, 0, 0, 0, 0, 2);

class Input {
 public:
  explicit Input(std::span<const uint8_t> d) : d_(d) {}
  bool empty() const { return pos_ >= d_.size(); }
  uint8_t u8() { return pos_ < d_.size() ? d_[pos_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }

 private:
  std::span<const uint8_t> d_;
  size_t pos_ = 0;
};

// The payload byte at `pos` came from some fragment of this key that covered it.
bool explained(const std::vector<Sent>& sent, size_t key, size_t pos, uint8_t b) {
  for (const Sent& s : sent) {
    if (pos >= s.offset && pos < s.offset + s.len && b == byte_at(key, pos, s.salt)) return true;
  }
  return false;
}

// Splits `whole` (an IPv6 packet) for `mtu` and checks the fragments reassemble to it.
void ipv6_round_trip(const std::vector<uint8_t>& whole, size_t mtu, Instant now) {
  ip::Ipv6Fragmenter fragmenter(whole, mtu, 0x5a5a);
  check(fragmenter.ok());
  ip::FragmentReassembler again(ip::ReassemblyConfig{.max_bytes = 256 * 1024});
  std::vector<uint8_t> piece(mtu);
  ip::FragmentOutcome back{};
  size_t pieces = 0;
  while (!fragmenter.done()) {
    const size_t n = fragmenter.next(piece);
    check(n > 0 && n <= mtu);
    ++pieces;
    if (whole.size() <= mtu) {
      check(n == whole.size() && std::equal(whole.begin(), whole.end(), piece.begin()));
      continue;
    }
    auto p = wire::Ipv6Packet::parse(std::span<const uint8_t>(piece).first(n));
    check(p.ok());
    const auto walk = wire::walk_ipv6_ext(*p, std::array<uint8_t, 3>{6, 17, 58});
    check(walk.fragment.has_value() && !walk.fragment->is_atomic());
    back = again.add(*p, *walk.fragment, now);
    check(fragmenter.done() == (back.result == ip::FragmentResult::kComplete));
  }
  check(pieces == fragmenter.count());
  if (whole.size() > mtu) {
    check(std::equal(whole.begin(), whole.end(), back.datagram.begin(), back.datagram.end()));
  }
}

// One IPv6 fragment of key `key`, as the IPv4 path below builds one (the reassembler is fed
// the Fragment header as the input's extension-header walk would find it).
void ipv6_fragment(ip::FragmentReassembler& r, const ip::ReassemblyConfig& cfg,
                   std::vector<Sent>& sent, size_t key, bool more, size_t offset, size_t len,
                   uint8_t salt, size_t hbh, uint16_t mtu_pick, Instant now) {
  std::vector<uint8_t> pkt(wire::kIpv6HeaderLen + hbh + 8 + len, 0);
  if (hbh > 0) {
    pkt[40] = wire::ipv6_next::kFragment;
    pkt[41] = static_cast<uint8_t>(hbh / 8 - 1);  // Pad1 options fill the rest
  }
  wire::Ipv6FragmentHeader fh;
  fh.next_header = kKeys[key].protocol;
  fh.offset = static_cast<uint16_t>(offset);
  fh.more = more;
  fh.identification = v6_id(key);
  fh.header_offset = wire::kIpv6HeaderLen + hbh;
  check(fh.emit(std::span<uint8_t>(pkt).subspan(fh.header_offset)) == 8);
  for (size_t i = 0; i < len; ++i) pkt[fh.header_offset + 8 + i] = byte_at(key, offset + i, salt);
  wire::Ipv6Repr h;
  h.src = v6_src(key);
  h.dst = kDst6;
  h.next_header = hbh > 0 ? wire::ipv6_next::kHopByHop : wire::ipv6_next::kFragment;
  h.payload_len = static_cast<uint16_t>(pkt.size() - wire::kIpv6HeaderLen);
  check(h.emit(pkt) == wire::kIpv6HeaderLen);
  auto frag = wire::Ipv6Packet::parse(pkt);
  check(frag.ok());
  sent.push_back({offset, len, salt, more, hbh});

  const ip::FragmentOutcome out = r.add(*frag, fh, now);
  check(r.bytes_held() <= cfg.max_bytes);
  check(r.trains() <= cfg.max_trains);
  check(out.evicted <= cfg.max_trains);
  if (out.result != ip::FragmentResult::kComplete) {
    check(out.datagram.empty());
    return;
  }
  auto d = wire::Ipv6Packet::parse(out.datagram);
  check(d.ok());
  check(d->bytes().size() == out.datagram.size());
  check(d->src() == v6_src(key) && d->dst() == kDst6);
  // The first fragment's Hop-by-Hop header (if it had one), then the upper layer directly:
  // no Fragment header is left.
  const bool has_hbh = d->next_header() == wire::ipv6_next::kHopByHop;
  check(has_hbh || d->next_header() == kKeys[key].protocol);
  const size_t first_hbh = has_hbh ? (size_t{out.datagram[41]} + 1) * 8 : 0;
  if (has_hbh) check(out.datagram[40] == kKeys[key].protocol);
  bool first_sent = false;
  for (const Sent& s : sent) first_sent |= s.offset == 0 && s.hbh == first_hbh;
  check(first_sent);
  const size_t data_at = wire::kIpv6HeaderLen + first_hbh;
  check(data_at <= out.datagram.size());
  const auto payload = out.datagram.subspan(data_at);
  bool end_ok = false;
  for (const Sent& s : sent) end_ok |= !s.more && s.offset + s.len == payload.size();
  check(end_ok);
  for (size_t pos = 0; pos < payload.size(); ++pos) {
    check(explained(sent, key, pos, payload[pos]));
  }
  sent.clear();
  const std::vector<uint8_t> whole(out.datagram.begin(), out.datagram.end());
  ipv6_round_trip(whole, wire::kIpv6MinMtu + mtu_pick % 9000, now);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ip::ReassemblyConfig cfg;
  cfg.max_trains = 4;
  cfg.max_trains_per_source = 2;  // three keys share a source
  // The first byte (also the first operation's) picks the byte budget: 16 KiB reaches the
  // memory bound quickly, 256 KiB (the default) lets a train grow to a whole 64 KiB datagram.
  cfg.max_bytes = size > 0 && (data[0] & 128) ? 256 * 1024 : 16 * 1024;
  cfg.timeout = std::chrono::seconds(30);
  ip::FragmentReassembler r(cfg);
  ip::FragmentReassembler r6(cfg);
  Instant now{};
  std::array<std::vector<Sent>, kKeys.size()> sent;  // every fragment ever sent, per key
  std::array<std::vector<Sent>, kKeys.size()> sent6;
  std::vector<uint8_t> pkt;
  Input in(std::span<const uint8_t>(data, size));
  for (int ops = 0; !in.empty() && ops < 512; ++ops) {
    const uint8_t ctl = in.u8();
    const size_t key = ctl & 3;
    const bool more = ctl & 4;
    if (ctl & 8) now += Duration(int64_t{in.u8()} * 250'000);
    const size_t offset = size_t{in.u16() & 0x1fffu} * 8;
    size_t len = in.u16() % 4096;
    if (ctl & 16) len &= ~size_t{7};  // a well-formed middle fragment
    const uint8_t salt = in.u8();
    if (offset == 0 && !more) continue;  // not a fragment: the caller never passes one
    if (ctl & 32) {
      // IPv6 (bits 6-7: the Hop-by-Hop length). The input's walk admits only fragments whose
      // reassembled payload stays within 65,535 bytes (RFC 8200 §4.5): so does this.
      static constexpr std::array<size_t, 4> kHbh = {0, 8, 16, 256};
      const size_t hbh = kHbh[ctl >> 6];
      if (hbh + offset + len > 0xffff) continue;
      const uint16_t mtu_pick = in.u16();
      ipv6_fragment(r6, cfg, sent6[key], key, more, offset, len, salt, hbh, mtu_pick, now);
      continue;
    }
    if (wire::kIpv4HeaderMin + len > 0xffff) continue;

    wire::Ipv4Repr h;
    h.src = kKeys[key].src;
    h.dst = kDst;
    h.protocol = kKeys[key].protocol;
    h.identification = kKeys[key].id;
    h.df = false;
    h.mf = more;
    h.frag_offset = static_cast<uint16_t>(offset);
    h.payload_len = static_cast<uint16_t>(len);
    pkt.assign(h.total_len(), 0);
    check(h.emit(pkt) == wire::kIpv4HeaderMin);
    for (size_t i = 0; i < len; ++i) pkt[wire::kIpv4HeaderMin + i] = byte_at(key, offset + i, salt);
    auto frag = wire::Ipv4Packet::parse(pkt);
    check(frag.ok());
    sent[key].push_back({offset, len, salt, more});

    const ip::FragmentOutcome out = r.add(*frag, now);
    check(r.bytes_held() <= cfg.max_bytes);
    check(r.trains() <= cfg.max_trains);
    check(out.evicted <= cfg.max_trains);
    if (out.result != ip::FragmentResult::kComplete) {
      check(out.datagram.empty());
      continue;
    }
    auto d = wire::Ipv4Packet::parse(out.datagram);
    check(d.ok());
    check(d->bytes().size() == out.datagram.size());
    check(!d->is_fragment());
    check(d->src() == kKeys[key].src && d->dst() == kDst);
    check(d->protocol() == kKeys[key].protocol && d->identification() == kKeys[key].id);
    const auto payload = d->payload();
    // It ends where a last fragment of this key ended.
    bool end_ok = false;
    for (const Sent& s : sent[key]) end_ok |= !s.more && s.offset + s.len == payload.size();
    check(end_ok);
    for (size_t pos = 0; pos < payload.size(); ++pos) {
      check(explained(sent[key], key, pos, payload[pos]));
    }
    sent[key].clear();  // the next datagram of this key starts afresh

    // Output fragmentation round trip: split for an MTU of 68.., reassemble, compare.
    const std::vector<uint8_t> whole(out.datagram.begin(), out.datagram.end());
    const size_t mtu = ip::Ipv4Fragmenter::kMinMtu + in.u16() % 9000;
    ip::Ipv4Fragmenter fragmenter(whole, mtu);
    check(fragmenter.ok());
    ip::FragmentReassembler again(ip::ReassemblyConfig{.max_bytes = 128 * 1024});
    std::vector<uint8_t> piece(mtu);
    ip::FragmentOutcome back{};
    size_t pieces = 0;
    while (!fragmenter.done()) {
      const size_t n = fragmenter.next(piece);
      check(n > 0 && n <= mtu);
      ++pieces;
      auto p = wire::Ipv4Packet::parse(std::span<const uint8_t>(piece).first(n));
      check(p.ok());
      if (whole.size() <= mtu) {  // fits: one packet, the datagram itself
        check(std::equal(whole.begin(), whole.end(), piece.begin()));
        back.result = ip::FragmentResult::kComplete;
        continue;
      }
      back = again.add(*p, now);
      check(fragmenter.done() == (back.result == ip::FragmentResult::kComplete));
    }
    check(pieces == fragmenter.count());
    check(back.result == ip::FragmentResult::kComplete);
    if (whole.size() > mtu) {
      check(std::equal(whole.begin(), whole.end(), back.datagram.begin(), back.datagram.end()));
    }
  }
  // Everything is released by the timeout.
  now += cfg.timeout;
  r.expire(now);
  r6.expire(now);
  check(r.trains() == 0 && r.bytes_held() == 0);
  check(r6.trains() == 0 && r6.bytes_held() == 0);
  return 0;
}
