// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/challenge_ack_limiter.hpp"

#include <algorithm>

namespace utcp::tcp {

void TokenBucket::refill(Instant now, uint32_t per_second) {
  const uint64_t full = uint64_t{per_second} * kUnits;
  if (!started_) {
    credit_ = full;  // a new bucket starts with one second's worth
  } else if (now > last_) {
    // One second of refill already fills the bucket, so clamping the elapsed time keeps the
    // multiplication from overflowing.
    const int64_t elapsed_us = std::min<int64_t>((now - last_).count(), 1'000'000);
    credit_ = std::min(full, credit_ + static_cast<uint64_t>(elapsed_us) * per_second);
  }
  if (!started_ || now > last_) last_ = now;
  started_ = true;
}

bool TokenBucket::available(Instant now, uint32_t per_second) {
  refill(now, per_second);
  return credit_ >= kUnits;
}

bool TokenBucket::take(Instant now, uint32_t per_second) {
  if (!available(now, per_second)) return false;
  credit_ -= kUnits;
  return true;
}

ChallengeAckLimiter::ChallengeAckLimiter(uint32_t per_second, uint32_t per_connection,
                                         uint64_t jitter_seed)
    : per_second_(per_second),
      per_connection_(per_connection),
      jitter_(jitter_seed != 0),
      rng_(jitter_seed) {}

uint64_t ChallengeAckLimiter::next_random() {
  // splitmix64: deterministic for a seed on every platform.
  uint64_t z = (rng_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

bool ChallengeAckLimiter::allow_jittered(Instant now) {
  if (!window_started_ || now >= window_end_) {
    // A new one-second window with a budget in [per_second/2, 3*per_second/2) (as Linux since
    // the CVE-2016-5696 fix), so the count an observer sees before the budget runs out varies.
    window_started_ = true;
    window_end_ = now + Duration(1'000'000);
    const uint32_t half = (per_second_ + 1) / 2;
    window_left_ = per_second_ == 0 ? 0 : half + static_cast<uint32_t>(next_random() % per_second_);
  }
  if (window_left_ == 0) return false;
  --window_left_;
  return true;
}

bool ChallengeAckLimiter::allow(Instant now) {
  // RFC 5961 §7: beyond the limit the challenge ACK is simply not sent.
  return jitter_ ? allow_jittered(now) : bucket_.take(now, per_second_);
}

bool ChallengeAckLimiter::allow(Instant now, ConnectionBudget& conn) {
  if (per_connection_ != 0) {
    // Checked before, spent after the stack-wide limit: a connection refused stack-wide keeps
    // its own token, and a connection over its own budget takes nothing from the others.
    if (!conn.bucket_.available(now, per_connection_)) {
      ++limited_;
      return false;
    }
  }
  if (!allow(now)) {
    ++limited_;
    return false;
  }
  if (per_connection_ != 0) conn.bucket_.take(now, per_connection_);
  ++sent_;
  return true;
}

}  // namespace utcp::tcp
