// SPDX-License-Identifier: BSD-2-Clause
#include "stack/timer_heap.hpp"

namespace utcp::stack {

void TimerHeap::place(size_t i, Entry e) {
  heap_[i] = e;
  pos_[e.id] = static_cast<uint32_t>(i);
}

void TimerHeap::sift_up(size_t i) {
  Entry e = heap_[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!(e.deadline < heap_[parent].deadline)) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, e);
}

void TimerHeap::sift_down(size_t i) {
  Entry e = heap_[i];
  const size_t n = heap_.size();
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1].deadline < heap_[child].deadline) ++child;
    if (!(heap_[child].deadline < e.deadline)) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, e);
}

void TimerHeap::remove_at(size_t i) {
  pos_[heap_[i].id] = kNone;
  Entry last = heap_.back();
  heap_.pop_back();
  if (i == heap_.size()) return;
  place(i, last);
  sift_up(i);
  sift_down(pos_[last.id]);
}

void TimerHeap::schedule(Id id, Instant deadline) {
  if (deadline == kNever) {
    cancel(id);
    return;
  }
  if (id >= pos_.size()) pos_.resize(id + 1, kNone);
  if (pos_[id] == kNone) {
    heap_.push_back({deadline, id});
    pos_[id] = static_cast<uint32_t>(heap_.size() - 1);
    sift_up(heap_.size() - 1);
    return;
  }
  size_t i = pos_[id];
  Instant old = heap_[i].deadline;
  heap_[i].deadline = deadline;
  if (deadline < old) {
    sift_up(i);
  } else {
    sift_down(i);
  }
}

void TimerHeap::cancel(Id id) {
  if (scheduled(id)) remove_at(pos_[id]);
}

bool TimerHeap::pop_expired(Instant now, Id& id) {
  if (heap_.empty() || now < heap_.front().deadline) return false;
  id = heap_.front().id;
  remove_at(0);
  return true;
}

}  // namespace utcp::stack
