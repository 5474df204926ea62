// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Tail Loss Probe (RFC 8985 §7): when the ACK clock stops at the tail of a flight, send one
// probe after PTO (about two RTTs) instead of waiting for the RTO, and notice when that probe
// alone repaired a loss so congestion control still reacts.
#include <cstdint>
#include <optional>

#include "utcp/time.hpp"
#include "wire/seq_num.hpp"

namespace utcp::tcp {

class TailLossProbe {
 public:
  // RFC 8985 §7.2 TLP.max_ack_delay: the worst-case delayed-ACK timer (RFC 9293 allows 500 ms;
  // 200 ms is what stacks use).
  static constexpr Duration kMaxAckDelay{200'000};

  // RFC 8985 §7.2 TLP_calc_PTO(): the deadline for a probe, never after the RTO deadline.
  static Instant pto_deadline(std::optional<Duration> srtt, bool one_segment_in_flight, Instant now,
                              Instant rto_deadline);

  // §7.1: fresh connection, fast recovery or RTO recovery.
  void reset() {
    end_seq_.reset();
    is_retrans_ = false;
  }
  // §7.3 conditions: no probe outstanding and an RTT sample since the last probe.
  bool may_probe() const { return !end_seq_ && rtt_sampled_since_probe_; }
  void on_rtt_sample() { rtt_sampled_since_probe_ = true; }
  // A probe went out ending at `end_seq` (SND.NXT after it); `retransmission` when it re-sent
  // the highest segment.
  void on_probe_sent(wire::SeqNum end_seq, bool retransmission) {
    end_seq_ = end_seq;
    is_retrans_ = retransmission;
    rtt_sampled_since_probe_ = false;
    ++probes_;
  }

  // §7.4.2 TLP_process_ack(): returns true when the probe repaired a loss and congestion
  // control must respond as to a fast recovery. `dsack_end` is the right edge of a D-SACK
  // block if the ACK carried one; `dup_without_sack` a duplicate ACK with no SACK option.
  bool on_ack(wire::SeqNum ack, std::optional<wire::SeqNum> dsack_end, bool dup_without_sack);

  bool outstanding() const { return end_seq_.has_value(); }
  std::optional<wire::SeqNum> end_seq() const { return end_seq_; }
  uint32_t probes() const { return probes_; }

 private:
  std::optional<wire::SeqNum> end_seq_;
  bool is_retrans_ = false;
  bool rtt_sampled_since_probe_ = true;
  uint32_t probes_ = 0;
};

}  // namespace utcp::tcp
