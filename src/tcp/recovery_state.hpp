// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The sender's fast-recovery episode: entry at DupThresh duplicate ACKs (or a SACK/RACK loss),
// the recovery point, and RFC 6582 NewReno partial-ACK handling for peers without SACK.
#include <cstdint>

#include "wire/seq_num.hpp"

namespace utcp::tcp {

class RecoveryState {
 public:
  enum class AckKind {
    kNone,     // not in recovery, nothing to do
    kFull,     // RFC 6582 §3.2 step 3: recovery is over
    kPartial,  // RFC 6582 §3.2 step 4: retransmit the first unacknowledged segment
    kDup,      // RFC 5681 §3.2 step 4: another duplicate during recovery
  };

  // RFC 6582 §3.2 step 2: enter only if the cumulative ACK covers `recover` (so one window's
  // losses cause one reduction). recover_ is kept one past the highest byte sent, so duplicate
  // ACKs exactly at it are about later data (the §4.1 ACK heuristic's intent) and may enter.
  bool may_enter(wire::SeqNum snd_una) const { return !recover_valid_ || snd_una >= recover_; }
  // Enter recovery: recover = HighData (SND.MAX).
  void enter(wire::SeqNum snd_max) {
    in_recovery_ = true;
    recover_ = snd_max;
    recover_valid_ = true;
    partial_acks_ = 0;
  }
  // RFC 6582 §3.2 step 1 after an RTO: recover = HighData so stale dup ACKs do not re-enter.
  void on_rto(wire::SeqNum snd_max) {
    in_recovery_ = false;
    recover_ = snd_max;
    recover_valid_ = true;
  }
  // Every ACK: once SND.UNA reaches `recover` outside recovery, the entry rule holds until the
  // next episode, so the point is forgotten. Kept, it would compare as ahead of SND.UNA again
  // 2^31 bytes later (sequence numbers compare modulo 2^32, RFC 9293 §3.4) and block fast
  // recovery for the next 2^31 bytes.
  void on_snd_una(wire::SeqNum snd_una) {
    if (recover_valid_ && !in_recovery_ && snd_una >= recover_) recover_valid_ = false;
  }
  // Classifies an ACK that advanced SND.UNA to `snd_una` (new_ack) or a duplicate.
  AckKind on_ack(wire::SeqNum snd_una, bool new_ack);
  void exit() { in_recovery_ = false; }

  bool in_recovery() const { return in_recovery_; }
  wire::SeqNum recover() const { return recover_; }
  unsigned partial_acks() const { return partial_acks_; }

 private:
  bool in_recovery_ = false;
  bool recover_valid_ = false;
  wire::SeqNum recover_;
  unsigned partial_acks_ = 0;
};

}  // namespace utcp::tcp
