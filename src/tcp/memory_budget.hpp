// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// One budget for the buffer memory of every connection of a Stack, as Linux's tcp_mem: the
// send and receive rings ask it before they grow and tell it what they free. Below the
// pressure mark (3/4 of the limit) every growth is granted. Above it the stack is "under
// pressure": autotuning stops raising buffer sizes, receive windows open no further than the
// storage already held, and a ring may grow for an out-of-order segment no more (RFC 9293
// §3.10.7.4 lets a receiver drop those). Above the limit no ring grows at all, except to
// kGuaranteed bytes, each connection's right by birth (Linux's tcp_rmem[0]/tcp_wmem[0]), so
// that every connection can always make progress. A refused receive growth drops the
// segment's bytes past the storage held (never acknowledged, so the peer retransmits them);
// bytes already acknowledged are never dropped. A refused send growth makes write() take what
// fits. Single-threaded, like the Stack that owns it.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace utcp::tcp {

class MemoryBudget {
 public:
  // Growth up to this many bytes of one ring is never refused (the rings' first allocation).
  static constexpr size_t kGuaranteed = 4096;

  // `limit` bytes for all rings together; 0 = no limit (still counted).
  explicit MemoryBudget(size_t limit);

  // A ring grows from `from` to `to` bytes; `optional`: storage for out-of-order data only,
  // refused under pressure. True if granted (and charged).
  bool try_grow(size_t from, size_t to, bool optional = false);
  // A ring's storage changed without asking (it shrank, or was freed): `from` -> `to` <= from.
  void shrink(size_t from, size_t to);

  bool under_pressure() const { return pressure_; }
  // Autotuning wanted a larger buffer while under pressure (counted, not granted).
  void note_autotune_held() { ++autotune_held_; }

  size_t used() const { return used_; }
  size_t limit() const { return limit_; }
  size_t pressure_mark() const { return mark_; }

  // Counters for Stack::counters(): bytes held now and at most, pressure episodes, refusals.
  void append_to(std::vector<std::pair<std::string_view, uint64_t>>& out) const;

 private:
  void charge(size_t bytes);

  size_t limit_;
  size_t mark_;
  size_t used_ = 0;
  size_t peak_ = 0;
  bool pressure_ = false;
  uint64_t pressure_events_ = 0;
  uint64_t refused_ = 0;
  uint64_t refused_out_of_order_ = 0;
  uint64_t autotune_held_ = 0;
};

}  // namespace utcp::tcp
