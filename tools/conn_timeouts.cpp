// SPDX-License-Identifier: BSD-2-Clause
#include "conn_timeouts.hpp"

#include <algorithm>

namespace utcp::tools {

Instant ConnTimeouts::deadline(const Entry& e, TimeoutReason* why) const {
  Instant at = kNever;
  if (config_.idle > Duration{0}) {
    at = e.last_activity + config_.idle;
    if (why != nullptr) *why = TimeoutReason::kIdle;
  }
  if (config_.header > Duration{0} && e.head_started != kNever &&
      e.head_started + config_.header < at) {
    at = e.head_started + config_.header;
    if (why != nullptr) *why = TimeoutReason::kHeader;
  }
  return at;
}

void ConnTimeouts::schedule(Key k, Entry& e) {
  const Instant at = deadline(e);
  // A later deadline keeps the earlier item: when it pops, the entry is looked at again.
  if (at == kNever || at >= e.queued) return;
  e.queued = at;
  heap_.push({at, k, ++e.generation});
}

void ConnTimeouts::add(Key k, Instant now) {
  Entry& e = entries_[k];
  e = Entry{.last_activity = now, .generation = e.generation + 1};
  schedule(k, e);
}

void ConnTimeouts::remove(Key k) {
  entries_.erase(k);
  drop_stale();
}

void ConnTimeouts::activity(Key k, Instant now) {
  if (auto it = entries_.find(k); it != entries_.end()) it->second.last_activity = now;
}

void ConnTimeouts::header_clock(Key k, bool waiting, Instant now) {
  auto it = entries_.find(k);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  if (!waiting) {
    e.head_started = kNever;
  } else if (e.head_started == kNever) {
    e.head_started = now;
    schedule(k, e);
  }
}

void ConnTimeouts::drop_stale() {
  while (!heap_.empty()) {
    const Item& top = heap_.top();
    auto it = entries_.find(top.key);
    if (it != entries_.end() && it->second.generation == top.generation) return;
    heap_.pop();
  }
}

std::vector<std::pair<ConnTimeouts::Key, TimeoutReason>> ConnTimeouts::expired(Instant now) {
  std::vector<std::pair<Key, TimeoutReason>> out;
  while (!heap_.empty() && heap_.top().at <= now) {
    const Item item = heap_.top();
    heap_.pop();
    auto it = entries_.find(item.key);
    if (it == entries_.end() || it->second.generation != item.generation) continue;
    Entry& e = it->second;
    TimeoutReason why = TimeoutReason::kIdle;
    const Instant at = deadline(e, &why);
    if (at <= now) {
      out.emplace_back(item.key, why);
      entries_.erase(it);
    } else {
      e.queued = kNever;  // the item just popped was the valid one
      schedule(item.key, e);
    }
  }
  drop_stale();
  return out;
}

Instant ConnTimeouts::next_deadline() {
  drop_stale();
  return heap_.empty() ? kNever : heap_.top().at;
}

}  // namespace utcp::tools
