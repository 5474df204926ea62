#include "tcp/challenge_ack_limiter.hpp"

#include <algorithm>

namespace utcp::tcp {

ChallengeAckLimiter::ChallengeAckLimiter(uint32_t per_second)
    : per_second_(per_second), credit_(uint64_t{per_second} * kUnitsPerToken) {}

bool ChallengeAckLimiter::allow(Instant now) {
  const uint64_t full = uint64_t{per_second_} * kUnitsPerToken;
  if (started_ && now > last_) {
    // Refill at per_second tokens per second; one second of refill already fills the bucket,
    // so clamping the elapsed time keeps the multiplication from overflowing.
    const int64_t elapsed_us = std::min<int64_t>((now - last_).count(), 1'000'000);
    credit_ = std::min(full, credit_ + static_cast<uint64_t>(elapsed_us) * per_second_);
  }
  if (!started_ || now > last_) last_ = now;
  started_ = true;
  // RFC 5961 §7: beyond the limit the challenge ACK is simply not sent.
  if (credit_ < kUnitsPerToken) return false;
  credit_ -= kUnitsPerToken;
  return true;
}

}  // namespace utcp::tcp
