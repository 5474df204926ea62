// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/ack_train.hpp"

#include <algorithm>

namespace utcp::tcp {

void AckTrain::reset(uint32_t cwnd) {
  exited_ = false;
  round_open_ = false;
  train_ = false;
  round_bytes_ = 0;
  round_target_ = std::max<uint32_t>(cwnd, 1);
}

void AckTrain::on_rtt_sample(Duration rtt) {
  if (rtt > Duration::zero()) min_rtt_ = std::min(min_rtt_, rtt);
}

void AckTrain::start_round(Instant now, uint32_t cwnd) {
  round_bytes_ = 0;
  round_target_ = std::max<uint32_t>(cwnd, 1);
  round_start_ = now;
  last_ack_ = now;
  round_open_ = true;
  train_ = true;
}

bool AckTrain::on_ack(Instant now, uint32_t bytes_acked, uint32_t cwnd, uint32_t mss) {
  if (exited_) return false;
  if (!round_open_) {
    // The first ACK of a round starts its train.
    start_round(now, cwnd);
  } else if (train_ && now - last_ack_ <= kAckSpacing) {
    last_ack_ = now;
  } else {
    train_ = false;  // a gap: this round's train is over
  }
  round_bytes_ += bytes_acked;
  if (round_bytes_ >= round_target_) round_open_ = false;  // the next ACK opens a new round

  const Duration span = last_ack_ - round_start_;
  longest_ = std::max(longest_, span);
  if (!train_ || min_rtt_ == Duration::max()) return false;
  if (uint64_t{cwnd} < uint64_t{kMinWindowSegments} * std::max<uint32_t>(mss, 1)) return false;
  if (span * 100 >= min_rtt_ * threshold_percent_) {
    exited_ = true;
    return true;
  }
  return false;
}

}  // namespace utcp::tcp
