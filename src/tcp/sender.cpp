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
}  // namespace

Sender::Sender(const Config& cfg)
    : buf_(cfg.send_buffer),
      iw_segments_(cfg.initial_window_segments),
      cc_(make_congestion_control(cfg.congestion_control)),
      rto_(rto_config(cfg, cfg.rto_initial)),
      nodelay_(cfg.nodelay) {
  if (!cc_) cc_ = std::make_unique<RenoCongestion>();  // unknown name: fall back to Reno
  cc_->init(mss_, iw_segments_);
}

void Sender::start(Tcb& tcb, wire::SeqNum iss) {
  tcb.iss = iss;
  tcb.snd_una = iss;
  tcb.snd_nxt = iss;
  tcb.snd_max = iss;
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
  return syn_acked(tcb) ? tcb.snd_una : tcb.iss + 1;
}

wire::SeqNum Sender::data_end(const Tcb& tcb) const {
  return data_front(tcb) + static_cast<uint32_t>(buf_.size());
}

uint32_t Sender::usable_window(const Tcb& tcb) const {
  // RFC 5681 §3: send no more than min(cwnd, rwnd) beyond SND.UNA.
  const uint32_t wnd = std::min(tcb.snd_wnd, cc_->cwnd());
  const wire::SeqNum right = tcb.snd_una + wnd;
  return right > tcb.snd_nxt ? right.distance_from(tcb.snd_nxt) : 0;
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
  if (!syn_acked(tcb)) return std::nullopt;
  const wire::SeqNum front = tcb.snd_una;
  const wire::SeqNum end = front + static_cast<uint32_t>(buf_.size());
  if (fast_retransmit_) {
    // RFC 5681 §3.2 step 3: retransmit the segment that appears lost, whatever the windows say.
    SendPlan p;
    p.seq = front;
    p.len = std::min<uint32_t>(mss_, static_cast<uint32_t>(buf_.size()));
    p.fin = fin_sent(tcb) && front + p.len == fin_seq_;
    p.psh = p.len > 0 && front + p.len == end;
    if (p.len > 0 || p.fin) return p;
  }
  const wire::SeqNum nxt = tcb.snd_nxt;
  if (fin_queued_ && nxt > fin_seq_) return std::nullopt;  // everything including FIN is out
  if (nxt > end) return std::nullopt;
  const uint32_t avail = end.distance_from(nxt);
  const uint32_t usable = usable_window(tcb);
  uint32_t len = std::min({avail, usable, mss_});
  SendPlan p;
  p.seq = nxt;
  if (force_send_ && usable == 0 && avail > 0 && nxt == tcb.snd_una) {
    // RFC 9293 §3.8.6.1 (MUST-36): probe a zero window with one octet of new data.
    p.len = 1;
    p.probe = true;
    p.psh = avail == 1;
    return p;
  }
  p.len = len;
  // The FIN rides on the segment that carries the last byte; it needs no window of its own.
  p.fin = fin_queued_ && nxt + len == fin_seq_;
  p.psh = len > 0 && nxt + len == end;  // PSH on the last segment of what was written
  if (len == 0) {
    if (p.fin) return p;
    return std::nullopt;
  }
  const bool retransmission = nxt < tcb.snd_max;
  const bool urgent_pending = tcb.snd_up_valid && tcb.snd_up > nxt;
  const bool nothing_in_flight = nxt == tcb.snd_una;
  const bool send =
      len == mss_ || retransmission || force_send_ || urgent_pending ||
      // RFC 9293 §3.7.4 Nagle: a short segment only when nothing is unacknowledged (or the
      // application disabled Nagle, or closed so no more data will come).
      (len == avail && (nodelay_ || nothing_in_flight || fin_queued_)) ||
      // RFC 9293 §3.8.6.2.1 (SWS): or when at least half the largest window seen can go.
      (tcb.max_snd_wnd > 0 && len >= tcb.max_snd_wnd / 2);
  if (!send) return std::nullopt;
  return p;
}

void Sender::copy_payload(const Tcb& tcb, const SendPlan& p, std::span<uint8_t> dst) const {
  buf_.copy_out(p.seq.distance_from(tcb.snd_una), dst.first(p.len));
}

void Sender::commit(Tcb& tcb, Timers& timers, const SendPlan& p, Instant now) {
  if (fast_retransmit_ && p.seq == tcb.snd_una) fast_retransmit_ = false;
  force_send_ = false;
  on_sent(tcb, timers, p.seq, p.len + (p.fin ? 1 : 0), p.probe, now);
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
  // RFC 5681 §2: a duplicate ACK carries no data, no SYN/FIN, acknowledges SND.UNA while data
  // is outstanding, and repeats the window. Zero-window probe answers are not counted.
  const bool dup_candidate = ack == tcb.snd_una && seg.payload.empty() && !seg.has(kSyn) &&
                             !seg.has(kFin) && has_outstanding(tcb) && seg_wnd == tcb.snd_wnd &&
                             !timers.running(TimerKind::kPersist);
  if (ack > tcb.snd_una) {
    uint32_t acked = ack.distance_from(tcb.snd_una);
    const uint32_t flight = tcb.snd_max.distance_from(tcb.snd_una);
    if (!syn_acked(tcb)) {
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
    if (tcb.snd_nxt < tcb.snd_una) tcb.snd_nxt = tcb.snd_una;
    if (tcb.snd_up_valid && tcb.snd_up <= tcb.snd_una) tcb.snd_up_valid = false;
    r.new_ack = true;

    // RTT sample: from the echoed timestamp (RFC 7323 §4.1), else Karn-timed segment.
    bool sampled = false;
    if (tcb.ts_enabled && seg.options.timestamps && seg.options.timestamps->tsecr != 0) {
      const uint32_t ms = timestamp_now(tcb, now) - seg.options.timestamps->tsecr;
      if (ms < (1u << 31)) {
        rto_.on_sample(Duration(int64_t{ms} * 1000));
        sampled = true;
      }
    } else if (timing_ && ack > rtt_seq_) {
      rto_.on_sample(now - rtt_start_);
      timing_ = false;
      sampled = true;
    }
    // RFC 6298 §5 (Karn): a backed-off RTO stays until a valid sample recomputes it.
    if (sampled) rto_.reset_backoff();
    timeouts_ = 0;  // progress: the R2 count starts again

    if (in_recovery_) {
      // RFC 5681 §3.2 step 6: the first ACK of new data ends fast recovery (Reno).
      cc_->on_recovery_exit();
      in_recovery_ = false;
    } else if (r.data_acked > 0) {
      cc_->on_ack(r.data_acked, flight, now);
    }
    dup_acks_ = 0;
    fast_retransmit_ = false;

    // RFC 6298 §5.2 / §5.3.
    if (tcb.snd_una >= tcb.snd_max) {
      timers.stop(TimerKind::kRetransmit);
    } else {
      timers.set(TimerKind::kRetransmit, now + rto_.rto());
      outstanding_since_ = now;
    }
  } else if (dup_candidate) {
    ++dup_acks_;
    const uint32_t flight = tcb.snd_max.distance_from(tcb.snd_una);
    if (dup_acks_ == 3 && !in_recovery_) {
      // RFC 5681 §3.2 steps 2-3 (fast retransmit). After a timeout, duplicates for data sent
      // before it do not start recovery (the "recover" point of RFC 6582 §3.2 / RFC 5681 §4.3).
      if (!recover_valid_ || tcb.snd_una >= recover_) {
        in_recovery_ = true;
        cc_->on_fast_retransmit(flight, now);
        fast_retransmit_ = true;
        timing_ = false;
      }
    } else if (dup_acks_ > 3 && in_recovery_) {
      cc_->on_recovery_dup_ack();  // step 4: each further duplicate inflates cwnd
    }
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
  return r;
}

Duration Sender::persist_interval() const {
  // Exponential backoff from the current RTO, bounded by the RTO limits.
  const unsigned shift = std::min(persist_backoff_, 20u);
  const Duration d = rto_.rto() * (int64_t{1} << shift);
  return std::clamp(d, rto_.config().min, rto_.config().max);
}

void Sender::update_persist(const Tcb& tcb, Timers& timers, Instant now) {
  const bool pending = syn_acked(tcb) && tcb.snd_nxt < data_end(tcb);
  const bool idle = tcb.snd_nxt == tcb.snd_una;
  if (pending && idle && !plan(tcb, now)) {
    // Nothing in flight will bring an ACK: the persist timer takes over (RFC 9293 §3.8.6.1).
    // Any retransmission timer left from rewound data gives way: a closed window may stay
    // closed indefinitely without the connection being aborted (MUST-37).
    timers.stop(TimerKind::kRetransmit);
    timers.set_if_idle(TimerKind::kPersist, now + persist_interval());
  } else {
    timers.stop(TimerKind::kPersist);
    if (!idle || !pending) persist_backoff_ = 0;
  }
}

void Sender::on_persist_timeout(Timers& timers) {
  timers.stop(TimerKind::kPersist);
  force_send_ = true;
  ++persist_backoff_;
}

unsigned Sender::on_retransmit_timeout(Tcb& tcb, Timers& timers, Instant now) {
  if (!has_outstanding(tcb)) {
    timers.stop(TimerKind::kRetransmit);
    return timeouts_;
  }
  const uint32_t flight = tcb.snd_max.distance_from(tcb.snd_una);
  cc_->on_rto(flight, now);  // RFC 5681 §3.1: ssthresh from FlightSize, cwnd = 1 SMSS
  rto_.backoff();            // RFC 6298 §5.5
  // RFC 6298 §5.4: retransmit the earliest unacknowledged segment; everything after it follows
  // as the window allows (go-back-N from SND.UNA).
  tcb.snd_nxt = tcb.snd_una;
  in_recovery_ = false;
  dup_acks_ = 0;
  fast_retransmit_ = false;
  timing_ = false;
  recover_ = tcb.snd_max;
  recover_valid_ = true;
  timers.set(TimerKind::kRetransmit, now + rto_.rto());  // §5.6
  return ++timeouts_;
}

std::optional<uint16_t> Sender::urgent_pointer(const Tcb& tcb, wire::SeqNum seq) const {
  if (!tcb.snd_up_valid || tcb.snd_up <= seq) return std::nullopt;
  // RFC 6093 §3: the pointer is the offset of the octet after the urgent data.
  return static_cast<uint16_t>(std::min<uint32_t>(tcb.snd_up.distance_from(seq), 0xffff));
}

}  // namespace utcp::tcp
