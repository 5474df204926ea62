// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/cwnd_validation.hpp"

namespace utcp::tcp {

void CwndValidation::on_transmit(uint32_t flight, wire::SeqNum snd_max) {
  cur_ = std::max(cur_, flight);
  if (!round_open_) {
    round_open_ = true;
    round_end_ = snd_max;
  }
}

Duration CwndValidation::on_ack(wire::SeqNum snd_una, wire::SeqNum snd_max, Instant now) {
  const Duration since = last_ack_ == Instant{} ? Duration{0} : now - last_ack_;
  last_ack_ = now;
  if (!round_open_ || snd_una < round_end_) return since;
  // One round trip is over: it becomes the previous one, and the next starts with what is
  // still in flight.
  prev_ = cur_;
  cur_ = snd_max.distance_from(snd_una);
  round_open_ = snd_max > snd_una;
  round_end_ = snd_max;
  return since;
}

bool CwndValidation::nvp_expired(uint32_t cwnd, Instant now) {
  if (validated(cwnd)) {
    unvalidated_ = false;
    return false;
  }
  if (!unvalidated_) {
    unvalidated_ = true;
    unvalidated_since_ = now;
    return false;
  }
  if (now - unvalidated_since_ <= kNvp) return false;
  unvalidated_since_ = now;
  return true;
}

}  // namespace utcp::tcp
