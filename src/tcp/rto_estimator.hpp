// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Retransmission timeout per RFC 6298: SRTT/RTTVAR smoothing, exponential backoff, clamping.
// Deviation: the floor defaults to 200 ms (like Linux), not RFC 6298 §2.4's 1 s SHOULD.
#include "utcp/time.hpp"

namespace utcp::tcp {

struct RtoConfig {
  Duration min{200'000};
  Duration initial{1'000'000};  // RFC 6298 §2.1
  Duration max{60'000'000};     // RFC 6298 §2.5 allows an upper bound of at least 60 s
  Duration granularity{1'000};  // G, the clock granularity in RFC 6298 §2
};

class RtoEstimator {
 public:
  explicit RtoEstimator(RtoConfig cfg = {});

  // RFC 6298 §2.2 (first sample) / §2.3 (later): alpha 1/8, beta 1/4, K 4. Negative samples
  // are ignored.
  void on_sample(Duration rtt);
  // Current RTO including backoff, clamped to [min, max].
  Duration rto() const;
  // RFC 6298 §5.5: double the timer (bounded by max).
  void backoff();
  // Collapses the backoff. Karn's rule (RFC 6298 §3 and the note after §5.7): keep the backed-off
  // RTO until a valid RTT sample arrives, i.e. call this with (after) on_sample(), not for an
  // ACK that only covers retransmitted data.
  void reset_backoff() { backoff_ = 0; }
  unsigned backoff_count() const { return backoff_; }

  bool has_sample() const { return has_sample_; }
  Duration srtt() const { return srtt_; }
  Duration rttvar() const { return rttvar_; }
  const RtoConfig& config() const { return cfg_; }

  // Back to the initial state (e.g. RFC 6298 §5.7 after SYN timeouts).
  void reset();

 private:
  Duration base_rto() const;  // before backoff and clamping

  RtoConfig cfg_;
  Duration srtt_{0};
  Duration rttvar_{0};
  bool has_sample_ = false;
  unsigned backoff_ = 0;
};

}  // namespace utcp::tcp
