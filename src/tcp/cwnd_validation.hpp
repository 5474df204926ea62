// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Congestion-window validation (RFC 7661): cwnd may only grow while the flow actually uses it.
// A sender held back by the application or by its send buffer would otherwise keep growing
// cwnd on every ACK to sizes the path never carried, and then burst into them. The sender
// asks validated() before it lets the congestion controller grow cwnd, for every controller.
//
// RFC 7661 §4.3 calls the sender validated when pipeACK >= cwnd / 2. pipeACK is approximated,
// as Linux's tcp_is_cwnd_limited does in slow start, by the largest FlightSize reached at a
// transmission during the current or the previous round trip (a round ends when SND.UNA passes
// the SND.MAX it started with): a flow that filled at least half its cwnd recently may grow it.
#include <algorithm>
#include <cstdint>

#include "utcp/time.hpp"
#include "wire/seq_num.hpp"

namespace utcp::tcp {

class CwndValidation {
 public:
  // RFC 7661 §4.2: the non-validated period after which an unused cwnd is reduced.
  static constexpr Duration kNvp{300'000'000};

  // New data went out; `flight` is SND.MAX - SND.UNA after it.
  void on_transmit(uint32_t flight, wire::SeqNum snd_max);
  // SND.UNA advanced to `snd_una` at `now`: the round ends when it passes the round's end.
  // Returns the time since the previous such ACK (zero for the first).
  Duration on_ack(wire::SeqNum snd_una, wire::SeqNum snd_max, Instant now);

  // RFC 7661 §4.3: the recent flight reached at least half of cwnd.
  bool validated(uint32_t cwnd) const { return 2 * uint64_t{max_flight()} >= cwnd; }
  // The largest FlightSize seen in the current and the previous round.
  uint32_t max_flight() const { return std::max(prev_, cur_); }

  // Tracks how long the flow has been non-validated; true once that lasted longer than the
  // NVP (RFC 7661 §4.4), when the sender should reduce cwnd (and the clock starts again).
  bool nvp_expired(uint32_t cwnd, Instant now);

 private:
  uint32_t prev_ = 0;
  uint32_t cur_ = 0;
  bool round_open_ = false;
  wire::SeqNum round_end_;
  Instant last_ack_{};
  bool unvalidated_ = false;
  Instant unvalidated_since_{};
};

}  // namespace utcp::tcp
