#pragma once
// One small interface for congestion controllers (RFC 5681 and successors). The sender owns
// dup-ACK counting, recovery points and retransmission; the controller only sizes cwnd/ssthresh.
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
  // New data acked, not in recovery: slow start / congestion avoidance (RFC 5681 §3.1, byte
  // counting with L = 2*SMSS).
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
  // RFC 3522 / RFC 9438 §4.9: the last reduction was spurious; restore the state before it.
  virtual void on_spurious_undo() {}
};

// "reno", "newreno" (the same window arithmetic; RFC 6582 partial ACKs live in the sender),
// "cubic"; nullptr if the name is unknown.
std::unique_ptr<CongestionControl> make_congestion_control(std::string_view name);

}  // namespace utcp::tcp
