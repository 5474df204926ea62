// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A first-in first-out queue of socket indexes (a listener's accept queue). Unlike std::deque,
// which allocates a map and a 512-byte chunk as soon as it is constructed, an empty queue owns
// no memory: every socket record carries one, so an established connection would pay for it.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace utcp::stack {

class IndexFifo {
 public:
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  uint32_t front() const { return items_[head_]; }
  void push_back(uint32_t v) { items_.push_back(v); }
  void pop_front() {
    ++head_;
    if (head_ == items_.size()) {
      items_.clear();  // keeps the capacity: a busy listener does not allocate again
      head_ = 0;
    } else if (head_ >= 64 && head_ * 2 >= items_.size()) {
      // Drop the consumed prefix now and then: amortised O(1) per element.
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

 private:
  std::vector<uint32_t> items_;
  size_t head_ = 0;  // index of the front element
};

}  // namespace utcp::stack
