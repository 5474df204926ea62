// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// One small interface for congestion controllers (RFC 5681 and successors). The sender owns
// dup-ACK counting, recovery points and retransmission; the controller only sizes cwnd/ssthresh.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string_view>

#include "utcp/time.hpp"

namespace utcp::tcp {

class CongestionControl {
 public:
  virtual ~CongestionControl() = default;
  virtual const char* name() const = 0;
  // RFC 6928 IW = min(10*MSS, max(2*MSS, 14600)) for 10 segments.
  virtual void init(uint32_t mss, uint32_t initial_window_segments) = 0;
  virtual void set_mss(uint32_t mss) = 0;
  virtual uint32_t cwnd() const = 0;
  virtual uint32_t ssthresh() const = 0;
  // New data acked, not in recovery: slow start / congestion avoidance (RFC 5681 §3.1; slow
  // start counts every byte an ACK covers, see slow_start_cwnd()).
  virtual void on_ack(uint32_t bytes_acked, uint32_t flight_size, Instant now) = 0;
  // RFC 5681 §3.2 steps 2-3: ssthresh = max(FlightSize/2, 2*SMSS); cwnd = ssthresh + 3*SMSS.
  virtual void on_fast_retransmit(uint32_t flight_size, Instant now) = 0;
  // RFC 5681 §3.2 step 4: cwnd += SMSS.
  virtual void on_recovery_dup_ack() = 0;
  // RFC 5681 §3.2 step 6: cwnd = ssthresh.
  virtual void on_recovery_exit() = 0;
  // RFC 5681 §3.1 eq. 4 ssthresh, cwnd = LW = 1*SMSS.
  virtual void on_rto(uint32_t flight_size, Instant now) = 0;
  // RFC 5681 §4.1: restart window when idle > RTO.
  virtual void on_idle(Duration idle, Duration rto) = 0;

  // Optional hooks (default: ignored). An RTT sample and the smoothed RTT after it.
  virtual void on_rtt_sample(Duration /*rtt*/, Duration /*srtt*/) {}
  // RFC 3168 §6.1.2: an ECN-Echo reduces the window once per window of data, without a
  // retransmission; by default the same arithmetic as a fast retransmit with no inflation.
  virtual void on_ecn_echo(uint32_t flight_size, Instant now) {
    on_fast_retransmit(flight_size, now);
    on_recovery_exit();
  }
  // RFC 7661 (see cwnd_validation.hpp): an ACK came while the flow did not use its cwnd, so
  // on_ack() was not called; `elapsed` since the previous ACK was not congestion-limited time
  // (RFC 9438 §5.8: CUBIC's t excludes it).
  virtual void on_not_cwnd_limited(Duration /*elapsed*/) {}
  // RFC 7661 §4.4: cwnd stayed unused for the whole non-validated period: remember it in
  // ssthresh (at least 3/4 of it), then halve it, not below the initial window.
  virtual void on_nvp_expired() = 0;
  // RFC 3522 / RFC 9438 §4.9: the last reduction was spurious; restore the state before it.
  virtual void on_spurious_undo() {}
};

// Slow start's growth for one ACK of `bytes_acked`: cwnd += bytes acked, however many segments
// the ACK covers, and never past ssthresh. This is RFC 3465 byte counting with no per-ACK limit
// L (RFC 3465 §2.3 suggests L = 2*SMSS; RFC 5681 §3.1 one SMSS), as Linux grows cwnd in slow
// start (tcp_slow_start). A receiver behind GRO/LRO acknowledges a burst of segments with one
// stretch ACK; with L = 2*SMSS an ACK of ten segments grew cwnd by two and slow start against
// such receivers crawled (docs/netsim.md "Stretch ACKs": 25.8 instead of 55 Mbit/s for an ACK
// per 16 segments on a 100 Mbit/s, 40 ms path). Counting bytes still defeats ACK division
// (RFC 3465 §2.2); capping at ssthresh ends slow start where RFC 5681 §3.1 switches to
// congestion avoidance.
inline uint64_t slow_start_cwnd(uint64_t cwnd, uint64_t bytes_acked, uint64_t ssthresh) {
  if (cwnd >= ssthresh) return cwnd;
  return std::min(cwnd + bytes_acked, ssthresh);
}

// "reno", "newreno" (the same window arithmetic; RFC 6582 partial ACKs live in the sender),
// "cubic"; nullptr if the name is unknown.
std::unique_ptr<CongestionControl> make_congestion_control(std::string_view name);

}  // namespace utcp::tcp
