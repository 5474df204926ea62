// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Reno congestion control (RFC 5681): slow start with byte counting (RFC 3465, no per-ACK
// limit: slow_start_cwnd()), congestion avoidance, fast retransmit/fast recovery window arithmetic,
// RTO collapse and restart after idle. Initial window per RFC 6928.
#include <cstdint>

#include "tcp/congestion_control.hpp"

namespace utcp::tcp {

class RenoCongestion final : public CongestionControl {
 public:
  RenoCongestion() { init(536, 10); }  // RFC 9293 §3.7.1 default MSS until told otherwise

  const char* name() const override { return "reno"; }
  void init(uint32_t mss, uint32_t initial_window_segments) override;
  void set_mss(uint32_t mss) override;
  uint32_t cwnd() const override { return cwnd_; }
  uint32_t ssthresh() const override { return ssthresh_; }
  void on_ack(uint32_t bytes_acked, uint32_t flight_size, Instant now) override;
  void on_fast_retransmit(uint32_t flight_size, Instant now) override;
  void on_recovery_dup_ack() override;
  void on_recovery_exit() override;
  void on_rto(uint32_t flight_size, Instant now) override;
  void on_idle(Duration idle, Duration rto) override;
  void on_spurious_undo() override;
  void on_nvp_expired() override;

  uint32_t mss() const { return smss_; }
  uint32_t initial_window() const { return iw_; }
  bool in_slow_start() const { return cwnd_ < ssthresh_; }

 private:
  uint32_t loss_ssthresh(uint32_t flight_size) const;

  uint32_t smss_ = 536;
  uint32_t iw_segments_ = 10;
  uint32_t iw_ = 0;
  uint32_t cwnd_ = 0;
  uint32_t ssthresh_ = UINT32_MAX;  // RFC 5681 §3.1: initially arbitrarily high
  // The window before the last reduction, for undoing a spurious one (RFC 3522 / RFC 4015).
  uint32_t prior_cwnd_ = 0;
  uint32_t prior_ssthresh_ = UINT32_MAX;
  bool undo_valid_ = false;
};

}  // namespace utcp::tcp
