// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// HyStart++ (RFC 9406): leave slow start before the first loss when the round's minimum RTT
// rises, through a Conservative Slow Start (CSS) phase. Rounds are counted by acknowledged bytes
// (a round ends once a window's worth of data has been acknowledged), since the controller does
// not see sequence numbers.
#include <cstdint>

#include "utcp/time.hpp"

namespace utcp::tcp {

class HyStart {
 public:
  // RFC 9406 §4.3 constants.
  static constexpr Duration kMinRttThresh{4000};
  static constexpr Duration kMaxRttThresh{16000};
  static constexpr int kMinRttDivisor = 8;
  static constexpr unsigned kNRttSample = 8;
  static constexpr unsigned kCssGrowthDivisor = 4;
  static constexpr unsigned kCssRounds = 5;
  // RFC 9406 §4.3 recommends L = 8 (segments per ACK) for a sender that does not pace and
  // L = infinity for one that does. utcp does not pace but takes L = infinity, as its slow start
  // without HyStart++ (slow_start_cwnd()): receivers behind GRO/LRO send stretch ACKs of more
  // than 8 segments all the time, and L = 8 slowed slow start against them (docs/netsim.md
  // "Stretch ACKs"). The increase is still divided by kCssGrowthDivisor in CSS.

  enum class Phase { kSlowStart, kConservative, kDone };

  // A fresh slow start (connection start or after an RTO).
  void reset(uint32_t cwnd);
  void on_rtt_sample(Duration rtt);
  // Slow-start ACK of `bytes_acked` at window `cwnd`: returns the cwnd increase to apply
  // (RFC 9406 §4.2: the bytes acked, divided by CSS_GROWTH_DIVISOR in CSS). After the last CSS
  // round phase() is kDone and the caller sets ssthresh = cwnd.
  uint32_t on_ack(uint32_t bytes_acked, uint32_t cwnd);

  Phase phase() const { return phase_; }

 private:
  void start_round(uint32_t cwnd);

  // Ordered by alignment: no padding.
  uint64_t round_bytes_ = 0;
  Duration last_round_min_rtt_ = Duration::max();
  Duration current_round_min_rtt_ = Duration::max();
  Duration css_baseline_min_rtt_ = Duration::max();
  uint32_t round_target_ = 0;
  unsigned rtt_sample_count_ = 0;
  unsigned css_rounds_ = 0;
  Phase phase_ = Phase::kSlowStart;
};

}  // namespace utcp::tcp
