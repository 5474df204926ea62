// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/rack.hpp"

#include <algorithm>

namespace utcp::tcp {

using wire::SeqNum;

Rack::Rack() = default;

void Rack::clear() {
  head_ = count_ = 0;
  have_xmit_ = false;
  fack_valid_ = false;
  segs_sacked_ = 0;
}

void Rack::push(const RackSegment& s) {
  if (count_ == ring_.size()) {
    // The first transmission allocates the log; it doubles when full, never per segment.
    std::vector<RackSegment> bigger(ring_.empty() ? kInitialRing : ring_.size() * 2);
    for (size_t i = 0; i < count_; ++i) bigger[i] = at(i);
    ring_.swap(bigger);
    head_ = 0;
  }
  ring_[(head_ + count_) & (ring_.size() - 1)] = s;
  ++count_;
}

bool Rack::any_lost() const {
  for (size_t i = 0; i < count_; ++i) {
    if (at(i).lost && !at(i).sacked) return true;
  }
  return false;
}

void Rack::on_transmit(SeqNum seq, uint32_t len, Instant now, bool retransmission) {
  if (len == 0) return;
  const SeqNum end = seq + len;
  // RFC 8985 §6.1: a retransmission moves the segment's xmit_ts forward and marks it; bytes
  // past the log's end are new data.
  SeqNum logged_end = count_ > 0 ? at(count_ - 1).end : seq;
  // New data (the common case) overlaps nothing logged: no scan of the log per segment.
  for (size_t i = 0; count_ > 0 && seq < logged_end && i < count_; ++i) {
    RackSegment& s = at_mut(i);
    if (s.end <= seq) continue;
    if (s.seq >= end) break;  // the log is in sequence order
    s.xmit_ts = now;
    s.retransmitted = true;
    if (s.lost) s.rxt_after_loss = true;
    s.lost = false;
  }
  (void)retransmission;
  if (count_ == 0 || end > logged_end) {
    const SeqNum from = count_ == 0 ? seq : SeqNum::max(seq, logged_end);
    push(RackSegment{from, end, now, false, false, false, false});
  }
}

void Rack::on_rtt_sample(Duration rtt, Instant now) {
  // Step 1: windowed minimum RTT.
  if (rtt <= min_rtt_ || now - min_rtt_stamp_ > kMinRttWindow) {
    min_rtt_ = rtt;
    min_rtt_stamp_ = now;
  }
}

void Rack::on_ack(SeqNum snd_una, std::span<const SeqSpan> sacked, bool dsack, SeqNum snd_nxt,
                  std::optional<Duration> rtt_sample, Instant now) {
  if (rtt_sample) on_rtt_sample(*rtt_sample, now);
  dsack_this_ack_ = dsack;
  // RFC 8985 §6.2 step 4 first clause: the D-SACK round ends when SND.UNA passes it.
  if (dsack_round_ && snd_una >= *dsack_round_) dsack_round_.reset();
  if (dsack_this_ack_ && !dsack_round_) {
    dsack_round_ = snd_nxt;
    ++reo_wnd_mult_;
    reo_wnd_persist_ = kReoWndPersist;
    dsack_this_ack_ = false;  // counted
  }

  auto delivered = [&](const RackSegment& s) {
    // Step 3: reordering is an original transmission delivered below the forward-most ACK.
    if (!fack_valid_ || s.end > fack_) {
      fack_ = s.end;
      fack_valid_ = true;
    } else if (s.end < fack_ && !s.retransmitted) {
      reordering_seen_ = true;
    }
    // Step 2: skip possibly spurious retransmission timings.
    const Duration rtt = now - s.xmit_ts;
    if (s.retransmitted && rtt < min_rtt_) return;
    if (!have_xmit_ || sent_after(s.xmit_ts, s.end, xmit_ts_, end_seq_)) {
      xmit_ts_ = s.xmit_ts;
      end_seq_ = s.end;
      rtt_ = rtt;
      have_xmit_ = true;
    } else if (s.xmit_ts == xmit_ts_) {
      rtt_ = rtt;
    }
  };

  // Cumulatively acknowledged segments leave the log.
  while (count_ > 0 && at(0).end <= snd_una) {
    const RackSegment s = at(0);
    if (s.sacked) --segs_sacked_;
    pop_front();
    if (!s.sacked) delivered(s);
  }
  if (count_ > 0 && at(0).seq < snd_una) at_mut(0).seq = snd_una;

  // Newly SACKed segments (both lists are in sequence order).
  size_t r = 0;
  for (size_t i = 0; i < count_ && r < sacked.size(); ++i) {
    RackSegment& s = at_mut(i);
    while (r < sacked.size() && sacked[r].end <= s.seq) ++r;
    if (r == sacked.size()) break;
    if (!s.sacked && sacked[r].begin <= s.seq && s.end <= sacked[r].end) {
      s.sacked = true;
      s.lost = false;
      ++segs_sacked_;
      delivered(s);
    }
  }
}

void Rack::on_recovery_exit() {
  exiting_recovery_ = true;
}

Duration Rack::update_reo_wnd(bool in_recovery, Duration srtt) {
  // RFC 8985 §6.2 step 4 RACK_update_reo_wnd().
  if (exiting_recovery_) {
    exiting_recovery_ = false;
    if (--reo_wnd_persist_ <= 0) reo_wnd_mult_ = 1;
  }
  if (!reordering_seen_ && (in_recovery || segs_sacked_ >= kDupThresh)) return Duration{0};
  if (min_rtt_ == Duration::max()) return Duration{0};
  return std::min(reo_wnd_mult_ * min_rtt_ / 4, srtt);
}

Duration Rack::detect_loss(Instant now, bool in_recovery, Duration srtt) {
  // RFC 8985 §6.2 step 5 RACK_detect_loss().
  reo_wnd_ = update_reo_wnd(in_recovery, srtt);
  if (!have_xmit_) return Duration{0};
  Duration timeout{0};
  for (size_t i = 0; i < count_; ++i) {
    RackSegment& s = at_mut(i);
    if (!sent_after(xmit_ts_, end_seq_, s.xmit_ts, s.end)) {
      // A segment never retransmitted carries its first transmission time, and every segment
      // after it in the log was first sent later still (and a retransmission is later again):
      // none of them was sent before the delivered one either. Without losses the scan ends
      // at the first segment instead of walking the whole flight on every ACK.
      if (!s.retransmitted) break;
      continue;
    }
    if (s.sacked || s.lost) continue;
    const Duration remaining = (s.xmit_ts + rtt_ + reo_wnd_) - now;
    if (remaining <= Duration{0}) {
      s.lost = true;
    } else {
      timeout = std::max(timeout, remaining);
    }
  }
  return timeout;
}

void Rack::mark_losses_on_rto(SeqNum snd_una, Instant now) {
  // RFC 8985 §6.3.
  for (size_t i = 0; i < count_; ++i) {
    RackSegment& s = at_mut(i);
    if (s.sacked) continue;
    if (s.seq <= snd_una || (s.xmit_ts + rtt_ + reo_wnd_) - now <= Duration{0}) s.lost = true;
  }
}

}  // namespace utcp::tcp
