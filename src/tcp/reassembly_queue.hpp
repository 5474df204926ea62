// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The receive buffer (RFC 9293 §3.10.7.4 "segment text"): in-order bytes waiting for the
// application, plus out-of-order bytes stored in place in the same ring. It is bounded by the
// receive window, allows any number of holes, and never allocates per segment. capacity() is the
// logical size the window is computed from; the storage grows with use: kInitialAllocation at
// the first insert, doubling (the held bytes copied once) whenever a segment reaches past it, up
// to capacity(), so growth never shows on the wire. release_if_empty() frees it when the
// connection goes idle (or shrinks it to what it holds). With a MemoryBudget, growth is asked
// for first; refused, a segment keeps only what fits in the storage held (the rest is dropped
// as if past the window, never acknowledged), and under pressure honours_window() is false:
// the receiver then opens its window no further than that storage.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace utcp::tcp {

class MemoryBudget;

// [begin, end) offsets relative to RCV.NXT at the time of the call.
struct SeqRange {
  uint32_t begin;
  uint32_t end;
  friend constexpr bool operator==(SeqRange, SeqRange) = default;
};

class ReassemblyQueue {
 public:
  // Cap on distinct out-of-order ranges, so a peer sending many tiny gapped segments cannot make
  // each insert slow; a segment that would open a range past it is dropped (the receiver may
  // always discard out-of-order data, RFC 9293 §3.10.7.4).
  static constexpr size_t kMaxOutOfOrderRanges = 1024;
  // Largest window TCP can advertise (RFC 7323 §2.3: 2^30 with scaling); capacities are clamped.
  static constexpr size_t kMaxCapacity = size_t{1} << 30;
  // First allocation of the ring (a few small segments cost this, not the whole capacity).
  // Small, so that a connection that exchanged a few bytes holds little; after the idle
  // release its freed ring is a small heap chunk that later allocations reuse, where a 4 KiB
  // one lay between live objects, resident and never given back (utcp-proxy: 8 KiB of heap
  // per idle connection). 64 B rather than 256: utcp-proxy's 1,000 idle connections that each
  // echoed a byte held ~200 KB less (memory.sh, 5 runs each). Growth doubles from here: a full
  // segment reaches 2 KiB at once, so a bulk transfer reallocates no more often.
  static constexpr size_t kInitialAllocation = 64;
  // Storage a ring may always grow to, even under budget pressure (MemoryBudget::kGuaranteed).
  static constexpr size_t kGuaranteedAllocation = 4096;

  explicit ReassemblyQueue(size_t capacity);
  ~ReassemblyQueue();
  ReassemblyQueue(const ReassemblyQueue&) = delete;
  ReassemblyQueue& operator=(const ReassemblyQueue&) = delete;

  // The stack-wide budget the ring is charged to (null: none). Set before the first insert.
  void set_budget(MemoryBudget* budget) { budget_ = budget; }
  // False while the budget is under pressure: a window should then cover only held_room().
  bool honours_window() const;
  // Room from RCV.NXT that the storage already held (at least its guaranteed size, which any
  // growth reaches) can take without growing.
  size_t held_room() const {
    const size_t held = std::max(alloc_, std::min(capacity_, kGuaranteedAllocation));
    return held > readable_ ? held - readable_ : 0;
  }

  size_t capacity() const { return capacity_; }
  // Changes the logical capacity; never below readable(). Out-of-order bytes beyond the new
  // window are dropped. Reallocates only when the storage held exceeds the new capacity.
  void set_capacity(size_t c);

  size_t readable() const { return readable_; }             // in-order bytes for the application
  size_t window() const { return capacity() - readable_; }  // room from RCV.NXT on

  // Stores data starting `offset` bytes after RCV.NXT (0 = in order); bytes at or beyond
  // window() are dropped. Duplicate/overlapping bytes are fine. Returns how many bytes became
  // newly in-order (RCV.NXT advances by that).
  size_t insert(size_t offset, std::span<const uint8_t> data);

  size_t read(std::span<uint8_t> dst);        // consumes in-order bytes, returns count
  size_t peek(std::span<uint8_t> dst) const;  // copies without consuming

  // Direct placement: where in-order bytes at RCV.NXT will be stored, as one contiguous span
  // that starts `headroom` bytes early (room for the packet's headers in front of the
  // payload). Empty unless the ring exists, holds nothing out of order (a packet that turns
  // out not to fit would overwrite it) and offers at least `min_room` bytes contiguously. The
  // caller restores the headroom bytes after use: they may be unread data. A later insert(0,
  // data) whose data already sits at that place stores it without copying.
  std::span<uint8_t> placement(size_t headroom, size_t min_room);
  // The ring position reads restart at when the ring empties: headroom for placement().
  static constexpr size_t kPlacementHeadroom = 128;
  // While held (a placement lease is out, stack/direct_placement.hpp) the storage never moves:
  // insert() stores only what fits in the ring held and drops the rest, as bytes past the
  // window (RFC 9293 §3.10.7.4 lets a receiver drop them; the peer retransmits).
  void hold_storage(bool held) { held_ = held; }

  // Drops out-of-order bytes at or past `offset` bytes after RCV.NXT: the peer's FIN ends its
  // data there (RFC 9293 §3.10.7.4), so nothing beyond it may ever become in order.
  void discard_from(size_t offset) { trim_ranges(offset); }

  bool has_out_of_order() const { return !ooo_.empty(); }
  // Sorted, disjoint, non-adjacent ranges of stored out-of-order bytes, relative to the
  // current RCV.NXT (all begin > 0).
  std::span<const SeqRange> out_of_order() const { return ooo_; }
  // Bytes held out of order (sum of the range lengths).
  size_t out_of_order_bytes() const;

  // Bytes of storage held: the ring (0 until the first insert, never above capacity()) and the
  // range list.
  size_t allocated() const { return ring_bytes() + ooo_.capacity() * sizeof(SeqRange); }
  size_t ring_bytes() const { return alloc_; }
  // Frees the ring and the range list if no byte is held (the next insert allocates again),
  // or else shrinks the ring to the size its bytes need when that halves it at least.
  // releasable() is what that would free.
  void release_if_empty();
  size_t releasable() const;

 private:
  void copy_in(size_t ring_pos, std::span<const uint8_t> data);
  void copy_from_ring(size_t ring_pos, std::span<uint8_t> dst) const;
  bool add_range(uint32_t begin, uint32_t end);
  // Drops out-of-order bytes at or past `room` bytes after RCV.NXT.
  void trim_ranges(size_t room);
  // Moves the readable bytes and the out-of-order ranges (all must fit) into fresh storage of
  // `bytes`, linearised from index 0.
  void reallocate(size_t bytes);
  // Doubles the storage until it holds `needed` bytes (capped at capacity()). Rare: at most
  // log2(capacity / kInitialAllocation) times per fill, so kept off the hot path.
  // `out_of_order`: for bytes beyond RCV.NXT (the budget refuses those first). A refusal
  // leaves the storage as it was (or at its guaranteed first size).
  [[gnu::cold]] void grow(size_t needed, bool out_of_order);
  size_t fitted_size() const;  // the ring size the held bytes need

  std::unique_ptr<uint8_t[]> storage_;  // uninitialised; only stored bytes are ever read
  size_t capacity_ = 0;                 // logical: the receive buffer the window is computed from
  size_t alloc_ = 0;                    // physical: the ring's size, <= capacity_
  std::vector<SeqRange> ooo_;           // reserved on first use; capped by kMaxOutOfOrderRanges
  size_t head_ = 0;                     // ring index of the first readable byte
  size_t readable_ = 0;
  bool held_ = false;  // see hold_storage()
  MemoryBudget* budget_ = nullptr;
};

}  // namespace utcp::tcp
