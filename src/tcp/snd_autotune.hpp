// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Send-buffer autotuning: the send buffer bounds the bytes in flight, so a fixed size caps the
// rate at size / RTT. After each ACK the buffer grows to twice what the congestion window and
// the peer's window allow in flight (one window in flight, one queued behind it so the
// application's next write finds room), up to a maximum; the idea of Linux's
// tcp_sndbuf_expand / tcp_wmem[2]. It never shrinks here, and an explicit size from the
// application pins it (Linux's SOCK_SNDBUF_LOCK).
#include <cstddef>
#include <cstdint>
#include <optional>

namespace utcp::tcp {

class MemoryBudget;

class SndAutotune {
 public:
  SndAutotune(size_t initial, size_t max)
      : capacity_(initial), max_(max < initial ? initial : max) {}

  // After an ACK of new data: `cwnd` and the largest window the peer offered (`peer_wnd`,
  // bytes). Returns the new capacity when the buffer should grow.
  std::optional<size_t> on_ack(uint32_t cwnd, uint32_t peer_wnd, uint32_t mss);

  // The application chose a size: autotuning stops for good.
  void pin(size_t capacity) {
    capacity_ = capacity;
    pinned_ = true;
  }
  bool pinned() const { return pinned_; }
  // The stack-wide budget: while it is under pressure, no growth (null: none).
  void set_budget(MemoryBudget* budget) { budget_ = budget; }
  size_t capacity() const { return capacity_; }
  size_t max() const { return max_; }

 private:
  size_t capacity_;
  size_t max_;
  MemoryBudget* budget_ = nullptr;
  bool pinned_ = false;
};

}  // namespace utcp::tcp
