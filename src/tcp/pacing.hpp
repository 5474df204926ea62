// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Sender pacing: spreads new data over the round trip instead of sending each window as one
// burst, as Linux's internal TCP pacing does. A burst as long as a window fills a shallow queue
// on the path (a switch buffer, a delay line) at once and loses packets that an evenly spaced
// window of the same size would not; nothing in RFC 5681 or RFC 9438 requires the burst.
//
// The rate follows Linux's tcp_update_pacing_rate: max(cwnd, flight) / srtt, times 200 % while
// cwnd < ssthresh / 2 (slow start: the window doubles per round, so the next round needs twice
// the current rate) and 120 % after. Without an RTT sample there is no rate and nothing is held.
//
// Release times work as a virtual-time token bucket (GCRA): every byte sent moves `tat_` (when
// the bytes sent so far would have drained at the rate) by bytes / rate. Sending goes on while
// tat_ stays within one quantum of now; past that the pacer holds until tat_ itself, so data
// leaves in quanta (about 1 ms of the rate, clamped to [min segments, 64 KiB or one TSO
// segment]) and the caller needs one timer per quantum, never one per packet. Time is passed
// in; nothing here reads a clock or allocates.
#include <cstdint>

#include "utcp/time.hpp"

namespace utcp::tcp {

struct PacerConfig {
  bool enabled = true;
  uint32_t ss_ratio_percent = 200;  // Linux's tcp_pacing_ss_ratio
  uint32_t ca_ratio_percent = 120;  // Linux's tcp_pacing_ca_ratio
  Duration quantum_time{1'000};     // a quantum holds this long of the rate (Linux: ~1 ms)
  uint32_t quantum_min_segments = 10;
  uint32_t quantum_max_bytes = 64 * 1024;  // raised to the TSO segment size if larger
};

class Pacer {
 public:
  explicit Pacer(const PacerConfig& cfg = {}) : cfg_(cfg) {}

  // Bytes per second for this window; 0 = unpaced (pacing off or no RTT sample yet).
  uint64_t rate(uint64_t cwnd, uint64_t ssthresh, uint64_t flight, Duration srtt) const;
  // Bytes that may leave back to back at `rate` (0 when unpaced).
  uint64_t quantum(uint64_t rate, uint32_t mss) const;

  // May new data leave at `now`?
  bool holds(Instant now) const { return now < release_; }
  // When holds() turns false (a past instant when it is already false).
  Instant release_time() const { return release_; }
  // `bytes` left at `now`, sent at `rate` with bursts of `quantum` bytes.
  void on_sent(uint64_t bytes, Instant now, uint64_t rate, uint64_t quantum);

  const PacerConfig& config() const { return cfg_; }
  void set_max_quantum(uint32_t bytes) { cfg_.quantum_max_bytes = bytes; }

 private:
  PacerConfig cfg_;
  int64_t tat_ns_ = INT64_MIN;  // theoretical drain time of everything sent, in ns
  Instant release_{};           // new data is held until then
};

}  // namespace utcp::tcp
