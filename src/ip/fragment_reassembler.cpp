// SPDX-License-Identifier: BSD-2-Clause
#include "ip/fragment_reassembler.hpp"

#include <algorithm>
#include <cstring>

#include "wire/checksum.hpp"
#include "wire/endian.hpp"

namespace utcp::ip {

FragmentReassembler::FragmentReassembler(const ReassemblyConfig& config) : config_(config) {}

size_t FragmentReassembler::trains() const {
  return static_cast<size_t>(
      std::count_if(trains_.begin(), trains_.end(), [](const Train& t) { return t.in_use; }));
}

FragmentReassembler::Train* FragmentReassembler::find(const Key& k) {
  for (Train& t : trains_) {
    if (t.in_use && t.key == k) return &t;
  }
  return nullptr;
}

// The train started first (they share one timeout, so the soonest to expire), optionally
// among one source's trains; `except` is never chosen.
FragmentReassembler::Train* FragmentReassembler::oldest(const Train* except,
                                                        const IpAddr* of_source) {
  Train* best = nullptr;
  for (Train& t : trains_) {
    if (!t.in_use || &t == except || (of_source != nullptr && !(t.key.src == *of_source))) {
      continue;
    }
    if (best == nullptr || t.expires < best->expires) best = &t;
  }
  return best;
}

void FragmentReassembler::evict(Train& t) {
  release(t);
  t.in_use = false;
}

FragmentReassembler::Train* FragmentReassembler::start(const Piece& p, Instant now,
                                                       uint32_t& evicted) {
  // A source at its bound makes room among its own trains, so one sender cannot push out
  // everyone else's; a full table evicts the oldest train of all (Linux does the same when
  // its fragment memory is exhausted). Dropping the oldest rather than refusing the new one
  // bounds how long a flood of never-completed trains can shut out legitimate datagrams.
  // The table (max_trains entries of about 1.1 KiB) is made at the first fragment: most stacks
  // never see one, and each Stack has two reassemblers.
  if (trains_.empty()) trains_.resize(config_.max_trains);
  const IpAddr src = p.key.src;
  size_t from_source = 0;
  for (const Train& t : trains_) from_source += t.in_use && t.key.src == src ? 1 : 0;
  if (config_.max_trains_per_source > 0 && from_source >= config_.max_trains_per_source) {
    if (Train* victim = oldest(nullptr, &src)) {
      evict(*victim);
      ++evicted;
    }
  }
  Train* slot = nullptr;
  for (Train& t : trains_) {
    if (!t.in_use) {
      slot = &t;
      break;
    }
  }
  if (slot == nullptr) {
    slot = oldest(nullptr, nullptr);
    if (slot == nullptr) return nullptr;  // max_trains == 0
    evict(*slot);
    ++evicted;
  }
  Train& t = *slot;
  t.in_use = true;
  t.dead = t.have_first = t.have_last = false;
  t.key = p.key;
  // RFC 1122 §3.3.2, RFC 8200 §4.5: a fixed reassembly timeout, from the first-arriving
  // fragment.
  t.expires = now + config_.timeout;
  t.slot = p.header.size();
  t.first_len = t.received = t.max_end = t.total = 0;
  t.received_blocks.fill(0);
  return &t;
}

void FragmentReassembler::release(Train& t) {
  held_bytes_ -= t.buf.capacity();
  std::vector<uint8_t>().swap(t.buf);
}

FragmentResult FragmentReassembler::kill(Train& t, FragmentResult why) {
  release(t);
  t.dead = true;
  return why;
}

bool FragmentReassembler::reserve(Train& t, size_t need, size_t max_total) {
  if (t.buf.size() >= need) return true;
  if (t.buf.capacity() < need) {
    const size_t have = t.buf.capacity();
    // need <= max_total (checked by add_piece), so want never falls short of it.
    size_t want = std::max(need, std::min(max_total, std::max(2 * have, size_t{2048})));
    if (!fits(t, want)) want = need;
    if (!fits(t, want)) return false;
    t.buf.reserve(want);
    held_bytes_ += t.buf.capacity() - have;
  }
  t.buf.resize(need);
  return true;
}

bool FragmentReassembler::fits(const Train& t, size_t want) const {
  return held_bytes_ - t.buf.capacity() + want <= config_.max_bytes;
}

// The first fragment's headers differ in length from the slot the train was started with
// (an IPv6 sender's Per-Fragment headers may vary): the data received so far moves.
bool FragmentReassembler::resize_slot(Train& t, size_t slot, size_t max_total) {
  if (slot == t.slot) return true;
  const size_t data = t.max_end;
  if (slot > t.slot && !reserve(t, slot + data, max_total)) return false;
  if (data > 0) std::memmove(t.buf.data() + slot, t.buf.data() + t.slot, data);
  t.buf.resize(slot + data);
  t.slot = slot;
  return true;
}

bool FragmentReassembler::any_block(const Train& t, size_t first, size_t last) {
  for (size_t b = first; b < last; ++b) {
    if (t.received_blocks[b / 64] & (uint64_t{1} << (b % 64))) return true;
  }
  return false;
}

void FragmentReassembler::mark_blocks(Train& t, size_t first, size_t last) {
  for (size_t b = first; b < last; ++b) t.received_blocks[b / 64] |= uint64_t{1} << (b % 64);
}

FragmentOutcome FragmentReassembler::add_piece(const Piece& p, Instant now, size_t& slot_out) {
  expire(now);
  const size_t offset = p.offset;
  const size_t end = offset + p.data.size();

  Train* t = find(p.key);
  if (t != nullptr && t->dead) return {FragmentResult::kDeadTrain, {}};

  // RFC 791 §3.2, RFC 8200 §4.5: every fragment but the last carries a non-empty multiple
  // of 8 bytes.
  if (p.more && (p.data.empty() || p.data.size() % 8 != 0)) return {FragmentResult::kMalformed, {}};

  uint32_t evicted = 0;
  if (t == nullptr) {
    t = start(p, now, evicted);
    if (t == nullptr) return {FragmentResult::kTooManyTrains, {}, evicted};
  }
  // RFC 791 §3.1, RFC 8200 §4.5: a datagram has at most 65535 bytes (of payload, for IPv6);
  // a train claiming more is an attack.
  // The first fragment may bring longer headers than the train was started with: checked
  // against all the data held, not only this fragment's.
  const size_t slot = offset == 0 ? p.header.size() : t->slot;
  if (slot + std::max(end, t->max_end) > p.max_total || end >= 8 * kBlocks) {
    return {kill(*t, FragmentResult::kOversize), {}, evicted};
  }

  const size_t first_block = offset / 8;
  const size_t last_block = (end + 7) / 8;
  if (any_block(*t, first_block, last_block)) {
    return {kill(*t, FragmentResult::kOverlap), {}, evicted};
  }
  if (t->have_last && end > t->total) return {kill(*t, FragmentResult::kMalformed), {}, evicted};
  if (!p.more && (t->have_last || t->max_end > end)) {
    return {kill(*t, FragmentResult::kMalformed), {}, evicted};
  }

  // The byte budget, like the table, gives way to the newer train: older ones are evicted
  // until this fragment fits (a train that alone exceeds the budget is still dropped).
  const size_t need = slot + std::max(end, t->max_end);
  while (t->buf.size() < need && !fits(*t, need)) {
    Train* victim = oldest(t, nullptr);
    if (victim == nullptr) break;
    evict(*victim);
    ++evicted;
  }
  if (!resize_slot(*t, slot, p.max_total) || !reserve(*t, need, p.max_total)) {
    return {kill(*t, FragmentResult::kNoMemory), {}, evicted};
  }
  if (!p.data.empty()) std::memcpy(t->buf.data() + slot + offset, p.data.data(), p.data.size());
  mark_blocks(*t, first_block, last_block);
  t->received += p.data.size();
  t->max_end = std::max(t->max_end, end);
  if (offset == 0) {
    // RFC 791 §3.2, RFC 8200 §4.5: the reassembled header is the first fragment's.
    t->have_first = true;
    t->first_len = p.data.size();
    std::memcpy(t->buf.data(), p.header.data(), slot);
  }
  if (!p.more) {
    t->have_last = true;
    t->total = end;
  }
  if (!(t->have_first && t->have_last && t->received == t->total)) {
    return {FragmentResult::kHeld, {}, evicted};
  }

  slot_out = t->slot;
  // Hand the buffer out; the train slot becomes free, its memory leaves the budget.
  t->buf.resize(t->slot + t->total);
  held_bytes_ -= t->buf.capacity();
  completed_.swap(t->buf);
  std::vector<uint8_t>().swap(t->buf);
  t->in_use = false;
  return {FragmentResult::kComplete, completed_, evicted};
}

FragmentOutcome FragmentReassembler::add(const wire::Ipv4Packet& frag, Instant now) {
  // The reassembled datagram gets a plain 20-byte header (options are not kept).
  std::array<uint8_t, wire::kIpv4HeaderMin> header{};
  wire::Ipv4Repr repr = frag.repr();
  repr.emit(header);
  Piece p;
  p.key = {IpAddr(frag.src()), IpAddr(frag.dst()), frag.identification(), frag.protocol()};
  p.offset = frag.frag_offset();
  p.more = frag.mf();
  p.data = frag.payload();
  p.header = header;
  p.max_total = 0xffff;
  size_t slot = 0;
  FragmentOutcome out = add_piece(p, now, slot);
  if (out.result != FragmentResult::kComplete) return out;
  // RFC 791 §3.2: the first fragment's header with the whole length, no MF, DF or offset.
  uint8_t* h = completed_.data();
  wire::store_be16(h + 2, static_cast<uint16_t>(completed_.size()));
  wire::store_be16(h + 6, 0);
  wire::store_be16(h + 10, 0);
  wire::store_be16(h + 10, wire::internet_checksum(std::span(completed_).first(20)));
  return out;
}

FragmentOutcome FragmentReassembler::add(const wire::Ipv6Packet& frag,
                                         const wire::Ipv6FragmentHeader& fh, Instant now) {
  const auto bytes = frag.bytes();
  const size_t data_at = fh.header_offset + 8;
  // `fh` comes from this packet's walk; anything else cannot be placed.
  if (fh.header_offset < wire::kIpv6HeaderLen || data_at > bytes.size()) {
    return {FragmentResult::kMalformed, {}};
  }
  Piece p;
  p.key = {IpAddr(frag.src()), IpAddr(frag.dst()), fh.identification, 0};
  p.offset = fh.offset;
  p.more = fh.more;
  p.data = bytes.subspan(data_at);
  // The Per-Fragment headers and the Fragment header itself: kept as received, so a timed
  // out train can quote its first fragment whole; removed on completion.
  p.header = bytes.first(data_at);
  p.max_total = wire::kIpv6HeaderLen + 0xffff + 8;
  size_t slot = 0;
  FragmentOutcome out = add_piece(p, now, slot);
  if (out.result != FragmentResult::kComplete) return out;

  // RFC 8200 §4.5: the Next Header field of the last Per-Fragment header takes the first
  // fragment's Fragment header's Next Header value; the Fragment header goes; the Payload
  // Length covers the Per-Fragment extension headers and the reassembled data.
  uint8_t* b = completed_.data();
  const size_t fh_at = slot - 8;
  // The headers were walked when the first fragment came in: they chain to the Fragment
  // header. Checked again, as this buffer is all that is trusted here.
  size_t nh_field = 6;
  size_t off = wire::kIpv6HeaderLen;
  while (off < fh_at) {
    nh_field = off;
    off += (size_t{b[off + 1]} + 1) * 8;
  }
  if (off != fh_at) return {FragmentResult::kMalformed, {}, out.evicted};
  b[nh_field] = b[fh_at];
  std::memmove(b + 8, b, fh_at);
  wire::store_be16(b + 8 + 4, static_cast<uint16_t>(completed_.size() - 8 - wire::kIpv6HeaderLen));
  out.datagram = std::span(completed_).subspan(8);
  return out;
}

size_t FragmentReassembler::expire(Instant now,
                                   const std::function<void(std::span<const uint8_t>)>& first) {
  size_t timed_out = 0;
  for (Train& t : trains_) {
    if (!t.in_use || t.expires > now) continue;
    if (!t.dead) {
      ++timed_out;
      if (t.have_first && first) first(std::span(t.buf).first(t.slot + t.first_len));
    }
    release(t);
    t.in_use = false;
  }
  return timed_out;
}

Instant FragmentReassembler::next_deadline() const {
  Instant next = kNever;
  for (const Train& t : trains_) {
    if (t.in_use) next = std::min(next, t.expires);
  }
  return next;
}

}  // namespace utcp::ip
