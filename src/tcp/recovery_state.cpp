// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/recovery_state.hpp"

namespace utcp::tcp {

RecoveryState::AckKind RecoveryState::on_ack(wire::SeqNum snd_una, bool new_ack) {
  if (!in_recovery_) return AckKind::kNone;
  if (!new_ack) return AckKind::kDup;
  // RFC 6582 §3.2 step 3: an ACK covering `recover` (SND.UNA > recover - 1) ends recovery.
  if (snd_una >= recover_) {
    in_recovery_ = false;
    return AckKind::kFull;
  }
  // Step 4: a partial ACK; the sender retransmits the first unacknowledged segment, deflates
  // cwnd by the amount acknowledged (adding back one SMSS) and resets the RTO on the first one.
  ++partial_acks_;
  return AckKind::kPartial;
}

}  // namespace utcp::tcp
