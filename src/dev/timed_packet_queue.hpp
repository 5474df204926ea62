// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A bounded queue of packet copies, each with the time it may leave. Packets leave in order
// of that time, and in arrival order among equal times, so a fixed delay keeps FIFO order.
// Buffers are allocated once per slot and reused: no allocation per packet once warm.
// Packets pushed in release order (a fixed delay, the usual case) wait in a plain FIFO ring,
// O(1) each way; only one released earlier than the last queued goes to a heap.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "utcp/time.hpp"

namespace utcp::dev {

class TimedPacketQueue {
 public:
  // capacity: most packets held at once; max_len: largest packet accepted.
  TimedPacketQueue(size_t capacity, size_t max_len);

  // Copies the packet in; false (nothing stored) when full or the packet exceeds max_len.
  bool push(std::span<const uint8_t> packet, Instant release);

  bool empty() const { return size() == 0; }
  size_t size() const { return heap_.size() + fifo_count_; }
  size_t capacity() const { return capacity_; }
  size_t max_len() const { return max_len_; }
  bool full() const { return size() >= capacity_; }

  // Release time of the earliest packet (kNever when empty).
  Instant next_release() const { return empty() ? kNever : earliest().release; }
  bool due(Instant now) const { return !empty() && earliest().release <= now; }

  // The earliest packet; only valid when !empty(), until the next pop()/push().
  std::span<const uint8_t> front() const;
  void pop();

 private:
  struct Entry {
    Instant release;
    uint64_t order;  // arrival counter: tie-break that keeps FIFO among equal release times
    uint32_t slot;
    uint32_t len;
  };
  // Min-heap on (release, order) expressed for std::*_heap, which builds max-heaps.
  static bool later(const Entry& a, const Entry& b) {
    return a.release != b.release ? a.release > b.release : a.order > b.order;
  }
  // The earliest entry and whether it is the FIFO's front; only when !empty().
  bool earliest_in_fifo() const {
    return fifo_count_ > 0 && (heap_.empty() || !later(fifo_[fifo_head_], heap_.front()));
  }
  const Entry& earliest() const { return earliest_in_fifo() ? fifo_[fifo_head_] : heap_.front(); }

  size_t capacity_;
  size_t max_len_;
  uint64_t next_order_ = 0;
  std::vector<Entry> heap_;
  std::vector<Entry> fifo_;  // ring of capacity_ entries, in release order
  size_t fifo_head_ = 0;
  size_t fifo_count_ = 0;
  std::vector<uint32_t> free_slots_;
  std::vector<std::vector<uint8_t>> buffers_;  // grown on first use, then reused
};

}  // namespace utcp::dev
