// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/tlp.hpp"

namespace utcp::tcp {

Instant TailLossProbe::pto_deadline(std::optional<Duration> srtt, bool one_segment_in_flight,
                                    Instant now, Instant rto_deadline) {
  // RFC 8985 §7.2: 2*SRTT (+ max_ack_delay for a single segment), 1 s without an SRTT, and no
  // later than the RTO.
  Duration pto{1'000'000};
  if (srtt) {
    pto = 2 * *srtt;
    if (one_segment_in_flight) pto += kMaxAckDelay;
  }
  const Instant at = now + pto;
  return at > rto_deadline ? rto_deadline : at;
}

bool TailLossProbe::on_ack(wire::SeqNum ack, std::optional<wire::SeqNum> dsack_end,
                           bool dup_without_sack) {
  if (!end_seq_ || ack < *end_seq_) return false;
  if (!is_retrans_) {
    end_seq_.reset();  // a new-data probe was delivered
    return false;
  }
  if (dsack_end && *dsack_end == *end_seq_) {
    end_seq_.reset();  // case 1: both the original and the probe arrived
    return false;
  }
  if (ack > *end_seq_) {
    end_seq_.reset();  // the probe repaired a single loss: react
    return true;
  }
  if (dup_without_sack) end_seq_.reset();  // case 2
  return false;
}

}  // namespace utcp::tcp
