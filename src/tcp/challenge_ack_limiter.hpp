// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// RFC 5961 §7: limits on challenge ACKs, so a blind attacker cannot turn the stack into an ACK
// amplifier, nor read one connection's state off another's ACKs (CVE-2016-5696).
//
// Two limits. Stack-wide, a token bucket of `per_second` tokens (one second of burst, default
// 1000 like Linux's old tcp_challenge_ack_limit). Per connection, a second, much smaller bucket
// (default 2 per second, Linux's tcp_invalid_ratelimit of 500 ms) kept in the connection: an
// attacker's own connection then sees at most its own budget, which does not depend on how
// many challenge ACKs other connections sent, as long as the stack-wide budget is not spent.
// With a jitter seed, the stack-wide budget is drawn afresh every second, uniform in
// [per_second/2, 3*per_second/2) as Linux does, so even exhausting it reveals no exact count.
#include <cstdint>

#include "utcp/time.hpp"

namespace utcp::tcp {

// A token bucket's state: tokens in millionths, refilled continuously at a rate the owner
// keeps, at most one second's worth. Small, as every connection holds one.
class TokenBucket {
 public:
  // True (and one token spent) when a token is available at `now`.
  bool take(Instant now, uint32_t per_second);
  // Whether take() would succeed, without spending.
  bool available(Instant now, uint32_t per_second);

 private:
  static constexpr uint64_t kUnits = 1'000'000;
  void refill(Instant now, uint32_t per_second);

  uint64_t credit_ = 0;  // in kUnits; full on first use
  Instant last_{};
  bool started_ = false;
};

class ChallengeAckLimiter {
 public:
  // A connection's own budget: kept in the connection, lent to allow().
  class ConnectionBudget {
   private:
    friend class ChallengeAckLimiter;
    TokenBucket bucket_;
  };

  // per_connection 0: no per-connection limit. jitter_seed 0: no jitter (a plain bucket).
  explicit ChallengeAckLimiter(uint32_t per_second = 1000, uint32_t per_connection = 0,
                               uint64_t jitter_seed = 0);

  // Stack-wide limit only: true (and one token spent) when a challenge ACK may be sent at `now`.
  bool allow(Instant now);
  // Both limits: the connection's budget first (a refusal there spends nothing stack-wide).
  bool allow(Instant now, ConnectionBudget& conn);
  uint32_t per_second() const { return per_second_; }
  uint32_t per_connection() const { return per_connection_; }
  // How many connections' challenge ACKs were allowed and refused (the stack's counters).
  uint64_t sent() const { return sent_; }
  uint64_t limited() const { return limited_; }

 private:
  bool allow_jittered(Instant now);
  uint64_t next_random();

  uint32_t per_second_;
  uint32_t per_connection_;
  TokenBucket bucket_;  // without jitter
  // With jitter: one-second windows, each with a budget drawn from the seeded generator.
  bool jitter_ = false;
  uint64_t rng_ = 0;  // splitmix64 state
  Instant window_end_{};
  bool window_started_ = false;
  uint32_t window_left_ = 0;
  uint64_t sent_ = 0;
  uint64_t limited_ = 0;
};

}  // namespace utcp::tcp
