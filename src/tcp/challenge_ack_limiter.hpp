#pragma once
// RFC 5961 §7: a stack-wide cap on challenge ACKs, so a blind attacker cannot turn the stack into
// an ACK amplifier. A token bucket holding at most one second's worth of tokens; the engine asks
// allow() before sending each challenge ACK. Default 1000 per second, like Linux.
#include <cstdint>

#include "utcp/time.hpp"

namespace utcp::tcp {

class ChallengeAckLimiter {
 public:
  explicit ChallengeAckLimiter(uint32_t per_second = 1000);

  // True (and one token spent) when a challenge ACK may be sent at `now`.
  bool allow(Instant now);
  uint32_t per_second() const { return per_second_; }

 private:
  static constexpr uint64_t kUnitsPerToken = 1'000'000;  // tokens kept in 1/1e6 units

  uint32_t per_second_;
  uint64_t credit_;  // in kUnitsPerToken units, at most per_second_ tokens
  Instant last_{};
  bool started_ = false;
};

}  // namespace utcp::tcp
