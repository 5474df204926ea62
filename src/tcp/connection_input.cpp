// SPDX-License-Identifier: BSD-2-Clause
// Connection: segment arrival, RFC 9293 §3.10.7 "SEGMENT ARRIVES" for every state.
#include <chrono>

#include "tcp/connection.hpp"
#include "tcp/options_negotiation.hpp"
#include "tcp/reset_generator.hpp"
#include "tcp/rst_validation.hpp"

namespace utcp::tcp {

using namespace wire::tcp_flag;

void Connection::on_segment(const wire::TcpRepr& seg, Instant now, uint8_t ecn) {
  if (seg.dst_port != ep_.local_port || seg.src_port != ep_.remote_port) return;
  ++segs_in_;
  // RFC 3168 §6.1.3: CE on a data segment is echoed; CWR from the sender stops the echo.
  if (is_synchronized(state_) && !seg.has(kSyn) && !seg.payload.empty()) {
    ecn_.on_data_received(static_cast<EcnCodepoint>(ecn & 3), seg.flags);
  } else if (is_synchronized(state_) && seg.has(kCwr)) {
    ecn_.on_data_received(EcnCodepoint::kNotEct, seg.flags);
  }
  if (state_ != State::kClosed && state_ != State::kListen) {
    // Anything from the peer proves it alive (RFC 1122 §4.2.3.6).
    last_recv_ = now;
    keepalive_sent_ = 0;
    timers_.stop(TimerKind::kKeepalive);
  }
  switch (state_) {
    case State::kClosed:
      // RFC 9293 §3.10.7.1: the same answer as for a segment that matched no connection.
      if (auto r = reset_for_unmatched(seg)) queue_rst(r->seq, r->ack, r->has(kAck));
      return;
    case State::kListen:
      on_segment_listen(seg, now);
      break;
    case State::kSynSent:
      on_segment_syn_sent(seg, now);
      break;
    default:
      on_segment_synchronized(seg, now);
      break;
  }
  after_input(now);
}

void Connection::apply_peer_syn(const wire::TcpRepr& seg, Instant now) {
  receiver_.on_syn(tcb_, seg.seq);
  const Negotiated n = negotiate(*cfg_, seg.options);
  tcb_.peer_mss = n.peer_mss;
  peer_offered_wscale_ = n.window_scaling;
  if (n.window_scaling) {
    tcb_.snd_wscale = n.snd_wscale;
  } else {
    // RFC 7323 §2.2: scaling applies only when both SYNs carried the option.
    tcb_.snd_wscale = 0;
    tcb_.rcv_wscale = 0;
  }
  tcb_.ts_enabled = n.timestamps;
  tcb_.sack_enabled = n.sack;
  // RFC 3168 §6.1.1: ECN-setup SYN (ECE+CWR) / SYN-ACK (ECE only).
  if (seg.has(kAck)) {
    ecn_.on_syn_ack_received(seg.flags);
  } else {
    ecn_.on_syn_received(seg.flags);
  }
  sender_.set_sack(n.sack);
  if (n.timestamps) {
    tcb_.ts_recent = seg.options.timestamps->tsval;
    tcb_.ts_recent_time = now;
  }
  // RFC 7323 §2.2: the window in a SYN is not scaled.
  tcb_.snd_wnd = seg.window;
  tcb_.max_snd_wnd = std::max(tcb_.max_snd_wnd, tcb_.snd_wnd);
  tcb_.snd_wl1 = seg.seq;
  tcb_.snd_wl2 = seg.ack;
}

void Connection::on_segment_listen(const wire::TcpRepr& seg, Instant now) {
  // RFC 9293 §3.10.7.2.
  if (seg.has(kRst)) return;  // first: ignore a RST
  if (seg.has(kAck)) {        // second: any ACK is bad here: <SEQ=SEG.ACK><CTL=RST>
    queue_rst(seg.ack, wire::SeqNum(0), false);
    return;
  }
  if (!seg.has(kSyn)) return;  // fourth: anything else is dropped
  // third: SYN. Text or FIN in the SYN is not acknowledged, so the peer will send it again.
  apply_peer_syn(seg, now);
  enter(State::kSynReceived);  // the SYN-ACK goes out from poll_transmit (SND.NXT == ISS)
}

void Connection::on_segment_syn_sent(const wire::TcpRepr& seg, Instant now) {
  // RFC 9293 §3.10.7.3.
  const bool has_ack = seg.has(kAck);
  if (has_ack && (seg.ack <= tcb_.iss || seg.ack > tcb_.snd_max)) {
    // first: an ACK for something we never sent.
    if (!seg.has(kRst)) queue_rst(seg.ack, wire::SeqNum(0), false);
    return;
  }
  if (seg.has(kRst)) {
    // second: a RST is valid only if it acknowledges our SYN (also RFC 5961 §3.2).
    if (has_ack) terminate(ErrorReason::kRefused);
    return;
  }
  if (!seg.has(kSyn)) return;  // fifth: neither SYN nor RST
  // fourth: SYN.
  apply_peer_syn(seg, now);
  if (has_ack) {
    sender_.on_ack(tcb_, timers_, seg, seg.window, now);
  }
  if (tcb_.snd_una > tcb_.iss) {
    soft_error_.reset();  // the SYN got through: earlier soft errors are history
    enter_established(now);
    receiver_.require_ack_now();  // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
    // Text or controls in the SYN-ACK continue at the sixth step (URG, text, FIN).
    if (seg.has(kUrg) && receiver_.on_urgent(tcb_, seg.seq + 1 + seg.urgent)) {
      events_.push(Event{EventKind::kUrgent});
    }
    process_text(seg, seg.seq + 1, now);
  } else {
    // Simultaneous open: SYN-RECEIVED, answer <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
    enter(State::kSynReceived);
    tcb_.snd_nxt = tcb_.iss;
  }
}

bool Connection::paws_rejects(const wire::TcpRepr& seg, Instant now) {
  if (!tcb_.ts_enabled || !seg.options.timestamps || seg.has(kRst)) return false;
  // RFC 7323 §5.5: a TS.Recent idle for more than 24 days is no longer trusted.
  if (now - tcb_.ts_recent_time > std::chrono::hours(24 * 24)) return false;
  // RFC 7323 §5.3 R1: a TSval older than TS.Recent marks an old duplicate.
  return static_cast<int32_t>(seg.options.timestamps->tsval - tcb_.ts_recent) < 0;
}

void Connection::update_ts_recent(const wire::TcpRepr& seg, Instant now) {
  if (!tcb_.ts_enabled || !seg.options.timestamps) return;
  // RFC 7323 §4.3 (2): SEG.TSval >= TS.Recent and SEG.SEQ =< Last.ACK.sent.
  const uint32_t tsval = seg.options.timestamps->tsval;
  // RFC 7323 §5.5: after 24 days idle TS.Recent is invalid, so the segment PAWS let through
  // replaces it whatever its TSval.
  const bool stale = now - tcb_.ts_recent_time > std::chrono::hours(24 * 24);
  if ((stale || static_cast<int32_t>(tsval - tcb_.ts_recent) >= 0) &&
      seg.seq <= tcb_.last_ack_sent) {
    tcb_.ts_recent = tsval;
    tcb_.ts_recent_time = now;
  }
}

void Connection::challenge_ack(Instant now) {
  // RFC 5961 §7: challenge ACKs are limited stack-wide and per connection (CVE-2016-5696).
  if (env_.challenge_acks == nullptr || env_.challenge_acks->allow(now, challenge_budget_)) {
    receiver_.require_ack_now();
  }
}

void Connection::enter_established(Instant now) {
  enter(State::kEstablished);
  sender_.on_synchronized(effective_send_mss(tcb_.peer_mss, *cfg_, tcb_.ts_enabled));
  events_.push(Event{EventKind::kConnected});
  // A CLOSE issued in SYN-RECEIVED was queued until now (RFC 9293 §3.10.4).
  if (sender_.fin_queued()) enter(State::kFinWait1);
  arm_keepalive(now);
}

void Connection::on_segment_synchronized(const wire::TcpRepr& seg, Instant now) {
  // RFC 7323 §3.2: once timestamps are in use, a non-RST segment without them is dropped.
  if (tcb_.ts_enabled && !seg.options.timestamps && !seg.has(kRst)) return;
  // RFC 7323 §5.3: PAWS comes before the sequence number check.
  if (paws_rejects(seg, now)) {
    receiver_.require_ack_now();
    return;
  }
  // First: sequence number (RFC 9293 §3.10.7.4, the four acceptability cases).
  bool text_allowed = true;
  if (!Receiver::acceptable(tcb_, seg.seq, seg.seq_len())) {
    if (tcb_.rcv_adv == tcb_.rcv_nxt && seg.seq == tcb_.rcv_nxt && !seg.has(kSyn)) {
      // A zero window accepts no text, but "special allowance should be made to accept valid
      // ACKs, URGs, and RSTs": keep the control part of a segment that starts at RCV.NXT.
      // A bare FIN needs no buffer space, so it is taken too (as Linux does); otherwise a
      // closed window could hold the peer's FIN back until it times out.
      text_allowed = seg.payload.empty() && seg.has(kFin);
    } else {
      // This includes a repeated SYN in SYN-RECEIVED (SEG.SEQ < RCV.NXT): it gets an ACK, as
      // §3.10.7.4 and RFC 5961 §4.2 say (Linux resends the SYN-ACK instead); the SYN-ACK
      // itself is repeated by the retransmission timer.
      if (!seg.has(kRst)) receiver_.require_ack_now();
      // RFC 2883 §4: an old segment seen again is reported with a D-SACK block.
      if (tcb_.sack_enabled && !seg.payload.empty() && !seg.has(kRst) &&
          seg.seq + static_cast<uint32_t>(seg.payload.size()) <= tcb_.rcv_nxt) {
        receiver_.on_duplicate(seg.seq, static_cast<uint32_t>(seg.payload.size()));
      }
      if (state_ == State::kTimeWait && seg.has(kFin) && !seg.has(kRst)) {
        // A retransmitted FIN: our last ACK was lost. ACK again and restart 2*MSL (§3.10.7.4).
        timers_.set(TimerKind::kTimeWait, now + 2 * cfg_->msl);
      }
      return;
    }
  }
  // TS.Recent is not recorded here, where RFC 7323 Appendix D places R3, but once the SYN and
  // ACK checks below have accepted the segment: one they drop (an in-window SYN, RFC 5961 §4.2;
  // an ACK of unsent data, RFC 9293 §3.10.7.4; an ACK too old, RFC 5961 §5.2) is not an
  // acceptable segment in §5.3's sense, and a blind one with a high TSval would otherwise make
  // PAWS discard the peer's real segments.

  // Second: RST.
  if (seg.has(kRst)) {
    if (state_ == State::kTimeWait) return;  // RFC 1337: TIME-WAIT assassination defence
    const uint32_t rcv_wnd = tcb_.rcv_adv.distance_from(tcb_.rcv_nxt);
    switch (classify_rst(seg.seq, tcb_.rcv_nxt, rcv_wnd)) {
      case RstVerdict::kDrop:
        return;
      case RstVerdict::kChallengeAck:
        challenge_ack(now);
        return;
      case RstVerdict::kReset:
        break;
    }
    switch (state_) {
      case State::kSynReceived:
        // Passive: back to the listener, which lives in the stack; active: refused.
        terminate(passive_ ? ErrorReason::kNone : ErrorReason::kRefused);
        break;
      case State::kEstablished:
      case State::kFinWait1:
      case State::kFinWait2:
      case State::kCloseWait:
        terminate(ErrorReason::kReset);
        break;
      default:
        terminate(ErrorReason::kNone);
        break;  // CLOSING, LAST-ACK
    }
    return;
  }

  // Fourth: SYN in a synchronized state.
  if (seg.has(kSyn)) {
    if (state_ == State::kSynReceived && passive_) {
      terminate(ErrorReason::kNone);  // RFC 9293: return to LISTEN (the stack's listener)
      return;
    }
    challenge_ack(now);  // RFC 5961 §4.2
    return;
  }

  // Fifth: ACK.
  if (!seg.has(kAck)) return;
  if (!process_ack(seg, now)) return;
  // RFC 7323 §4.3 (2) and §5.3 R3: the segment passed every check that drops; record TSval.
  update_ts_recent(seg, now);

  // Sixth: URG.
  if (seg.has(kUrg) && can_receive_data(state_) &&
      receiver_.on_urgent(tcb_, seg.seq + seg.urgent)) {
    events_.push(Event{EventKind::kUrgent});
  }
  // Seventh and eighth: text and FIN.
  if (!text_allowed) {
    receiver_.require_ack_now();  // tell the sender the window is still closed
    return;
  }
  process_text(seg, seg.seq, now);
}

bool Connection::process_ack(const wire::TcpRepr& seg, Instant now) {
  if (state_ == State::kSynReceived) {
    // RFC 9293 §3.10.7.4 fifth step, SYN-RECEIVED.
    if (seg.ack > tcb_.snd_una && seg.ack <= tcb_.snd_max) {
      enter_established(now);
    } else {
      queue_rst(seg.ack, wire::SeqNum(0), false);
      return false;
    }
  }
  switch (classify_ack(seg.ack, tcb_.snd_una, tcb_.snd_max, tcb_.max_snd_wnd)) {
    case AckVerdict::kTooNew:
      receiver_.require_ack_now();  // acknowledges something not yet sent: ACK and drop
      return false;
    case AckVerdict::kTooOld:
      challenge_ack(now);  // RFC 5961 §5.2
      return false;
    case AckVerdict::kAcceptable:
      break;
  }
  const uint32_t seg_wnd = uint32_t{seg.window} << tcb_.snd_wscale;
  const bool was_recovering = sender_.in_recovery();
  const wire::SeqNum una_before = tcb_.snd_una;
  const AckResult r = sender_.on_ack(tcb_, timers_, seg, seg_wnd, now);
  if (tcb_.snd_una > una_before) soft_error_.reset();  // progress: something worked (as Linux)
  // RFC 3168 §6.1.2: a loss reduction also counts as this window's reaction and sets CWR.
  if (!was_recovering && sender_.in_recovery()) ecn_.on_window_reduced(tcb_.snd_max);
  if (seg.has(kEce) && !seg.has(kSyn) && ecn_.on_ece_received(tcb_.snd_una, tcb_.snd_max)) {
    sender_.on_ecn_echo(tcb_, now);  // once per window of data
  }
  if (r.data_acked > 0 && can_send_data(state_)) events_.push(Event{EventKind::kWritable});
  if (r.fin_acked) {
    switch (state_) {
      case State::kFinWait1:
        enter(State::kFinWait2);
        break;
      case State::kClosing:
        enter_time_wait(now);
        break;
      case State::kLastAck:
        terminate(ErrorReason::kNone);
        return false;
      default:
        break;
    }
  }
  return true;
}

void Connection::process_text(const wire::TcpRepr& seg, wire::SeqNum text_seq, Instant now) {
  const bool fin = seg.has(kFin);
  if (!can_receive_data(state_)) {
    // RFC 9293 §3.10.7.4 seventh step: after the peer's FIN, text is ignored. A repeated FIN
    // is acknowledged; in TIME-WAIT it also restarts the 2*MSL wait.
    if (fin || !seg.payload.empty()) receiver_.require_ack_now();
    if (fin && state_ == State::kTimeWait) {
      timers_.set(TimerKind::kTimeWait, now + 2 * cfg_->msl);
    }
    return;
  }
  if (app_closed_ && !seg.payload.empty()) {
    // RFC 1122 §4.2.2.13: data for an application that closed is lost: say so with a RST. Its
    // sequence number is the peer's SEG.ACK (acceptable here, so SND.UNA =< SEG.ACK =< SND.MAX):
    // the peer's RCV.NXT, where RFC 5961 §3.2 accepts a RST, also while our FIN is unacknowledged.
    queue_rst(seg.ack, wire::SeqNum(0), false);
    terminate(ErrorReason::kNone);
    return;
  }
  if (seg.payload.empty() && !fin) return;
  const Receiver::TextResult r = receiver_.on_text(tcb_, text_seq, seg.payload, fin, now);
  if (r.newly_readable > 0) events_.push(Event{EventKind::kReadable});
  if (!r.fin) return;
  // Eighth step: the FIN.
  events_.push(Event{EventKind::kPeerFinished});
  switch (state_) {
    case State::kEstablished:
      enter(State::kCloseWait);
      break;
    case State::kFinWait1:
      if (sender_.fin_acked(tcb_)) {
        enter_time_wait(now);
      } else {
        enter(State::kClosing);  // simultaneous close
      }
      break;
    case State::kFinWait2:
      enter_time_wait(now);
      break;
    default:
      break;
  }
}

}  // namespace utcp::tcp
