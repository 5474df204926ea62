// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/reno.hpp"

#include <algorithm>

#include "tcp/initial_window.hpp"

namespace utcp::tcp {

void RenoCongestion::init(uint32_t mss, uint32_t initial_window_segments) {
  smss_ = std::max<uint32_t>(mss, 1);
  iw_segments_ = initial_window_segments;
  iw_ = initial_window_bytes(smss_, iw_segments_);
  cwnd_ = iw_;
  ssthresh_ = UINT32_MAX;  // RFC 5681 §3.1: initial ssthresh arbitrarily high
}

void RenoCongestion::set_mss(uint32_t mss) {
  // A window still at its untouched initial value is re-sized for the new SMSS (RFC 6928 §2
  // defines IW in terms of the MSS actually used).
  const bool untouched = cwnd_ == iw_ && ssthresh_ == UINT32_MAX;
  smss_ = std::max<uint32_t>(mss, 1);
  iw_ = initial_window_bytes(smss_, iw_segments_);
  cwnd_ = untouched ? iw_ : std::max(cwnd_, smss_);
}

void RenoCongestion::on_ack(uint32_t bytes_acked, uint32_t /*flight_size*/, Instant /*now*/) {
  if (bytes_acked == 0) return;
  uint64_t next;
  if (cwnd_ < ssthresh_) {
    // RFC 5681 §3.1 slow start with byte counting (RFC 3465), every byte acked counted.
    next = slow_start_cwnd(cwnd_, bytes_acked, ssthresh_);
  } else {
    // RFC 5681 §3.1 eq. 3: cwnd += SMSS*SMSS/cwnd, at least one byte, ~1 SMSS per RTT.
    const uint64_t inc = uint64_t{smss_} * smss_ / std::max<uint32_t>(cwnd_, 1);
    next = uint64_t{cwnd_} + std::max<uint64_t>(inc, 1);
  }
  cwnd_ = static_cast<uint32_t>(std::min<uint64_t>(next, UINT32_MAX));
}

uint32_t RenoCongestion::loss_ssthresh(uint32_t flight_size) const {
  // RFC 5681 §3.1 eq. 4: ssthresh = max(FlightSize/2, 2*SMSS).
  return static_cast<uint32_t>(
      std::min<uint64_t>(std::max<uint64_t>(flight_size / 2, 2 * uint64_t{smss_}), UINT32_MAX));
}

void RenoCongestion::on_fast_retransmit(uint32_t flight_size, Instant /*now*/) {
  prior_cwnd_ = cwnd_;
  prior_ssthresh_ = ssthresh_;
  undo_valid_ = true;
  // RFC 5681 §3.2 steps 2-3.
  ssthresh_ = loss_ssthresh(flight_size);
  cwnd_ = static_cast<uint32_t>(
      std::min<uint64_t>(uint64_t{ssthresh_} + 3 * uint64_t{smss_}, UINT32_MAX));
}

void RenoCongestion::on_recovery_dup_ack() {
  // RFC 5681 §3.2 step 4: each further duplicate ACK inflates cwnd by one segment.
  cwnd_ = static_cast<uint32_t>(std::min<uint64_t>(uint64_t{cwnd_} + smss_, UINT32_MAX));
}

void RenoCongestion::on_recovery_exit() {
  // RFC 5681 §3.2 step 6: deflate the window.
  cwnd_ = ssthresh_;
}

void RenoCongestion::on_rto(uint32_t flight_size, Instant /*now*/) {
  prior_cwnd_ = cwnd_;
  prior_ssthresh_ = ssthresh_;
  undo_valid_ = true;
  // RFC 5681 §3.1: ssthresh per eq. 4, cwnd = loss window (one segment).
  ssthresh_ = loss_ssthresh(flight_size);
  cwnd_ = smss_;
}

void RenoCongestion::on_idle(Duration idle, Duration rto) {
  // RFC 5681 §4.1: after an idle period longer than RTO, cwnd = min(RW, cwnd), RW = min(IW, cwnd).
  if (idle > rto) cwnd_ = std::min(cwnd_, iw_);
}

void RenoCongestion::on_spurious_undo() {
  // RFC 4015 §3 (Eifel response): restore the window and threshold from before the reduction.
  if (!undo_valid_) return;
  cwnd_ = std::max(cwnd_, prior_cwnd_);
  ssthresh_ = prior_ssthresh_;
  undo_valid_ = false;
}

void RenoCongestion::on_nvp_expired() {
  // RFC 7661 §4.4: keep a memory of the unused window in ssthresh, then halve it.
  ssthresh_ = std::max(ssthresh_, static_cast<uint32_t>(uint64_t{cwnd_} * 3 / 4));
  cwnd_ = std::max(cwnd_ / 2, iw_);
  undo_valid_ = false;
}

}  // namespace utcp::tcp
