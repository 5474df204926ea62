// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The connection's timers as plain deadlines. The connection reports the earliest one as its
// next deadline; the stack calls on_timeout() at or after it. Nothing here reads a clock.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

#include "utcp/time.hpp"

namespace utcp::tcp {

enum class TimerKind : uint8_t {
  kRetransmit,     // RFC 6298 §5: one timer for the oldest unacknowledged segment (SYN, data, FIN)
  kPersist,        // RFC 9293 §3.8.6.1: zero-window probes (and the SWS override, §3.8.6.2.1)
  kDelayedAck,     // RFC 9293 §3.8.6.3 / RFC 5681 §4.2
  kKeepalive,      // RFC 1122 §4.2.3.6
  kTimeWait,       // RFC 9293 §3.10.7.4: 2*MSL
  kUserTimeout,    // RFC 9293 §3.10.8 / RFC 5482: data unacknowledged for too long
  kLossDetection,  // RFC 8985: RACK reordering timer or the tail loss probe (PTO)
  kPacing,         // the pacer's release time for held new data (pacing.hpp)
};
inline constexpr size_t kTimerKinds = 8;

constexpr std::string_view to_string(TimerKind k) {
  switch (k) {
    case TimerKind::kRetransmit:
      return "retransmit";
    case TimerKind::kPersist:
      return "persist";
    case TimerKind::kDelayedAck:
      return "delayed-ack";
    case TimerKind::kKeepalive:
      return "keepalive";
    case TimerKind::kTimeWait:
      return "time-wait";
    case TimerKind::kUserTimeout:
      return "user-timeout";
    case TimerKind::kLossDetection:
      return "loss-detection";
    case TimerKind::kPacing:
      return "pacing";
  }
  return "?";
}

class Timers {
 public:
  Timers() { at_.fill(kNever); }
  void set(TimerKind k, Instant when) { at_[index(k)] = when; }
  // Arms the timer only if it is not already running (RFC 6298 §5.1 style).
  void set_if_idle(TimerKind k, Instant when) {
    if (!running(k)) set(k, when);
  }
  void stop(TimerKind k) { at_[index(k)] = kNever; }
  void stop_all() { at_.fill(kNever); }
  bool running(TimerKind k) const { return at_[index(k)] != kNever; }
  Instant at(TimerKind k) const { return at_[index(k)]; }
  bool expired(TimerKind k, Instant now) const { return running(k) && at_[index(k)] <= now; }
  Instant next() const { return *std::min_element(at_.begin(), at_.end()); }

 private:
  static size_t index(TimerKind k) { return static_cast<size_t>(k); }
  std::array<Instant, kTimerKinds> at_;
};

}  // namespace utcp::tcp
