// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Receive-buffer autotuning: once per round trip, compare the bytes the application took in that
// round with the buffer and grow the buffer to twice the measured rate x RTT, up to a maximum
// (the idea of Linux's tcp_rcv_space_adjust / tcp_rmem), so a long fat path is not limited by the
// advertised window. The buffer never shrinks here.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "utcp/time.hpp"

namespace utcp::tcp {

class MemoryBudget;

class RcvAutotune {
 public:
  RcvAutotune(size_t initial, size_t max)
      : capacity_(initial), max_(max < initial ? initial : max) {}

  // `bytes` were delivered to the application at `now`; `rtt` is the connection's current RTT
  // estimate (zero if unknown). Returns the new capacity when the buffer should grow.
  std::optional<size_t> on_delivered(size_t bytes, Instant now, Duration rtt, uint32_t mss);

  // The stack-wide budget: while it is under pressure, no growth (null: none).
  void set_budget(MemoryBudget* budget) { budget_ = budget; }
  size_t capacity() const { return capacity_; }
  size_t max() const { return max_; }
  void set_capacity(size_t c) { capacity_ = c; }

 private:
  size_t capacity_;
  size_t max_;
  MemoryBudget* budget_ = nullptr;
  bool started_ = false;
  Instant round_start_{};
  size_t round_bytes_ = 0;
};

}  // namespace utcp::tcp
