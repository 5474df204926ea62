// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/snd_autotune.hpp"

#include <algorithm>

#include "tcp/memory_budget.hpp"

namespace utcp::tcp {

std::optional<size_t> SndAutotune::on_ack(uint32_t cwnd, uint32_t peer_wnd, uint32_t mss) {
  if (pinned_ || capacity_ >= max_) return std::nullopt;
  // What may be in flight is min(cwnd, rwnd) (RFC 5681 §3); the buffer holds that plus as much
  // again queued behind it, and a few segments of slack for ACK compression.
  const uint64_t in_flight = std::min(cwnd, peer_wnd);
  const uint64_t want = std::min<uint64_t>(max_, 2 * in_flight + 4 * uint64_t{mss});
  if (want <= capacity_) return std::nullopt;
  // Under memory pressure buffers stop growing (Linux's tcp_memory_pressure); asked again
  // next time.
  if (budget_ != nullptr && budget_->under_pressure()) {
    budget_->note_autotune_held();
    return std::nullopt;
  }
  capacity_ = static_cast<size_t>(want);
  return capacity_;
}

}  // namespace utcp::tcp
