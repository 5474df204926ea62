// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// ACK-train slow-start exit, the second detector of hybrid slow start ([HR11], the "ACK train"
// idea Linux's CUBIC runs beside the delay rule): in slow start, the ACKs of one round arrive
// back to back (each within kAckSpacing of the previous) for as long as the sender kept the path
// busy. Once such a train lasts longer than a fraction of the minimum RTT, the window has
// reached that fraction of the path's bandwidth-delay product, and slow start ends before it
// overshoots. RFC 9438 §4.10 allows other slow-start algorithms than HyStart++, and RFC 9406
// §4.2 only defines the delay rule; docs/conformance.md records the choice.
//
// Rounds are counted by acknowledged bytes, as in HyStart (hystart.hpp): a round ends once a
// window's worth of data has been acknowledged.
#include <cstdint>

#include "utcp/time.hpp"

namespace utcp::tcp {

class AckTrain {
 public:
  // ACKs further apart than this end the train (a gap: the sender was idle or the ACKs bunched).
  static constexpr Duration kAckSpacing{2000};
  // Below this window (in segments) a train says nothing: a few ACKs always arrive together.
  static constexpr uint32_t kMinWindowSegments = 16;

  // `threshold_percent` of the minimum RTT that a train must span for the exit. An unpaced
  // sender sends a round in a burst, so its ACKs spread only through the bottleneck: half the
  // minimum RTT means cwnd reached half the BDP, and cwnd doubles in that round (50). A paced
  // sender spreads each round itself over srtt / ss_ratio, so only a train of a whole minimum
  // RTT says the path, not the pacer, spread it (100).
  explicit AckTrain(unsigned threshold_percent = 100) : threshold_percent_(threshold_percent) {}

  // A fresh slow start (connection start or after an RTO); the minimum RTT is kept.
  void reset(uint32_t cwnd);
  void on_rtt_sample(Duration rtt);
  // A slow-start ACK of `bytes_acked` at `now`, window `cwnd`, segment size `mss`. Returns true
  // once (the train of this round spans the threshold): the caller ends slow start.
  bool on_ack(Instant now, uint32_t bytes_acked, uint32_t cwnd, uint32_t mss);

  bool exited() const { return exited_; }
  Duration min_rtt() const { return min_rtt_; }
  // The longest train seen in any round (for tests and stats).
  Duration longest_train() const { return longest_; }

 private:
  void start_round(Instant now, uint32_t cwnd);

  // Ordered by alignment: no padding.
  uint64_t round_bytes_ = 0;
  Instant round_start_{};
  Instant last_ack_{};
  Duration min_rtt_ = Duration::max();
  Duration longest_{0};
  uint32_t round_target_ = 0;
  unsigned threshold_percent_;
  bool round_open_ = false;  // false until the first ACK of a round
  bool train_ = false;       // the current round's ACKs are still back to back
  bool exited_ = false;
};

}  // namespace utcp::tcp
