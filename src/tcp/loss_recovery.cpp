// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/loss_recovery.hpp"

#include <algorithm>

namespace utcp::tcp {

using wire::SeqNum;

namespace {
// RFC 7323 §5.2 timestamp order, modulo 2^32.
bool ts_before(uint32_t a, uint32_t b) {
  return static_cast<int32_t>(a - b) < 0;
}
}  // namespace

uint32_t LossRecovery::pipe(SeqNum snd_una, SeqNum snd_max, uint32_t mss) const {
  if (sack_) {
    const uint32_t sb_pipe = sb_.pipe(snd_max, mss);  // RFC 6675 §4 SetPipe
    if (!rack_enabled()) return sb_pipe;
    // RFC 8985 §6.2 marks segments lost that IsLost() does not see yet (fewer than DupThresh
    // segments SACKed above them). As SetPipe does for lost bytes (RFC 6675 §4, RFC 6937 §3),
    // such a segment is not in flight, and once retransmitted only the retransmission is;
    // counted in, the pipe stays above ssthresh and PRR holds recovery back until the RTO.
    int64_t p = sb_pipe;
    for (size_t i = 0; i < rack_.size(); ++i) {
      const RackSegment& s = rack_.at(i);
      if (s.sacked || s.end <= snd_una || !(s.lost || s.rxt_after_loss)) continue;
      const SackScoreboard::PipeShare share = sb_.pipe_share(s.seq, s.end, mss);
      p += int64_t{s.lost ? 0 : share.unsacked} - share.pipe;
    }
    return static_cast<uint32_t>(std::clamp<int64_t>(p, 0, UINT32_MAX));
  }
  // Without SACK each duplicate ACK stands for one segment that left the network (RFC 5681
  // §3.2's inflation argument), and retransmissions are back in it.
  const uint32_t flight = snd_max.distance_from(snd_una);
  const uint32_t left = std::min<uint64_t>(flight, uint64_t{dup_acks_} * mss);
  return flight - left + std::min(rxt_outstanding_, left);
}

void LossRecovery::enter(SeqNum snd_una, SeqNum snd_max, CongestionControl& cc, Instant now) {
  const uint32_t flight = snd_max.distance_from(snd_una);
  // RFC 6675 §5 step 4 / RFC 6582 §3.2 step 2: RecoveryPoint = HighData; ssthresh and cwnd
  // from the controller; RFC 6937 §3 RecoverFS = flight.
  rec_.enter(snd_max);
  cc.on_fast_retransmit(flight, now);
  prr_.enter(cc.ssthresh(), flight);
  sb_.reset_retransmit_marks();
  tlp_.reset();
  force_first_ = true;  // RFC 6675 §5 step 4.3: the first segment presumed lost goes now
  rxt_outstanding_ = 0;
  ++recoveries_;
  episode_ = true;
  undo_ok_ = true;
  rxt_ts_valid_ = false;
  episode_rxt_ = 0;
  episode_dsack_ = 0;
  episode_start_ = snd_una;
}

void LossRecovery::exit(CongestionControl& cc) {
  cc.on_recovery_exit();  // RFC 6675 §5 / RFC 6937: cwnd = ssthresh at the end
  rec_.exit();
  if (rack_enabled()) rack_.on_recovery_exit();
  dup_acks_ = 0;
  force_first_ = false;
}

AckOutcome LossRecovery::on_ack(const AckInput& in, CongestionControl& cc) {
  AckOutcome out;
  const bool advanced = in.acked > 0;
  const SeqNum una_before = in.snd_una - in.acked;
  rec_.on_snd_una(in.snd_una);
  uint32_t newly_sacked = 0;
  if (sack_) {
    const SackUpdate u = sb_.update(in.snd_una, in.snd_max, in.sacks);
    newly_sacked = u.newly_sacked;
    out.dsack = u.dsack;
    out.reneged = u.reneged;
    if (u.dsack) {
      ++dsacks_;
      if (episode_ && u.dsack->begin >= episode_start_) ++episode_dsack_;
    }
  }
  out.delivered = in.acked + newly_sacked;

  // RFC 5681 §2 duplicate ACKs; with SACK, RFC 6675 §2 counts ACKs that SACK new data.
  if (advanced) {
    dup_acks_ = 0;
    rxt_outstanding_ = 0;
  } else if (sack_ ? newly_sacked > 0 : in.dup) {
    ++dup_acks_;
  }

  if (rack_enabled()) {
    rack_.on_ack(in.snd_una, sb_.ranges(), out.dsack.has_value(), in.snd_max, in.rtt_sample,
                 in.now);
  }
  if (in.rtt_sample) tlp_.on_rtt_sample();
  {
    const std::optional<SeqNum> dsack_end =
        out.dsack ? std::optional<SeqNum>(out.dsack->end) : std::nullopt;
    const bool dup_without_sack = !advanced && in.dup && in.sacks.empty();
    // RFC 8985 §7.4.2: the probe alone repaired a loss; respond as to a fast recovery.
    if (tlp_.on_ack(in.snd_una, dsack_end, dup_without_sack) && !rec_.in_recovery()) {
      cc.on_ecn_echo(in.snd_max.distance_from(una_before), in.now);
      out.tlp_repair = true;
    }
  }

  // RFC 3522 §3.2 Eifel detection: the first ACK for retransmitted data echoes a timestamp from
  // before the retransmission, so the original arrived and the reduction was spurious.
  bool spurious = false;
  if (episode_ && undo_ok_ && advanced && rxt_ts_valid_ && in.tsecr && *in.tsecr != 0) {
    spurious = ts_before(*in.tsecr, rxt_tsval_);
    rxt_ts_valid_ = false;  // decided by this ACK either way
    if (!spurious) undo_ok_ = false;
  }
  // RFC 2883 §5 / RFC 3708: every retransmission of the episode came back as a duplicate.
  if (episode_ && undo_ok_ && episode_rxt_ > 0 && episode_dsack_ >= episode_rxt_) spurious = true;
  if (spurious) {
    const bool was = rec_.in_recovery();
    cc.on_spurious_undo();
    if (was) {
      rec_.exit();
      if (rack_enabled()) rack_.on_recovery_exit();
    }
    out.undone = true;
    out.exited = was;
    ++undos_;
    episode_ = false;
    force_first_ = false;
    dup_acks_ = 0;
    return out;
  }

  if (!rec_.in_recovery()) {
    bool lost = dup_acks_ >= kDupThresh;
    // RFC 6675 §5: enter when IsLost(HighACK + 1) even before three duplicate ACKs.
    if (sack_ && !sb_.empty() && sb_.is_lost(in.snd_una, in.mss)) lost = true;
    if (rack_enabled()) {
      const Duration t = rack_.detect_loss(in.now, false, in.srtt);
      rack_timer_ = t > Duration{0} ? in.now + t : kNever;
      if (rack_.any_lost()) lost = true;
    }
    if (lost && in.snd_una < in.snd_max && rec_.may_enter(in.snd_una)) {
      enter(in.snd_una, in.snd_max, cc, in.now);
      out.entered = true;
      prr_.on_ack(out.delivered, pipe(in.snd_una, in.snd_max, in.mss), in.mss);
    }
    return out;
  }

  // In recovery. RFC 6675 §5 / RFC 6582 step 3: a full ACK ends it.
  if (in.snd_una >= rec_.recover()) {
    exit(cc);
    out.exited = true;
    return out;
  }
  if (rack_enabled()) {
    const Duration t = rack_.detect_loss(in.now, true, in.srtt);
    rack_timer_ = t > Duration{0} ? in.now + t : kNever;
  }
  // RFC 6582 §3.2 step 4: a partial ACK without SACK means the next hole starts at SND.UNA.
  if (advanced && !sack_) force_first_ = true;
  prr_.on_ack(out.delivered, pipe(in.snd_una, in.snd_max, in.mss), in.mss);
  return out;
}

SendChoice LossRecovery::next(SeqNum snd_una, SeqNum snd_max, uint32_t new_data,
                              uint32_t mss) const {
  SendChoice c;
  if (!rec_.in_recovery()) return c;
  const uint32_t outstanding = snd_max.distance_from(snd_una);
  if (force_first_ && outstanding > 0 && !(sack_ && sb_.is_sacked(snd_una))) {
    // Sent whatever PRR says (RFC 6675 §5 step 4.3, RFC 6582 step 4).
    return SendChoice{SendChoice::Kind::kRetransmit, snd_una, std::min(mss, outstanding), false};
  }
  const uint32_t budget = prr_.remaining();
  if (budget == 0) return c;
  const uint32_t new_len = std::min(mss, new_data);
  if (sack_) {
    if (rack_enabled()) {
      // RFC 8985 §6.2 step 5: segments RACK deems lost go first, including lost retransmissions.
      const RackSegment* lost = nullptr;
      rack_.for_each_lost([&](const RackSegment& s) {
        if (lost == nullptr && s.end > snd_una) lost = &s;
      });
      if (lost != nullptr) {
        const SeqNum from = SeqNum::max(lost->seq, snd_una);
        const uint32_t len = std::min(mss, lost->end.distance_from(from));
        if (len <= budget) return SendChoice{SendChoice::Kind::kRetransmit, from, len, false};
        return c;
      }
    }
    const NextSegment n = sb_.next_seg(snd_max, mss, new_data > 0, rec_.recover());
    switch (n.kind) {
      case NextSegment::Kind::kRetransmit:
      case NextSegment::Kind::kRescue:
        if (n.len <= budget) {
          return SendChoice{SendChoice::Kind::kRetransmit, n.seq, n.len,
                            n.kind == NextSegment::Kind::kRescue};
        }
        return c;
      case NextSegment::Kind::kNewData:
        if (new_len > 0 && new_len <= budget) {
          return SendChoice{SendChoice::Kind::kNewData, snd_max, new_len, false};
        }
        return c;
      case NextSegment::Kind::kNone:
        return c;
    }
    return c;
  }
  // NewReno: new data as PRR allows; holes are resent on partial ACKs.
  if (new_len > 0 && new_len <= budget) {
    return SendChoice{SendChoice::Kind::kNewData, snd_max, new_len, false};
  }
  return c;
}

uint32_t LossRecovery::limited_transmit_allowance(uint32_t mss) const {
  // RFC 3042 §2: on the first and second duplicate ACK, one new segment each beyond cwnd.
  if (rec_.in_recovery() || dup_acks_ == 0 || dup_acks_ >= kDupThresh) return 0;
  return dup_acks_ * mss;
}

SeqNum LossRecovery::skip_sacked(SeqNum seq) const {
  for (const auto& r : sb_.ranges()) {
    if (seq < r.begin) break;
    if (seq < r.end) return r.end;
  }
  return seq;
}

void LossRecovery::on_transmit(SeqNum seq, uint32_t len, bool retransmission, bool rescue,
                               uint32_t tsval, Instant now) {
  if (len == 0) return;
  if (rack_enabled()) rack_.on_transmit(seq, len, now, retransmission);
  if (retransmission) {
    ++retrans_segs_;
    rxt_outstanding_ += len;
    if (episode_) {
      ++episode_rxt_;
      if (!rxt_ts_valid_ && undo_ok_ && tsval != 0 && episode_rxt_ == 1) {
        rxt_tsval_ = tsval;
        rxt_ts_valid_ = true;
      }
    }
    if (rec_.in_recovery()) {
      if (rescue) {
        sb_.on_rescue(rec_.recover());
      } else {
        sb_.on_retransmitted(seq, len);
      }
      force_first_ = false;
    }
  }
  if (rec_.in_recovery()) prr_.consume(len);
}

void LossRecovery::on_rto(SeqNum snd_una, SeqNum snd_max, Instant now) {
  if (rec_.in_recovery() && rack_enabled()) rack_.on_recovery_exit();
  // RFC 6582 §3.2 step 1 / RFC 6675 §5.1: recover = HighData; no fast recovery until it is
  // acknowledged.
  rec_.on_rto(snd_max);
  // RFC 2018 §8: after a timeout, do not trust earlier SACK information.
  sb_.clear();
  sb_.update(snd_una, snd_max, {});
  if (rack_enabled()) rack_.mark_losses_on_rto(snd_una, now);  // RFC 8985 §6.3
  tlp_.reset();
  dup_acks_ = 0;
  force_first_ = false;
  rxt_outstanding_ = 0;
  rack_timer_ = kNever;
  // A timeout is an episode too: its reduction is undone if it proves spurious.
  episode_ = true;
  undo_ok_ = true;
  rxt_ts_valid_ = false;
  episode_rxt_ = 0;
  episode_dsack_ = 0;
  episode_start_ = snd_una;
}

Instant LossRecovery::loss_timer(SeqNum snd_una, SeqNum snd_max, uint32_t mss,
                                 std::optional<Duration> srtt, Instant rto_deadline,
                                 Instant now) const {
  Instant t = rack_timer_;
  // RFC 8985 §7.2: a PTO after new data or a new ACK, unless recovering or anything is SACKed.
  // TLP_calc_PTO() caps it at the RTO expiry and the probe then goes at that time (the caller
  // runs this timer before an RTO due at the same instant, and the probe re-arms the RTO):
  // a one-segment tail, whose PTO carries max_ack_delay, is probed instead of timing out.
  if (rack_enabled() && !rec_.in_recovery() && sb_.empty() && snd_una < snd_max &&
      tlp_.may_probe()) {
    const bool one = snd_max.distance_from(snd_una) <= mss;
    t = std::min(t, TailLossProbe::pto_deadline(srtt, one, now, rto_deadline));
  }
  return t;
}

LossRecovery::TimerAction LossRecovery::on_loss_timer(SeqNum snd_una, SeqNum snd_max, Duration srtt,
                                                      uint32_t mss, Instant now,
                                                      CongestionControl& cc) {
  TimerAction a;
  if (rack_timer_ != kNever && now >= rack_timer_) {
    // RFC 8985 §6.2 step 5: the reordering window has passed for some segments.
    rack_timer_ = kNever;
    const Duration t = rack_.detect_loss(now, rec_.in_recovery(), srtt);
    if (t > Duration{0}) rack_timer_ = now + t;
    if (rack_.any_lost() && !rec_.in_recovery() && snd_una < snd_max && rec_.may_enter(snd_una)) {
      enter(snd_una, snd_max, cc, now);
      prr_.on_ack(0, pipe(snd_una, snd_max, mss), mss);
      a.entered = true;
    }
    return a;
  }
  // RFC 8985 §7.3: the PTO fired.
  a.probe = !rec_.in_recovery() && snd_una < snd_max && tlp_.may_probe();
  return a;
}

uint32_t LossRecovery::lost_bytes(SeqNum snd_una, SeqNum snd_max, uint32_t mss) const {
  uint64_t n = 0;
  if (rack_enabled()) {
    rack_.for_each_lost([&](const RackSegment& s) {
      if (s.end > snd_una) n += s.end.distance_from(SeqNum::max(s.seq, snd_una));
    });
  } else if (sack_) {
    // Un-SACKed bytes below the IsLost boundary, above what was already retransmitted.
    const uint32_t flight = snd_max.distance_from(snd_una);
    const uint32_t p = sb_.pipe(snd_max, mss);
    n = flight > p + sb_.sacked_bytes() ? flight - p - sb_.sacked_bytes() : 0;
  }
  return static_cast<uint32_t>(std::min<uint64_t>(n, UINT32_MAX));
}

}  // namespace utcp::tcp
