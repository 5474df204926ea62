// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/sender.hpp"

#include <algorithm>

#include "tcp/reno.hpp"

namespace utcp::tcp {

namespace {
RtoConfig rto_config(const Config& cfg, Duration initial) {
  RtoConfig r;
  r.min = cfg.rto_min;
  r.initial = initial;
  r.max = cfg.rto_max;
  return r;
}

PacerConfig pacer_config(const Config& cfg) {
  PacerConfig p;
  p.enabled = cfg.pacing;
  p.ss_ratio_percent = cfg.pacing_ss_ratio;
  p.ca_ratio_percent = cfg.pacing_ca_ratio;
  p.quantum_time = cfg.pacing_burst;
  p.quantum_min_segments = cfg.pacing_min_burst_segments;
  // One TSO segment is the smallest unit the device takes: a quantum never splits one.
  p.quantum_max_bytes = std::max<uint32_t>(p.quantum_max_bytes, cfg.tso_max_bytes);
  return p;
}
}  // namespace

Sender::Sender(const Config& cfg)
    : buf_(cfg.send_buffer),
      snd_tune_(cfg.send_buffer, cfg.send_buffer_max),
      cc_(make_congestion_control(cfg.congestion_control)),
      rto_(rto_config(cfg, cfg.rto_initial)),
      iw_segments_(cfg.initial_window_segments),
      tso_max_(cfg.tso_max_bytes),
      lr_(LossRecoveryOptions{.rack = cfg.rack}),
      pacer_(pacer_config(cfg)),
      nodelay_(cfg.nodelay) {
  if (!cc_) cc_ = std::make_unique<RenoCongestion>();  // unknown name: fall back to Reno
  cc_->init(mss_, iw_segments_);
}

void Sender::start(Tcb& tcb, wire::SeqNum iss) {
  tcb.iss = iss;
  tcb.snd_una = iss;
  tcb.snd_nxt = iss;
  tcb.snd_max = iss;
  snd_sml_ = iss;
  last_new_seq_ = iss;
  writes_.clear();
  syn_acked_ = false;
}

void Sender::on_synchronized(uint32_t eff_mss) {
  mss_ = eff_mss;
  cc_->init(mss_, iw_segments_);  // RFC 6928 initial window
  // RFC 6298 §5.7: after a SYN timed out (and no sample since), start data at RTO = 3 s.
  if (syn_retransmitted_ && !rto_.has_sample()) {
    RtoConfig c = rto_.config();
    c.initial = std::max(c.initial, Duration(3'000'000));
    rto_ = RtoEstimator(c);
  }
}

void Sender::set_mss(uint32_t eff_mss) {
  mss_ = eff_mss;
  cc_->set_mss(eff_mss);
}

size_t Sender::write(Tcb& tcb, std::span<const uint8_t> data, bool urgent) {
  if (fin_queued_) return 0;
  const size_t n = buf_.write(data);
  if (n > 0) writes_.on_write(data_end(tcb));
  if (urgent && n > 0) {
    // RFC 9293 §3.8.5 / RFC 6093: SND.UP points one past the last urgent byte.
    tcb.snd_up = data_end(tcb);
    tcb.snd_up_valid = true;
  }
  return n;
}

void Sender::queue_fin(const Tcb& tcb) {
  if (fin_queued_) return;
  fin_queued_ = true;
  fin_seq_ = data_end(tcb);
}

wire::SeqNum Sender::data_front(const Tcb& tcb) const {
  return syn_acked_ ? tcb.snd_una : tcb.iss + 1;
}

wire::SeqNum Sender::data_end(const Tcb& tcb) const {
  return data_front(tcb) + static_cast<uint32_t>(buf_.size());
}

uint32_t Sender::usable_window(const Tcb& tcb, wire::SeqNum from) const {
  // RFC 5681 §3: send no more than min(cwnd, rwnd) beyond SND.UNA; RFC 3042 limited transmit
  // lets new data go one segment past cwnd on each of the first two duplicate ACKs.
  uint64_t cwnd = cc_->cwnd();
  if (from >= tcb.snd_max) cwnd += lr_.limited_transmit_allowance(mss_);
  const uint32_t wnd = static_cast<uint32_t>(std::min<uint64_t>(tcb.snd_wnd, cwnd));
  const wire::SeqNum right = tcb.snd_una + wnd;
  return right > from ? right.distance_from(from) : 0;
}

SendPlan Sender::segment_at(const Tcb& tcb, wire::SeqNum seq, uint32_t len) const {
  // Bytes already sent once: the plan carries the FIN again if it ends where the FIN was.
  const wire::SeqNum end = data_end(tcb);
  SendPlan p;
  p.seq = seq;
  p.len = seq < end ? std::min(len, end.distance_from(seq)) : 0;
  p.fin = fin_sent(tcb) && seq + p.len == fin_seq_;
  p.psh = push_at(seq, p.len);
  return p;
}

std::optional<SendPlan> Sender::recovery_plan(const Tcb& tcb) const {
  // RFC 6675 §5 step (C) via LossRecovery::next(): retransmissions and new data within PRR.
  const wire::SeqNum end = data_end(tcb);
  const wire::SeqNum right = tcb.snd_una + tcb.snd_wnd;
  uint32_t new_data = 0;
  if (!(fin_queued_ && tcb.snd_max > fin_seq_) && end > tcb.snd_max && right > tcb.snd_max) {
    new_data = std::min(end.distance_from(tcb.snd_max), right.distance_from(tcb.snd_max));
  }
  const SendChoice c = lr_.next(tcb.snd_una, tcb.snd_max, new_data, mss_);
  if (c.kind == SendChoice::Kind::kRetransmit) {
    SendPlan p = segment_at(tcb, c.seq, c.len);
    p.rescue = c.rescue;
    if (p.len > 0 || p.fin) return p;
    return std::nullopt;
  }
  if (c.kind == SendChoice::Kind::kNewData && tcb.snd_nxt == tcb.snd_max) {
    SendPlan p;
    p.seq = tcb.snd_max;
    p.len = std::min(c.len, new_data);
    p.fin = fin_queued_ && p.seq + p.len == fin_seq_;
    p.psh = push_at(p.seq, p.len);
    if (p.len > 0) return p;
  }
  return std::nullopt;
}

std::optional<SendPlan> Sender::loss_probe_plan(const Tcb& tcb) const {
  // RFC 8985 §7.3: new data if the receive window allows, else the highest segment sent again.
  const wire::SeqNum end = data_end(tcb);
  const wire::SeqNum right = tcb.snd_una + tcb.snd_wnd;
  const uint32_t new_len =
      end > tcb.snd_max && right > tcb.snd_max
          ? std::min({mss_, end.distance_from(tcb.snd_max), right.distance_from(tcb.snd_max)})
          : 0;
  // A short tail held by TCP_CORK / MSG_MORE is not "available" new data.
  const bool held = (cork_ || more_) && new_len < mss_ && !fin_queued_;
  if (tcb.snd_nxt == tcb.snd_max && new_len > 0 && !held &&
      !(fin_queued_ && tcb.snd_max > fin_seq_)) {
    SendPlan p;
    p.seq = tcb.snd_max;
    p.len = new_len;
    p.fin = fin_queued_ && p.seq + p.len == fin_seq_;
    p.psh = push_at(p.seq, p.len);
    p.loss_probe = true;
    return p;
  }
  if (tcb.snd_max <= tcb.snd_una) return std::nullopt;
  // Otherwise the most recently sent segment again: at most one MSS, and never reaching back
  // before that segment's start (a FIN sent alone is probed alone, as Linux does).
  const wire::SeqNum sent_end = fin_sent(tcb) ? fin_seq_ : wire::SeqNum::min(tcb.snd_max, end);
  const uint32_t outstanding = sent_end > tcb.snd_una ? sent_end.distance_from(tcb.snd_una) : 0;
  uint32_t len = std::min(mss_, outstanding);
  if (last_new_seq_ > sent_end - len && last_new_seq_ <= sent_end) {
    len = sent_end.distance_from(last_new_seq_);
  }
  SendPlan p = segment_at(tcb, sent_end - len, len);
  p.loss_probe = true;
  if (p.len > 0 || p.fin) return p;
  return std::nullopt;
}

uint32_t Sender::timestamp_now(const Tcb& tcb, Instant now) const {
  // RFC 7323 §5.4: a 1 ms clock with a per-connection offset.
  return static_cast<uint32_t>(to_us(now) / 1000) + tcb.ts_offset;
}

void Sender::restart_after_idle(const Tcb& tcb, Instant now) {
  if (tcb.snd_max != tcb.snd_una || last_send_ == Instant{}) return;
  const Duration idle = now - last_send_;
  if (idle > rto_.rto()) cc_->on_idle(idle, rto_.rto());  // RFC 5681 §4.1
}

std::optional<SendPlan> Sender::plan(const Tcb& tcb, Instant) const {
  if (!syn_acked_) return std::nullopt;
  if (loss_probe_due_) {
    if (auto p = loss_probe_plan(tcb)) return p;
  }
  if (lr_.in_recovery()) return recovery_plan(tcb);
  const wire::SeqNum front = tcb.snd_una;
  const wire::SeqNum end = front + static_cast<uint32_t>(buf_.size());
  wire::SeqNum nxt = tcb.snd_nxt;
  uint32_t sacked_limit = UINT32_MAX;
  if (nxt < tcb.snd_max) {
    // Going back after a timeout: data the peer has SACKed since is not sent again.
    nxt = lr_.skip_sacked(nxt);
    for (const auto& r : lr_.scoreboard().ranges()) {
      if (r.begin > nxt) {
        sacked_limit = r.begin.distance_from(nxt);
        break;
      }
    }
  }
  if (fin_queued_ && nxt > fin_seq_) return std::nullopt;  // everything including FIN is out
  if (nxt > end) return std::nullopt;
  const uint32_t avail = end.distance_from(nxt);
  const uint32_t usable = usable_window(tcb, nxt);
  // With TSO one planned segment may span several MSS; the device cuts it up again.
  const uint32_t burst = tso_max_ > mss_ ? tso_max_ / mss_ * mss_ : mss_;
  uint32_t len = std::min({avail, usable, burst, sacked_limit});
  const bool small_ok = nagle_allows_small(tcb, nxt);
  if (len > mss_ && len % mss_ != 0 && !(len == avail && small_ok)) {
    len -= len % mss_;  // whole MSS only: the short tail waits as Nagle says (RFC 9293 §3.7.4)
  }
  if (cork_holds(tcb, nxt, len)) {
    len -= len % mss_;  // TCP_CORK / MSG_MORE: whole segments go, the short tail waits
    if (len == 0) return std::nullopt;
  }
  SendPlan p;
  p.seq = nxt;
  if (force_send_ && usable == 0 && avail > 0 && nxt == tcb.snd_una) {
    // RFC 9293 §3.8.6.1 (MUST-36): probe a zero window with one octet of new data.
    p.len = 1;
    p.probe = true;
    p.psh = push_at(nxt, 1);
    return p;
  }
  p.len = len;
  // The FIN rides on the segment that carries the last byte; it needs no window of its own.
  p.fin = fin_queued_ && nxt + len == fin_seq_;
  p.psh = push_at(nxt, len);  // PSH on the last segment of each write (RFC 9293 §3.9.1.2)
  if (len == 0) {
    if (p.fin) return p;
    return std::nullopt;
  }
  const bool retransmission = nxt < tcb.snd_max;
  const bool urgent_pending = tcb.snd_up_valid && tcb.snd_up > nxt;
  const bool send =
      len >= mss_ || retransmission || force_send_ || urgent_pending ||
      // RFC 9293 §3.7.4 Nagle with Minshall's refinement: a short segment with everything
      // written when no other short segment is unacknowledged (see nagle_allows_small()).
      (len == avail && small_ok) ||
      // RFC 9293 §3.8.6.2.1 (SWS): or when at least half the largest window seen can go.
      (tcb.max_snd_wnd > 0 && len >= tcb.max_snd_wnd / 2);
  if (!send) return std::nullopt;
  return p;
}

bool Sender::nagle_allows_small(const Tcb& tcb, wire::SeqNum nxt) const {
  // RFC 9293 §3.7.4 (RFC 1122 §4.2.3.4) holds a short segment while anything is unacknowledged;
  // Minshall's refinement (draft-minshall-nagle, as Linux's tcp_nagle_check) holds it only
  // while an earlier short segment is: a 1.5-MSS write then goes out whole at once instead of
  // waiting for the peer's delayed ACK of its first MSS, and small writes still coalesce.
  // Disabled Nagle, a queued FIN (no more data will come) or nothing in flight send anyway.
  if (nodelay_ || fin_queued_ || nxt == tcb.snd_una) return true;
  return !small_unacked(tcb);
}

bool Sender::small_unacked(const Tcb& tcb) const {
  // SND.SML (the end of the last short segment sent) lies in (SND.UNA, SND.MAX]: that short
  // segment is still unacknowledged. Measured as a distance so that it holds across a wrap.
  const uint32_t d = snd_sml_.distance_from(tcb.snd_una);
  return d > 0 && d <= tcb.snd_max.distance_from(tcb.snd_una);
}

void Sender::copy_payload(const Tcb& tcb, const SendPlan& p, std::span<uint8_t> dst) const {
  buf_.copy_out(p.seq.distance_from(tcb.snd_una), dst.first(p.len));
}

void Sender::commit(Tcb& tcb, Timers& timers, const SendPlan& p, Instant now) {
  force_send_ = false;
  const uint32_t seq_len = p.len + (p.fin ? 1 : 0);
  const bool retransmission = p.seq < tcb.snd_max;
  if (!p.probe && seq_len > 0) {
    lr_.on_transmit(p.seq, seq_len, retransmission, p.rescue,
                    tcb.ts_enabled ? timestamp_now(tcb, now) : 0, now);
  }
  if (p.loss_probe) {
    loss_probe_due_ = false;
    lr_.on_probe_sent(wire::SeqNum::max(tcb.snd_max, p.seq + seq_len), retransmission);
  }
  if (!retransmission && !p.probe && seq_len > 0) last_new_seq_ = p.seq;
  if (!retransmission && !p.probe && p.len > 0) {
    // Minshall: remember where the last short segment (or a TSO burst with a short tail)
    // ended; while none is outstanding keep SND.SML at SND.UNA so it never goes stale.
    if (p.len % mss_ != 0) {
      snd_sml_ = p.seq + p.len;
    } else if (!small_unacked(tcb)) {
      snd_sml_ = tcb.snd_una;
    }
  }
  if (p.len > 0 && !p.probe) {
    // Every data byte counts against the pacing rate, retransmitted or not: the queue on the
    // path does not tell them apart.
    const uint64_t rate = pacing_rate(tcb);
    pacer_.on_sent(p.len, now, rate, pacer_.quantum(rate, mss_));
  }
  bytes_sent_ += p.len;
  ++segs_out_;
  on_sent(tcb, timers, p.seq, seq_len, p.probe, now);
  // RFC 8985 §7.3: after a probe the RTO is re-armed; §7.2: new data restarts the PTO.
  if (p.loss_probe) timers.set(TimerKind::kRetransmit, now + rto_.rto());
  if (!retransmission && seq_len > 0 && !p.probe) {
    cwv_.on_transmit(tcb.snd_max.distance_from(tcb.snd_una), tcb.snd_max);
    arm_loss_timer(tcb, timers, now);
  }
}

uint64_t Sender::pacing_rate(const Tcb& tcb) const {
  if (!rto_.has_sample()) return 0;
  return pacer_.rate(cc_->cwnd(), cc_->ssthresh(), tcb.snd_max.distance_from(tcb.snd_una),
                     rto_.srtt());
}

bool Sender::pacing_holds(const Tcb& tcb, const SendPlan& p, Instant now) const {
  const bool new_data = p.len > 0 && !p.probe && !p.loss_probe && p.seq >= tcb.snd_max;
  return new_data && tcb.snd_max != tcb.snd_una && pacer_.holds(now);
}

void Sender::arm_loss_timer(const Tcb& tcb, Timers& timers, Instant now) {
  const std::optional<Duration> srtt =
      rto_.has_sample() ? std::optional<Duration>(rto_.srtt()) : std::nullopt;
  const Instant t =
      lr_.loss_timer(tcb.snd_una, tcb.snd_max, mss_, srtt, timers.at(TimerKind::kRetransmit), now);
  if (t == kNever) {
    timers.stop(TimerKind::kLossDetection);
  } else {
    timers.set(TimerKind::kLossDetection, std::max(t, now));
  }
}

void Sender::on_loss_timer(const Tcb& tcb, Timers& timers, Instant now) {
  timers.stop(TimerKind::kLossDetection);
  const auto a = lr_.on_loss_timer(tcb.snd_una, tcb.snd_max, rto_.srtt(), mss_, now, *cc_);
  if (a.entered) timing_ = false;
  if (a.probe) {
    loss_probe_due_ = true;
    // RFC 8985 §7.3: after the PTO the RTO timer runs again from now, so an RTO that was due at
    // the same instant (the PTO capped at it, §7.2) leaves the probe to go first.
    timers.set(TimerKind::kRetransmit, now + rto_.rto());
  } else {
    arm_loss_timer(tcb, timers, now);
  }
}

void Sender::on_sent(Tcb& tcb, Timers& timers, wire::SeqNum seq, uint32_t seq_len, bool probe,
                     Instant now) {
  last_send_ = now;
  const wire::SeqNum end = seq + seq_len;
  if (probe) {
    // The probe byte lies beyond the window: SND.NXT stays, but its ACK is acceptable.
    tcb.snd_max = wire::SeqNum::max(tcb.snd_max, end);
    return;
  }
  if (seq_len == 0) return;
  const bool was_idle = tcb.snd_max == tcb.snd_una;
  const bool retransmission = seq < tcb.snd_max;
  if (retransmission) {
    timing_ = false;  // Karn's rule: never time a retransmitted segment
  } else if (!timing_ && !tcb.ts_enabled) {
    timing_ = true;
    rtt_seq_ = seq;
    rtt_start_ = now;
  }
  tcb.snd_nxt = wire::SeqNum::max(tcb.snd_nxt, end);
  tcb.snd_max = wire::SeqNum::max(tcb.snd_max, end);
  if (was_idle) outstanding_since_ = now;
  // RFC 6298 §5.1: start the timer if it is not running.
  timers.set_if_idle(TimerKind::kRetransmit, now + rto_.rto());
}

AckResult Sender::on_ack(Tcb& tcb, Timers& timers, const wire::TcpRepr& seg, uint32_t seg_wnd,
                         Instant now) {
  using namespace wire::tcp_flag;
  AckResult r;
  const wire::SeqNum ack = seg.ack;
  probes_unanswered_ = 0;  // the peer is alive (RFC 9293 §3.8.6.1, MUST-37)
  // RFC 5681 §2: a duplicate ACK carries no data, no SYN/FIN, acknowledges SND.UNA while data
  // is outstanding, and repeats the window. Zero-window probe answers are not counted.
  const bool dup_candidate = ack == tcb.snd_una && seg.payload.empty() && !seg.has(kSyn) &&
                             !seg.has(kFin) && has_outstanding(tcb) && seg_wnd == tcb.snd_wnd &&
                             !timers.running(TimerKind::kPersist);
  std::optional<Duration> sample;
  const wire::SeqNum una_before = tcb.snd_una;
  if (ack > tcb.snd_una) {
    uint32_t acked = ack.distance_from(tcb.snd_una);
    if (!syn_acked_) {
      syn_acked_ = true;
      r.syn_acked = true;
      acked -= 1;
    }
    if (fin_queued_ && ack > fin_seq_ && tcb.snd_una <= fin_seq_) {
      r.fin_acked = true;
      acked -= 1;
    }
    r.data_acked = static_cast<uint32_t>(std::min<size_t>(acked, buf_.size()));
    buf_.consume(r.data_acked);
    tcb.snd_una = ack;
    writes_.on_ack(ack);
    if (tcb.snd_nxt < tcb.snd_una) tcb.snd_nxt = tcb.snd_una;
    if (tcb.snd_up_valid && tcb.snd_up <= tcb.snd_una) tcb.snd_up_valid = false;
    r.new_ack = true;

    // RTT sample: from the echoed timestamp (RFC 7323 §4.1), else Karn-timed segment.
    if (tcb.ts_enabled && seg.options.timestamps && seg.options.timestamps->tsecr != 0) {
      const uint32_t ms = timestamp_now(tcb, now) - seg.options.timestamps->tsecr;
      if (ms < (1u << 31)) sample = Duration(int64_t{ms} * 1000);
    } else if (timing_ && ack > rtt_seq_) {
      sample = now - rtt_start_;
      timing_ = false;
    }
    if (sample) {
      rto_.on_sample(*sample);
      cc_->on_rtt_sample(*sample, rto_.srtt());
      // RFC 6298 §5 (Karn): a backed-off RTO stays until a valid sample recomputes it.
      rto_.reset_backoff();
      if (r.syn_acked) lr_.on_handshake_rtt(*sample, now);
    }
    timeouts_ = 0;  // progress: the R2 count starts again
    bytes_acked_ += r.data_acked;

    // RFC 6298 §5.2 / §5.3.
    if (tcb.snd_una >= tcb.snd_max) {
      timers.stop(TimerKind::kRetransmit);
    } else {
      timers.set(TimerKind::kRetransmit, now + rto_.rto());
      outstanding_since_ = now;
    }
  }

  if (syn_acked_ && !r.syn_acked) {
    // Loss detection and recovery (RFC 6675 / 6582 / 8985 / 3522) see every acceptable ACK.
    AckInput in;
    in.snd_una = tcb.snd_una;
    in.snd_max = tcb.snd_max;
    in.acked = tcb.snd_una.distance_from(una_before);
    in.dup = dup_candidate;
    if (tcb.sack_enabled) in.sacks = seg.options.sacks();
    if (tcb.ts_enabled && seg.options.timestamps) {
      in.tsecr = seg.options.timestamps->tsecr;
    }
    in.rtt_sample = sample;
    in.srtt = rto_.srtt();
    in.mss = mss_;
    in.now = now;
    const uint32_t flight_before = tcb.snd_max.distance_from(una_before);
    const AckOutcome o = lr_.on_ack(in, *cc_);
    if (o.entered) timing_ = false;  // Karn: retransmissions follow
    const Duration since_ack = cwv_.on_ack(tcb.snd_una, tcb.snd_max, now);
    if (r.data_acked > 0 && !lr_.in_recovery() && !o.exited && !o.entered && !o.undone) {
      // RFC 7661 §4.3: cwnd grows only while the flow uses it (for every controller).
      if (cwv_.validated(cc_->cwnd())) {
        cc_->on_ack(r.data_acked, flight_before, now);
      } else {
        cc_->on_not_cwnd_limited(since_ack);
      }
      if (cwv_.nvp_expired(cc_->cwnd(), now)) cc_->on_nvp_expired();
    }
    arm_loss_timer(tcb, timers, now);
  }

  // RFC 9293 §3.10.7.4 fifth step: window update if SND.UNA =< SEG.ACK =< SND.NXT and the
  // segment is newer than the last one used (WL1/WL2).
  if (ack >= tcb.snd_una && ack <= tcb.snd_max &&
      (tcb.snd_wl1 < seg.seq || (tcb.snd_wl1 == seg.seq && tcb.snd_wl2 <= ack))) {
    tcb.snd_wnd = seg_wnd;
    tcb.snd_wl1 = seg.seq;
    tcb.snd_wl2 = ack;
    tcb.max_snd_wnd = std::max(tcb.max_snd_wnd, seg_wnd);
  }
  if (r.data_acked > 0) {
    // Send-buffer autotuning follows cwnd and the peer's window (snd_autotune.hpp).
    if (auto c = snd_tune_.on_ack(cc_->cwnd(), tcb.max_snd_wnd, mss_)) buf_.set_capacity(*c);
  }
  return r;
}

Duration Sender::persist_interval() const {
  // Exponential backoff from the current RTO, bounded by the RTO limits.
  const unsigned shift = std::min(persist_backoff_, 20u);
  const Duration d = rto_.rto() * (int64_t{1} << shift);
  return std::clamp(d, rto_.config().min, rto_.config().max);
}

bool Sender::cork_holds(const Tcb& tcb, wire::SeqNum nxt, uint32_t len) const {
  // Linux's TCP_CORK / MSG_MORE hold a short segment of new data for more to come; a FIN, a
  // retransmission, urgent data and the cork ceiling (force_send_) are never held.
  return (cork_ || more_) && len % mss_ != 0 && !force_send_ && !fin_queued_ &&
         nxt >= tcb.snd_max && !(tcb.snd_up_valid && tcb.snd_up > nxt);
}

void Sender::update_persist(const Tcb& tcb, Timers& timers, Instant now) {
  const bool pending = syn_acked_ && tcb.snd_nxt < data_end(tcb);
  const bool idle = tcb.snd_nxt == tcb.snd_una;
  if (pending && idle && !plan(tcb, now)) {
    // Nothing in flight will bring an ACK: the persist timer takes over (RFC 9293 §3.8.6.1).
    // Any retransmission timer left from rewound data gives way: a closed window may stay
    // closed indefinitely without the connection being aborted (MUST-37).
    timers.stop(TimerKind::kRetransmit);
    // A corked tail in an open window: the timer is the cork ceiling (Linux sends it then).
    const bool cork_hold = (cork_ || more_) && usable_window(tcb, tcb.snd_nxt) > 0;
    if (!timers.running(TimerKind::kPersist)) cork_timer_ = cork_hold;
    timers.set_if_idle(TimerKind::kPersist,
                       now + (cork_timer_ ? Duration(kCorkCeiling) : persist_interval()));
  } else {
    timers.stop(TimerKind::kPersist);
    cork_timer_ = false;
    if (!idle || !pending) persist_backoff_ = 0;
  }
}

void Sender::on_persist_timeout(Timers& timers) {
  timers.stop(TimerKind::kPersist);
  force_send_ = true;
  if (cork_timer_) {
    cork_timer_ = false;  // the cork ceiling: no probe, nothing to back off
    return;
  }
  ++persist_backoff_;
  ++probes_unanswered_;
}

unsigned Sender::on_retransmit_timeout(Tcb& tcb, Timers& timers, Instant now) {
  if (!has_outstanding(tcb)) {
    timers.stop(TimerKind::kRetransmit);
    return timeouts_;
  }
  const uint32_t flight = tcb.snd_max.distance_from(tcb.snd_una);
  cc_->on_rto(flight, now);  // RFC 5681 §3.1: ssthresh from FlightSize, cwnd = 1 SMSS
  lr_.on_rto(tcb.snd_una, tcb.snd_max, now);
  loss_probe_due_ = false;
  timers.stop(TimerKind::kLossDetection);
  ++rto_count_;
  rto_.backoff();  // RFC 6298 §5.5
  // RFC 6298 §5.4: retransmit the earliest unacknowledged segment; everything after it follows
  // as the window allows (go-back-N from SND.UNA).
  tcb.snd_nxt = tcb.snd_una;
  timing_ = false;
  timers.set(TimerKind::kRetransmit, now + rto_.rto());  // §5.6
  return ++timeouts_;
}

std::optional<uint16_t> Sender::urgent_pointer(const Tcb& tcb, wire::SeqNum seq) const {
  if (!tcb.snd_up_valid || tcb.snd_up <= seq) return std::nullopt;
  // RFC 6093 §3: the pointer is the offset of the octet after the urgent data.
  return static_cast<uint16_t>(std::min<uint32_t>(tcb.snd_up.distance_from(seq), 0xffff));
}

}  // namespace utcp::tcp
