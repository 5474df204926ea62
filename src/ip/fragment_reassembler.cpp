// SPDX-License-Identifier: BSD-2-Clause
#include "ip/fragment_reassembler.hpp"

#include <algorithm>
#include <cstring>

namespace utcp::ip {

FragmentReassembler::FragmentReassembler(const ReassemblyConfig& config)
    : config_(config), trains_(config.max_trains) {}

size_t FragmentReassembler::trains() const {
  return static_cast<size_t>(
      std::count_if(trains_.begin(), trains_.end(), [](const Train& t) { return t.in_use; }));
}

FragmentReassembler::Train* FragmentReassembler::find(const wire::Ipv4Packet& p) {
  for (Train& t : trains_) {
    // RFC 791 §3.2: fragments of one datagram share source, destination, protocol and id.
    if (t.in_use && t.id == p.identification() && t.src == p.src() && t.dst == p.dst() &&
        t.protocol == p.protocol()) {
      return &t;
    }
  }
  return nullptr;
}

// The train started first (they share one timeout, so the soonest to expire), optionally
// among one source's trains; `except` is never chosen.
FragmentReassembler::Train* FragmentReassembler::oldest(const Train* except,
                                                        const wire::Ipv4Addr* of_source) {
  Train* best = nullptr;
  for (Train& t : trains_) {
    if (!t.in_use || &t == except || (of_source != nullptr && !(t.src == *of_source))) continue;
    if (best == nullptr || t.expires < best->expires) best = &t;
  }
  return best;
}

void FragmentReassembler::evict(Train& t) {
  release(t);
  t.in_use = false;
}

FragmentReassembler::Train* FragmentReassembler::start(const wire::Ipv4Packet& p, Instant now,
                                                       uint32_t& evicted) {
  // A source at its bound makes room among its own trains, so one sender cannot push out
  // everyone else's; a full table evicts the oldest train of all (Linux does the same when
  // its fragment memory is exhausted). Dropping the oldest rather than refusing the new one
  // bounds how long a flood of never-completed trains can shut out legitimate datagrams.
  const wire::Ipv4Addr src = p.src();
  size_t from_source = 0;
  for (const Train& t : trains_) from_source += t.in_use && t.src == src ? 1 : 0;
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
  t.src = src;
  t.dst = p.dst();
  t.protocol = p.protocol();
  t.id = p.identification();
  // RFC 1122 §3.3.2: a fixed reassembly timeout, counted from the first fragment.
  t.expires = now + config_.timeout;
  t.received = t.max_end = t.total = 0;
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

bool FragmentReassembler::reserve(Train& t, size_t need) {
  if (t.buf.size() >= need) return true;
  if (t.buf.capacity() < need) {
    const size_t have = t.buf.capacity();
    size_t want =
        std::min(wire::kIpv4HeaderMin + kMaxPayload, std::max({need, 2 * have, size_t{2048}}));
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

bool FragmentReassembler::any_block(const Train& t, size_t first, size_t last) {
  for (size_t b = first; b < last; ++b) {
    if (t.received_blocks[b / 64] & (uint64_t{1} << (b % 64))) return true;
  }
  return false;
}

void FragmentReassembler::mark_blocks(Train& t, size_t first, size_t last) {
  for (size_t b = first; b < last; ++b) t.received_blocks[b / 64] |= uint64_t{1} << (b % 64);
}

FragmentOutcome FragmentReassembler::add(const wire::Ipv4Packet& frag, Instant now) {
  expire(now);
  const auto payload = frag.payload();
  const size_t offset = frag.frag_offset();
  const size_t end = offset + payload.size();
  const bool more = frag.mf();

  Train* t = find(frag);
  if (t != nullptr && t->dead) return {FragmentResult::kDeadTrain, {}};

  // RFC 791 §3.2: every fragment but the last carries a non-empty multiple of 8 bytes.
  if (more && (payload.empty() || payload.size() % 8 != 0)) return {FragmentResult::kMalformed, {}};

  uint32_t evicted = 0;
  if (t == nullptr) {
    t = start(frag, now, evicted);
    if (t == nullptr) return {FragmentResult::kTooManyTrains, {}, evicted};
  }
  // RFC 791 §3.1: a datagram is at most 65535 bytes; a train claiming more is an attack.
  if (end > kMaxPayload) return {kill(*t, FragmentResult::kOversize), {}, evicted};

  const size_t first_block = offset / 8;
  const size_t last_block = (end + 7) / 8;
  if (any_block(*t, first_block, last_block)) {
    return {kill(*t, FragmentResult::kOverlap), {}, evicted};
  }
  if (t->have_last && end > t->total) return {kill(*t, FragmentResult::kMalformed), {}, evicted};
  if (!more && (t->have_last || t->max_end > end))
    return {kill(*t, FragmentResult::kMalformed), {}, evicted};

  // The byte budget, like the table, gives way to the newer train: older ones are evicted
  // until this fragment fits (a train that alone exceeds the budget is still dropped).
  const size_t need = wire::kIpv4HeaderMin + end;
  while (t->buf.size() < need && !fits(*t, need)) {
    Train* victim = oldest(t, nullptr);
    if (victim == nullptr) break;
    evict(*victim);
    ++evicted;
  }
  if (!reserve(*t, need)) return {kill(*t, FragmentResult::kNoMemory), {}, evicted};
  if (!payload.empty()) {
    std::memcpy(t->buf.data() + wire::kIpv4HeaderMin + offset, payload.data(), payload.size());
  }
  mark_blocks(*t, first_block, last_block);
  t->received += payload.size();
  t->max_end = std::max(t->max_end, end);
  if (offset == 0) {
    // RFC 791 §3.2: the reassembled header is the first fragment's.
    t->have_first = true;
    t->first_header = frag.repr();
  }
  if (!more) {
    t->have_last = true;
    t->total = end;
  }
  if (!(t->have_first && t->have_last && t->received == t->total))
    return {FragmentResult::kHeld, {}, evicted};

  wire::Ipv4Repr header = t->first_header;
  header.mf = false;
  header.df = false;
  header.frag_offset = 0;
  header.payload_len = static_cast<uint16_t>(t->total);
  t->buf.resize(wire::kIpv4HeaderMin + t->total);
  header.emit(t->buf);
  // Hand the buffer out; the train slot becomes free, its memory leaves the budget.
  held_bytes_ -= t->buf.capacity();
  completed_.swap(t->buf);
  std::vector<uint8_t>().swap(t->buf);
  t->in_use = false;
  return {FragmentResult::kComplete, completed_, evicted};
}

size_t FragmentReassembler::expire(Instant now) {
  size_t timed_out = 0;
  for (Train& t : trains_) {
    if (!t.in_use || t.expires > now) continue;
    if (!t.dead) ++timed_out;
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
