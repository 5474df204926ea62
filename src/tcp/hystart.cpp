// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/hystart.hpp"

#include <algorithm>

namespace utcp::tcp {

void HyStart::reset(uint32_t cwnd) {
  phase_ = Phase::kSlowStart;
  last_round_min_rtt_ = Duration::max();
  css_baseline_min_rtt_ = Duration::max();
  css_rounds_ = 0;
  start_round(cwnd);
}

void HyStart::start_round(uint32_t cwnd) {
  // RFC 9406 §4.2: at the start of each round remember the last round's minimum RTT.
  round_bytes_ = 0;
  round_target_ = std::max<uint32_t>(cwnd, 1);
  last_round_min_rtt_ = current_round_min_rtt_;
  current_round_min_rtt_ = Duration::max();
  rtt_sample_count_ = 0;
}

void HyStart::on_rtt_sample(Duration rtt) {
  if (phase_ == Phase::kDone) return;
  current_round_min_rtt_ = std::min(current_round_min_rtt_, rtt);
  ++rtt_sample_count_;
  if (phase_ == Phase::kSlowStart) {
    // RFC 9406 §4.2: enough samples in this round and the last, and the delay grew by RttThresh.
    if (rtt_sample_count_ >= kNRttSample && current_round_min_rtt_ != Duration::max() &&
        last_round_min_rtt_ != Duration::max()) {
      const Duration thresh =
          std::clamp(last_round_min_rtt_ / kMinRttDivisor, kMinRttThresh, kMaxRttThresh);
      if (current_round_min_rtt_ >= last_round_min_rtt_ + thresh) {
        css_baseline_min_rtt_ = current_round_min_rtt_;
        phase_ = Phase::kConservative;
        css_rounds_ = 0;
      }
    }
  } else if (phase_ == Phase::kConservative) {
    // RFC 9406 §4.2: the RTT fell back below the baseline, so the exit was spurious.
    if (rtt_sample_count_ >= kNRttSample && current_round_min_rtt_ < css_baseline_min_rtt_) {
      css_baseline_min_rtt_ = Duration::max();
      phase_ = Phase::kSlowStart;
    }
  }
}

uint32_t HyStart::on_ack(uint32_t bytes_acked, uint32_t cwnd) {
  if (phase_ == Phase::kDone) return 0;
  // No per-ACK cap L (see the note on L in hystart.hpp).
  const uint32_t inc =
      phase_ == Phase::kConservative ? bytes_acked / kCssGrowthDivisor : bytes_acked;
  round_bytes_ += bytes_acked;
  if (round_bytes_ >= round_target_) {
    if (phase_ == Phase::kConservative && ++css_rounds_ >= kCssRounds) {
      phase_ = Phase::kDone;  // RFC 9406 §4.2: CSS_ROUNDS rounds in CSS, enter avoidance
      return inc;
    }
    start_round(cwnd + inc);
  }
  return inc;
}

}  // namespace utcp::tcp
