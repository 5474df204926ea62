// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/memory_budget.hpp"

#include <algorithm>
#include <cassert>
#include <limits>

namespace utcp::tcp {

MemoryBudget::MemoryBudget(size_t limit)
    : limit_(limit == 0 ? std::numeric_limits<size_t>::max() : limit),
      mark_(limit == 0 ? std::numeric_limits<size_t>::max() : limit / 4 * 3) {}

void MemoryBudget::charge(size_t bytes) {
  used_ += bytes;
  peak_ = std::max(peak_, used_);
  if (!pressure_ && used_ > mark_) {
    pressure_ = true;
    ++pressure_events_;
  }
}

bool MemoryBudget::try_grow(size_t from, size_t to, bool optional) {
  assert(to >= from);
  const size_t delta = to - from;
  if (to > kGuaranteed) {
    if (optional && (pressure_ || used_ + delta > mark_)) {
      ++refused_out_of_order_;
      return false;
    }
    if (used_ + delta > limit_ || used_ + delta < used_) {
      ++refused_;
      return false;
    }
  }
  charge(delta);
  return true;
}

void MemoryBudget::shrink(size_t from, size_t to) {
  assert(to <= from && from - to <= used_);
  used_ -= from - to;
  if (pressure_ && used_ <= mark_) pressure_ = false;
}

void MemoryBudget::append_to(std::vector<std::pair<std::string_view, uint64_t>>& out) const {
  out.emplace_back("tcp.mem.bytes", used_);
  out.emplace_back("tcp.mem.peak-bytes", peak_);
  out.emplace_back("tcp.mem.pressure-events", pressure_events_);
  out.emplace_back("tcp.mem.growth-refused", refused_);
  out.emplace_back("tcp.mem.out-of-order-refused", refused_out_of_order_);
  out.emplace_back("tcp.mem.autotune-held", autotune_held_);
}

}  // namespace utcp::tcp
