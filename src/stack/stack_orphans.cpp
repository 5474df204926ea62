// SPDX-License-Identifier: BSD-2-Clause
// Stack::Impl: the bound on orphaned connections (stack/orphan_queue.hpp), in number
// (StackConfig::max_orphans, as Linux's tcp_max_orphans) and in time
// (StackConfig::orphan_timeout, in place of Linux's tcp_orphan_retries). An orphan over
// either bound is reset (RFC 9293 §3.10.5 ABORT: a RST to the peer, the TCB deleted) and
// counted.
#include "stack/stack_impl.hpp"

namespace utcp {

using stack::Counter;
using stack::OrphanQueue;

bool Stack::Impl::still_orphan(const OrphanQueue::Entry& e) const {
  const Socket& s = sockets[e.index];
  return s.kind == Kind::kConnection && s.gen == e.gen && s.orphan;
}

void Stack::Impl::on_orphaned(uint32_t index) {
  Socket& s = sockets[index];
  if (s.orphan || !OrphanQueue::is_orphan_state(s.conn->state())) return;
  s.orphan = true;
  orphans.add(index, s.gen);
  // Too many: the oldest goes first, as it is the likeliest to be stuck.
  while (orphans.size() > config.max_orphans) {
    const auto* oldest = orphans.oldest([this](const auto& e) { return still_orphan(e); });
    if (oldest == nullptr) break;
    const uint32_t victim = oldest->index;
    orphans.pop_oldest();
    reset_orphan(victim);
    counters.inc(Counter::tcp_orphan_overflow);
  }
}

void Stack::Impl::settle_orphan(uint32_t index) {
  Socket& s = sockets[index];
  if (s.orphan && !OrphanQueue::is_orphan_state(s.conn->state())) {
    s.orphan = false;
    orphans.left();
  }
}

void Stack::Impl::reset_orphan(uint32_t index) {
  Socket& s = sockets[index];
  s.orphan = false;
  orphans.left();
  s.conn->abort(now);
  mark_dirty(index);
}

void Stack::Impl::expire_orphans() {
  orphans.stamp(now);
  if (config.orphan_timeout <= Duration{0}) return;
  for (;;) {
    const auto* oldest = orphans.oldest([this](const auto& e) { return still_orphan(e); });
    if (oldest == nullptr || oldest->since + config.orphan_timeout > now) return;
    const uint32_t victim = oldest->index;
    orphans.pop_oldest();
    reset_orphan(victim);
    counters.inc(Counter::tcp_orphan_timeout);
  }
}

}  // namespace utcp
