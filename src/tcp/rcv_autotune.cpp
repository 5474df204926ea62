// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/rcv_autotune.hpp"

#include <algorithm>

#include "tcp/memory_budget.hpp"

namespace utcp::tcp {

std::optional<size_t> RcvAutotune::on_delivered(size_t bytes, Instant now, Duration rtt,
                                                uint32_t mss) {
  if (!started_) {
    started_ = true;
    round_start_ = now;
    round_bytes_ = 0;
  }
  round_bytes_ += bytes;
  if (rtt <= Duration{0} || now - round_start_ < rtt) return std::nullopt;
  // One measurement per RTT: the sender may need twice what it got through this round (it can
  // double in slow start), plus room for a few segments in flight.
  const size_t measured = round_bytes_;
  round_start_ = now;
  round_bytes_ = 0;
  const size_t want = std::min(max_, 2 * measured + 4 * size_t{mss});
  if (want <= capacity_) return std::nullopt;
  // Under memory pressure buffers stop growing (Linux's tcp_memory_pressure); asked again
  // next time.
  if (budget_ != nullptr && budget_->under_pressure()) {
    budget_->note_autotune_held();
    return std::nullopt;
  }
  capacity_ = want;
  return capacity_;
}

}  // namespace utcp::tcp
