// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// One deadline per timer owner (a connection, a listener...), kept in an indexed binary
// min-heap: schedule, reschedule and cancel are O(log n), the earliest deadline is O(1).
// Owners are small dense integer ids, so the position index is a flat vector.
#include <cstdint>
#include <vector>

#include "utcp/time.hpp"

namespace utcp::stack {

class TimerHeap {
 public:
  using Id = uint32_t;

  // Sets (or moves) the deadline of `id`; kNever cancels it.
  void schedule(Id id, Instant deadline);
  void cancel(Id id);
  bool scheduled(Id id) const { return id < pos_.size() && pos_[id] != kNone; }
  Instant deadline_of(Id id) const { return scheduled(id) ? heap_[pos_[id]].deadline : kNever; }

  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  Instant earliest() const { return heap_.empty() ? kNever : heap_.front().deadline; }
  Id earliest_id() const { return heap_.front().id; }

  // Removes and returns the id of one timer whose deadline is <= now; false if none.
  bool pop_expired(Instant now, Id& id);

 private:
  struct Entry {
    Instant deadline;
    Id id;
  };
  static constexpr uint32_t kNone = UINT32_MAX;

  void place(size_t i, Entry e);
  void sift_up(size_t i);
  void sift_down(size_t i);
  void remove_at(size_t i);

  std::vector<Entry> heap_;
  std::vector<uint32_t> pos_;  // id -> index in heap_, or kNone
};

}  // namespace utcp::stack
