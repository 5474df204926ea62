// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer target for IPv4 reassembly (src/ip/fragment_reassembler): fragments of four
// datagram keys with fuzz-chosen offsets, lengths, MF flags and clock jumps, through a small
// reassembler (4 trains, 2 per source, 16 KiB) so every limit, and eviction, is reachable.
// Checked after every fragment: memory and trains stay within their bounds, and a completed
// datagram is a valid IPv4 packet of the right key whose every payload byte was sent at that
// offset by a fragment of that key (each byte encodes key, offset and the fragment's salt),
// ending where a last fragment said. Each completed datagram is then split again by
// ip::Ipv4Fragmenter for a fuzz-chosen MTU, and those fragments must reassemble to it.
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
#include "wire/ipv4.hpp"

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
};

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ip::ReassemblyConfig cfg;
  cfg.max_trains = 4;
  cfg.max_trains_per_source = 2;  // three keys share a source
  cfg.max_bytes = 16 * 1024;
  cfg.timeout = std::chrono::seconds(30);
  ip::FragmentReassembler r(cfg);
  Instant now{};
  std::array<std::vector<Sent>, kKeys.size()> sent;  // every fragment ever sent, per key
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
  check(r.trains() == 0 && r.bytes_held() == 0);
  return 0;
}
