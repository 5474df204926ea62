// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Orphans: connections the application closed (Stack::close) while the engine still works to
// end them: FIN-WAIT-1/2, CLOSING, LAST-ACK, or still ESTABLISHED/CLOSE-WAIT with the FIN
// queued behind data the peer's window has no room for. Nobody reads or waits for them,
// and a peer that never acknowledges the FIN, or answers persist probes with a zero window
// forever, would hold each one (and its send buffer) as long as the engine keeps trying.
// RFC 9293 sets no bound; Linux bounds them in number (tcp_max_orphans: the excess is reset)
// and in time (tcp_orphan_retries). This queue keeps them in the order they were orphaned,
// so the oldest is at the front; the Stack decides when to reset (StackConfig::max_orphans,
// StackConfig::orphan_timeout). Indices and times only, no sockets.
#include <cstddef>
#include <cstdint>
#include <deque>

#include "utcp/tcp_state.hpp"
#include "utcp/time.hpp"

namespace utcp::stack {

class OrphanQueue {
 public:
  struct Entry {
    uint32_t index;  // the socket slot
    uint32_t gen;    // its generation then: a reused slot is not the same orphan
    Instant since;
  };

  // Whether a connection the application closed still holds resources for the peer's sake:
  // any state but CLOSED and TIME-WAIT (which holds no buffers and ends by itself after
  // 2 MSL).
  static constexpr bool is_orphan_state(tcp::State s) {
    return s != tcp::State::kClosed && s != tcp::State::kTimeWait;
  }

  // Stack::close() runs between process() calls, when the Stack's clock may be long stale;
  // the entry's time is set by the next stamp() (from process(), with the current time).
  void add(uint32_t index, uint32_t gen) {
    entries_.push_back({index, gen, kNever});
    ++live_;
  }
  void stamp(Instant now) {
    for (auto it = entries_.rbegin(); it != entries_.rend() && it->since == kNever; ++it) {
      it->since = now;
    }
  }
  // One stopped being an orphan (it finished, was reset, or its slot was freed). Its entry
  // stays until it reaches the front, where the caller's `alive` test drops it.
  void left() {
    if (live_ > 0) --live_;
  }
  size_t size() const { return live_; }

  // The oldest entry still an orphan (`alive(entry)` says whether it is); stale entries in
  // front of it are dropped. nullptr when there is none.
  template <class Alive>
  const Entry* oldest(Alive alive) {
    while (!entries_.empty() && !alive(entries_.front())) entries_.pop_front();
    return entries_.empty() ? nullptr : &entries_.front();
  }
  void pop_oldest() { entries_.pop_front(); }

  // When the front entry times out (it may be stale: then only an early wake-up).
  Instant next_deadline(Duration timeout) const {
    if (entries_.empty() || timeout <= Duration{0} || entries_.front().since == kNever) {
      return kNever;  // not stamped yet: the close marked the socket dirty, process() comes
    }
    return entries_.front().since + timeout;
  }

 private:
  std::deque<Entry> entries_;
  size_t live_ = 0;
};

}  // namespace utcp::stack
