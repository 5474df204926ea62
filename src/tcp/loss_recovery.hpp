// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The sender's loss recovery, assembled from its parts: duplicate-ACK counting, the SACK
// scoreboard and RFC 6675 recovery (entry, NextSeg, rescue), Proportional Rate Reduction to size
// what recovery sends (RFC 6937), limited transmit (RFC 3042), NewReno partial ACKs for peers
// without SACK (RFC 6582), RACK-TLP (RFC 8985), and undo of spurious reductions with timestamps
// (RFC 3522 Eifel detection) or D-SACK (RFC 2883 §5). The sender owns the sequence space and
// the send buffer; this class decides what to retransmit and when recovery starts and ends, and
// drives the congestion controller's reductions.
#include <cstdint>
#include <optional>
#include <span>

#include "tcp/congestion_control.hpp"
#include "tcp/prr.hpp"
#include "tcp/rack.hpp"
#include "tcp/recovery_state.hpp"
#include "tcp/sack_scoreboard.hpp"
#include "tcp/tlp.hpp"
#include "utcp/time.hpp"
#include "wire/seq_num.hpp"
#include "wire/tcp.hpp"

namespace utcp::tcp {

struct LossRecoveryOptions {
  bool rack = true;  // RFC 8985 RACK loss detection and TLP, on by default as in Linux
  Prr::Bound prr_bound = Prr::Bound::kSlowStart;
};

// One acceptable ACK, as the sender saw it.
struct AckInput {
  wire::SeqNum snd_una;  // after the ACK
  wire::SeqNum snd_max;  // HighData
  uint32_t acked = 0;    // bytes SND.UNA advanced
  bool dup = false;      // RFC 5681 §2 duplicate ACK (same ACK, no data, same window)
  std::span<const wire::SackBlock> sacks;
  std::optional<uint32_t> tsecr;       // the ACK's echoed timestamp, if any
  std::optional<Duration> rtt_sample;  // what the RTO estimator just took, if anything
  Duration srtt{0};
  uint32_t mss = 536;
  Instant now{};
};

struct AckOutcome {
  uint32_t delivered = 0;   // acked + newly SACKed bytes (RFC 6937 DeliveredData)
  bool entered = false;     // recovery started on this ACK (cwnd already reduced)
  bool exited = false;      // recovery ended on this ACK (cwnd = ssthresh, or undone)
  bool undone = false;      // the last reduction was spurious and has been undone
  bool tlp_repair = false;  // a loss probe alone repaired a loss: cwnd was reduced
  std::optional<SeqSpan> dsack;
  bool reneged = false;
};

// What the sender should put on the wire next.
struct SendChoice {
  enum class Kind { kNone, kRetransmit, kNewData };
  Kind kind = Kind::kNone;
  wire::SeqNum seq;  // kRetransmit
  uint32_t len = 0;  // kRetransmit: bytes; kNewData: most bytes allowed
  bool rescue = false;
};

class LossRecovery {
 public:
  static constexpr unsigned kDupThresh = 3;  // RFC 5681 §3.2, RFC 6675 §2

  explicit LossRecovery(LossRecoveryOptions opt = {}) : opt_(opt) {}

  void set_sack(bool on) { sack_ = on; }
  bool sack() const { return sack_; }
  bool rack_enabled() const { return opt_.rack && sack_; }
  // The RTT sample of the handshake, which on_ack never sees (RFC 8985 §6.2 step 1).
  void on_handshake_rtt(Duration rtt, Instant now) { rack_.on_rtt_sample(rtt, now); }

  // Every acceptable ACK. Calls cc.on_fast_retransmit / on_recovery_exit / on_spurious_undo as
  // the episode requires; outside recovery the caller grows cwnd as usual (cc.on_ack).
  AckOutcome on_ack(const AckInput& in, CongestionControl& cc);

  // In recovery: what may go next (RFC 6675 NextSeg within the PRR allowance). Outside
  // recovery: kNone (the sender's normal path runs). `new_data` = bytes of unsent data the
  // receive window allows from SND.NXT.
  SendChoice next(wire::SeqNum snd_una, wire::SeqNum snd_max, uint32_t new_data,
                  uint32_t mss) const;
  // RFC 3042: extra bytes beyond cwnd for new data on the first two duplicate ACKs.
  uint32_t limited_transmit_allowance(uint32_t mss) const;
  // After an RTO rewinds SND.NXT: the first byte at or after `seq` not already SACKed.
  wire::SeqNum skip_sacked(wire::SeqNum seq) const;

  // Something was transmitted; `tsval` is the timestamp it carried (0 without timestamps).
  void on_transmit(wire::SeqNum seq, uint32_t len, bool retransmission, bool rescue, uint32_t tsval,
                   Instant now);
  // RFC 6298 retransmission timeout (RFC 6675 §5.1, RFC 8985 §6.3, RFC 6582 step 1).
  void on_rto(wire::SeqNum snd_una, wire::SeqNum snd_max, Instant now);

  // RACK reordering timer / TLP: when the caller should call on_loss_timer() (kNever = none).
  Instant loss_timer(wire::SeqNum snd_una, wire::SeqNum snd_max, uint32_t mss,
                     std::optional<Duration> srtt, Instant rto_deadline, Instant now) const;
  struct TimerAction {
    bool probe = false;    // send a TLP: new data if possible, else the last segment
    bool entered = false;  // RACK found losses: recovery began
  };
  TimerAction on_loss_timer(wire::SeqNum snd_una, wire::SeqNum snd_max, Duration srtt, uint32_t mss,
                            Instant now, CongestionControl& cc);
  // The TLP went out: [.., end) and whether it was a retransmission.
  void on_probe_sent(wire::SeqNum end, bool retransmission) {
    tlp_.on_probe_sent(end, retransmission);
  }

  bool in_recovery() const { return rec_.in_recovery(); }
  unsigned dup_acks() const { return dup_acks_; }
  uint32_t pipe(wire::SeqNum snd_una, wire::SeqNum snd_max, uint32_t mss) const;
  const SackScoreboard& scoreboard() const { return sb_; }
  const Rack& rack() const { return rack_; }
  const TailLossProbe& tlp() const { return tlp_; }
  const Prr& prr() const { return prr_; }
  wire::SeqNum recovery_point() const { return rec_.recover(); }

  // Statistics (TCP_INFO).
  uint64_t recoveries() const { return recoveries_; }
  uint64_t undos() const { return undos_; }
  uint64_t dsacks() const { return dsacks_; }
  uint64_t retransmitted_segments() const { return retrans_segs_; }
  uint32_t lost_bytes(wire::SeqNum snd_una, wire::SeqNum snd_max, uint32_t mss) const;

  // Heap bytes of the scoreboard and the RACK log; freeing them while they hold nothing.
  size_t allocated() const { return sb_.allocated() + rack_.allocated(); }
  size_t releasable() const { return sb_.releasable() + rack_.releasable(); }
  void release_idle_memory() {
    sb_.release_if_empty();
    rack_.release_if_empty();
  }

 private:
  void enter(wire::SeqNum snd_una, wire::SeqNum snd_max, CongestionControl& cc, Instant now);
  void exit(CongestionControl& cc);
  bool rack_lost_pending(const RackSegment** first) const;

  // Members ordered by alignment (8, 4, 1 bytes) so the object carries no padding: one per
  // connection.
  SackScoreboard sb_;
  Rack rack_;
  Prr prr_;
  Instant rack_timer_ = kNever;
  uint64_t recoveries_ = 0;
  uint64_t undos_ = 0;
  uint64_t dsacks_ = 0;
  uint64_t retrans_segs_ = 0;

  RecoveryState rec_;
  TailLossProbe tlp_;
  unsigned dup_acks_ = 0;
  uint32_t rxt_outstanding_ = 0;  // without SACK: bytes retransmitted since the last advance
  // Undo bookkeeping for the current episode (fast recovery or RTO).
  uint32_t rxt_tsval_ = 0;      // timestamp on the episode's first retransmission
  uint32_t episode_rxt_ = 0;    // segments retransmitted in the episode
  uint32_t episode_dsack_ = 0;  // of those, reported as duplicates
  wire::SeqNum episode_start_;
  bool episode_ = false;
  bool undo_ok_ = false;  // no evidence yet that a retransmission was needed
  bool rxt_ts_valid_ = false;

  LossRecoveryOptions opt_;
  bool sack_ = false;
  bool force_first_ = false;  // RFC 6675 §5 step 4.3 / RFC 6582 step 4: resend SND.UNA now
};

}  // namespace utcp::tcp
