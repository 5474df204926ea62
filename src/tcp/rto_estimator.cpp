// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/rto_estimator.hpp"

#include <algorithm>

namespace utcp::tcp {

RtoEstimator::RtoEstimator(RtoConfig cfg) : cfg_(cfg) {}

void RtoEstimator::on_sample(Duration rtt) {
  if (rtt < Duration::zero()) return;
  if (!has_sample_) {
    // RFC 6298 §2.2: SRTT <- R, RTTVAR <- R/2.
    srtt_ = rtt;
    rttvar_ = rtt / 2;
    has_sample_ = true;
    return;
  }
  // RFC 6298 §2.3: RTTVAR first (it uses the old SRTT), beta = 1/4, alpha = 1/8.
  const Duration err = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
  rttvar_ = (3 * rttvar_ + err) / 4;
  srtt_ = (7 * srtt_ + rtt) / 8;
}

Duration RtoEstimator::base_rto() const {
  if (!has_sample_) return cfg_.initial;  // RFC 6298 §2.1
  // RFC 6298 §2.2/§2.3: RTO <- SRTT + max(G, K*RTTVAR), K = 4.
  return srtt_ + std::max(cfg_.granularity, 4 * rttvar_);
}

Duration RtoEstimator::rto() const {
  // RFC 6298 §2.4/§2.5: clamp to [min, max]; §5.5: each backoff doubles the timer.
  Duration r = std::clamp(base_rto(), cfg_.min, cfg_.max);
  for (unsigned i = 0; i < backoff_ && r < cfg_.max; ++i) r *= 2;
  return std::min(r, cfg_.max);
}

void RtoEstimator::backoff() {
  // Keeps counting past the max (callers count retransmissions with it); rto() stays pinned.
  if (backoff_ < ~0u) ++backoff_;
}

void RtoEstimator::reset() {
  srtt_ = Duration{0};
  rttvar_ = Duration{0};
  has_sample_ = false;
  backoff_ = 0;
}

}  // namespace utcp::tcp
