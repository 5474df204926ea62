// SPDX-License-Identifier: BSD-2-Clause
// Connection: application calls, timers and state bookkeeping. Segment arrival lives in
// connection_input.cpp, segment output in connection_output.cpp.
#include "tcp/connection.hpp"

#include <algorithm>

#include "tcp/options_negotiation.hpp"

namespace utcp::tcp {

namespace {
// RFC 9293 §3.7.1: the MSS is the MTU less the fixed IP header of the connection's family
// (20 bytes for IPv4, 40 for IPv6: RFC 8200 §3) and the TCP header.
uint8_t family_header_len(const Endpoints& ep) {
  return ep.remote_addr.is_v6() ? 40 : 20;
}
Config for_family(Config cfg, const Endpoints& ep) {
  cfg.ip_header_len = family_header_len(ep);
  return cfg;
}
}  // namespace

Connection::Connection(const Endpoints& ep, const Config& cfg, Env env)
    : Connection(ep, std::make_unique<Config>(for_family(cfg, ep)), env) {}

Connection::Connection(const Endpoints& ep, SharedConfig shared, Env env)
    : Connection(ep,
                 shared.cfg->ip_header_len == family_header_len(ep)
                     ? nullptr
                     : std::make_unique<Config>(for_family(*shared.cfg, ep)),
                 env, shared.cfg) {}

Connection::Connection(const Endpoints& ep, std::unique_ptr<Config> own, Env env,
                       const Config* shared)
    : ep_(ep),
      cfg_(own ? own.get() : shared),
      own_cfg_(std::move(own)),
      env_(env),
      sender_(*cfg_),
      receiver_(*cfg_),
      autotune_(cfg_->recv_buffer, cfg_->recv_buffer_max),
      ecn_(cfg_->ecn) {
  sender_.set_memory_budget(env_.memory);
  receiver_.set_memory_budget(env_.memory);
  autotune_.set_budget(env_.memory);
  // The window scale must cover what autotuning may grow the buffer to.
  tcb_.rcv_wscale = cfg_->window_scaling
                        ? window_shift_for(std::max(cfg_->recv_buffer, cfg_->recv_buffer_max))
                        : 0;
}

void Connection::open_active(Instant now, wire::SeqNum iss) {
  if (state_ != State::kClosed) return;
  sender_.start(tcb_, iss);
  tcb_.ts_offset = iss.raw();  // RFC 7323 §5.4: a per-connection, unpredictable offset
  passive_ = false;
  last_recv_ = now;
  enter(State::kSynSent);  // RFC 9293 §3.10.1: the SYN goes out from poll_transmit
}

void Connection::listen(wire::SeqNum iss) {
  if (state_ != State::kClosed) return;
  sender_.start(tcb_, iss);
  tcb_.ts_offset = iss.raw();
  passive_ = true;
  enter(State::kListen);
}

size_t Connection::send_space() const {
  if (!can_send_data(state_) || sender_.fin_queued()) return 0;
  // TCP_NOTSENT_LOWAT: writable only while the unsent bytes are under half the mark (as
  // Linux's poll), so that a woken writer is not stopped again after a few bytes.
  if (notsent_lowat_ != UINT32_MAX && 2 * uint64_t{send_unsent()} >= notsent_lowat_) return 0;
  return sender_.free_space();
}

bool Connection::below_notsent_lowat() const {
  return notsent_lowat_ == UINT32_MAX || send_unsent() < notsent_lowat_;
}

size_t Connection::send(std::span<const uint8_t> data, Instant) {
  // RFC 9293 §3.10.2: queued in SYN-SENT/SYN-RECEIVED, sent in ESTABLISHED/CLOSE-WAIT;
  // "connection closing" (0 here) once our FIN is queued.
  if (!can_send_data(state_) || sender_.fin_queued() || !below_notsent_lowat()) return 0;
  sender_.set_more(false);  // a write without MSG_MORE pushes what was held
  return sender_.write(tcb_, data, false);
}

size_t Connection::send_urgent(std::span<const uint8_t> data, Instant) {
  if (!can_send_data(state_) || sender_.fin_queued() || !below_notsent_lowat()) return 0;
  sender_.set_more(false);
  return sender_.write(tcb_, data, true);
}

size_t Connection::recv(std::span<uint8_t> dst, Instant now) {
  const size_t n = receiver_.read(tcb_, dst);
  bytes_received_ += n;
  if (n > 0 && cfg_->recv_buffer_max > cfg_->recv_buffer && is_synchronized(state_)) {
    // Receive autotuning: the buffer follows the rate the application drains it per RTT.
    const Duration rtt = sender_.rto().has_sample() ? sender_.rto().srtt() : Duration{0};
    if (auto grown = autotune_.on_delivered(n, now, rtt, sender_.mss())) set_recv_buffer(*grown);
  }
  // Tell the peer about a window that opened substantially (RFC 9293 §3.8.6.2.2).
  if (n > 0 && is_synchronized(state_) && !receiver_.fin_received() &&
      receiver_.window_update_due(tcb_)) {
    receiver_.require_ack_now();
  }
  return n;
}

void Connection::queue_fin_and_advance() {
  // RFC 9293 §3.10.4 CLOSE: the FIN follows all queued data.
  sender_.queue_fin(tcb_);
  switch (state_) {
    case State::kEstablished:
      enter(State::kFinWait1);
      break;
    case State::kCloseWait:
      enter(State::kLastAck);
      break;
    default:
      break;  // SYN-RECEIVED: queued until ESTABLISHED is entered
  }
}

void Connection::shutdown_write(Instant now) {
  switch (state_) {
    case State::kListen:
    case State::kSynSent:
      // RFC 9293 §3.10.4: nothing was synchronized yet; delete the TCB.
      terminate(ErrorReason::kNone);
      break;
    case State::kSynReceived:
    case State::kEstablished:
    case State::kCloseWait:
      if (!sender_.fin_queued()) queue_fin_and_advance();
      break;
    default:
      break;  // already closing: "error: connection closing" is a no-op here
  }
  after_input(now);
}

void Connection::close(Instant now) {
  app_closed_ = true;
  // RFC 1122 §4.2.2.13: closing with received data unread SHOULD reset, to show data was lost.
  if (receiver_.readable() > 0 && is_synchronized(state_) && state_ != State::kTimeWait) {
    abort(now);
    return;
  }
  shutdown_write(now);
}

void Connection::abort(Instant now) {
  // RFC 9293 §3.10.5.
  switch (state_) {
    case State::kSynReceived:
    case State::kEstablished:
    case State::kFinWait1:
    case State::kFinWait2:
    case State::kCloseWait:
      queue_rst(tcb_.snd_max, wire::SeqNum(0), false);
      terminate(ErrorReason::kAborted);
      break;
    case State::kClosed:
      break;
    default:
      terminate(ErrorReason::kAborted);
      break;
  }
  after_input(now);
}

void Connection::set_nodelay(bool on) {
  // The Sender holds the connection's setting; Config::nodelay is the initial one (so that
  // the many connections that turn Nagle off keep sharing the Stack's Config).
  sender_.set_nodelay(on);
}

void Connection::set_keepalive(const KeepaliveConfig& k, Instant now) {
  own_config().keepalive = k;
  keepalive_sent_ = 0;
  arm_keepalive(now);
}

void Connection::set_user_timeout(Duration d) {
  if (cfg_->user_timeout != d) own_config().user_timeout = d;
}

void Connection::set_path_mtu(uint16_t mtu) {
  // A device cuts a TSO segment at its own MTU, not at this path's: below the MTU the
  // connection started with, one MSS per segment, or every piece would draw another "too
  // big" (RFC 8201 §4, RFC 1191 §6.3).
  if (mtu < cfg_->path_mtu) sender_.set_tso_max(0);
  // RFC 1191 §6.2: never below 68.
  const uint16_t path_mtu = std::max<uint16_t>(mtu, 68);
  if (path_mtu != cfg_->path_mtu) own_config().path_mtu = path_mtu;
  if (is_synchronized(state_)) {
    sender_.set_mss(effective_send_mss(tcb_.peer_mss, *cfg_, tcb_.ts_enabled));
  }
}

void Connection::set_user_mss(uint16_t mss) {
  if (!is_synchronized(state_) && mss != cfg_->mss) own_config().mss = mss;
}

size_t Connection::send_unsent() const {
  // SND.MAX - SND.UNA counts an unacknowledged SYN and FIN, which hold no buffer bytes.
  size_t flight = tcb_.snd_max.distance_from(tcb_.snd_una);
  if (!sender_.syn_acked() && flight) --flight;
  if (sender_.fin_sent(tcb_) && !sender_.fin_acked(tcb_) && flight) --flight;
  return sender_.queued() > flight ? sender_.queued() - flight : 0;
}

void Connection::on_icmp_error(IcmpError e, Instant now) {
  // RFC 1122 §4.2.3.9: protocol and port unreachable are hard errors; RFC 5461 §4 treats them
  // as soft once synchronized, so only an opening connection is aborted by them.
  if (state_ == State::kSynSent &&
      (e == IcmpError::kProtocolUnreachable || e == IcmpError::kPortUnreachable)) {
    terminate(ErrorReason::kRefused);
    after_input(now);
    return;
  }
  // A smaller path MTU was already applied by set_path_mtu: nothing to tell (as Linux).
  if (e == IcmpError::kFragmentationNeeded || state_ == State::kClosed) return;
  // RFC 9293 §3.9.2.2 (SHLD-25): tell the application, and keep the connection.
  soft_error_ = SoftError{SoftError::Kind::kIcmp, e};
  events_.push(Event{EventKind::kSoftError});
}

void Connection::set_send_buffer(size_t bytes) {
  if (bytes != cfg_->send_buffer) own_config().send_buffer = bytes;
  sender_.set_capacity(bytes);
}

void Connection::set_recv_buffer(size_t bytes) {
  // Before the SYN the window scale follows the new size; afterwards the buffer may only grow,
  // because the window already offered must not shrink (RFC 9293 §3.8.6.2.2).
  if (state_ == State::kClosed || state_ == State::kListen) {
    if (bytes != cfg_->recv_buffer) own_config().recv_buffer = bytes;
    tcb_.rcv_wscale =
        cfg_->window_scaling ? window_shift_for(std::max(bytes, cfg_->recv_buffer_max)) : 0;
    autotune_.set_capacity(bytes);
  } else if (bytes > cfg_->recv_buffer) {
    own_config().recv_buffer = bytes;
  } else {
    return;
  }
  receiver_.set_capacity(cfg_->recv_buffer);
}

Config& Connection::own_config() {
  // Copy-on-write: the first option this connection changes gives it a Config of its own; the
  // rest keep reading the Stack's.
  if (!own_cfg_) {
    own_cfg_ = std::make_unique<Config>(*cfg_);
    cfg_ = own_cfg_.get();
  }
  return *own_cfg_;
}

void Connection::end_time_wait() {
  if (state_ == State::kTimeWait) terminate(ErrorReason::kNone);
}

void Connection::enter(State s) {
  state_ = s;
}

void Connection::enter_time_wait(Instant now) {
  enter(State::kTimeWait);
  // RFC 9293 §3.10.7.4: only the 2*MSL timer runs in TIME-WAIT.
  timers_.stop_all();
  timers_.set(TimerKind::kTimeWait, now + 2 * cfg_->msl);
}

void Connection::terminate(ErrorReason reason) {
  if (state_ == State::kClosed) return;
  enter(State::kClosed);
  timers_.stop_all();
  if (reason != ErrorReason::kNone) {
    error_ = reason;
    events_.push(Event{EventKind::kError, reason});
  }
  events_.push(Event{EventKind::kClosed});
}

void Connection::queue_rst(wire::SeqNum seq, wire::SeqNum ack, bool with_ack) {
  pending_rst_ = PendingRst{seq, ack, with_ack};
}

void Connection::arm_keepalive(Instant now) {
  if (!cfg_->keepalive.enabled || (state_ != State::kEstablished && state_ != State::kCloseWait)) {
    timers_.stop(TimerKind::kKeepalive);
    return;
  }
  // RFC 1122 §4.2.3.6: probe only after the connection was idle for the keepalive time.
  const Duration wait = keepalive_sent_ == 0 ? cfg_->keepalive.idle : cfg_->keepalive.interval;
  const Instant base = keepalive_sent_ == 0 ? last_recv_ : now;
  timers_.set(TimerKind::kKeepalive, std::max(base + wait, now));
}

// Bookkeeping after every input: delayed-ACK timer, user timeout, keepalive.
void Connection::after_input(Instant now) {
  if (state_ == State::kClosed || state_ == State::kListen || state_ == State::kTimeWait) return;
  receiver_.set_idle_threshold(sender_.rto().rto());  // quick ACKs restart after this silence
  if (receiver_.ack_demand() == AckDemand::kDelayed) {
    timers_.set_if_idle(TimerKind::kDelayedAck, now + cfg_->delayed_ack);
  } else if (receiver_.ack_demand() == AckDemand::kNone) {
    timers_.stop(TimerKind::kDelayedAck);
  }
  if (cfg_->user_timeout.count() > 0 && sender_.has_outstanding(tcb_) &&
      timers_.running(TimerKind::kRetransmit)) {
    timers_.set(TimerKind::kUserTimeout, sender_.outstanding_since() + cfg_->user_timeout);
  } else {
    timers_.stop(TimerKind::kUserTimeout);
  }
  if (!timers_.running(TimerKind::kKeepalive)) arm_keepalive(now);
  // An orphan in FIN-WAIT-2 waits for the peer's FIN only so long (Config::fin_wait2_timeout);
  // the TIME-WAIT timer serves, as in Linux: its expiry deletes the TCB. A FIN that does come
  // moves to TIME-WAIT, which sets the timer to 2*MSL afresh.
  if (state_ == State::kFinWait2 && app_closed_ && cfg_->fin_wait2_timeout.count() > 0) {
    timers_.set_if_idle(TimerKind::kTimeWait, now + cfg_->fin_wait2_timeout);
  }
}

void Connection::on_retransmit_timeout(Instant now) {
  const bool syn_phase = state_ == State::kSynSent || state_ == State::kSynReceived;
  const unsigned count = sender_.on_retransmit_timeout(tcb_, timers_, now);
  // RFC 1122 §4.2.3.5: give up after R2 (SYN: syn_retries, SYN-ACK of a passive open:
  // synack_retries, data: max_retransmits).
  const unsigned limit = !syn_phase ? cfg_->max_retransmits
                         : passive_ ? cfg_->synack_retries
                                    : cfg_->syn_retries;
  if (count > limit) {
    terminate(ErrorReason::kTimedOut);
    return;
  }
  // RFC 1122 §4.2.3.5 / RFC 9293 §3.8.3 (SHLD-9): R1 reached before R2; the application is
  // told once per segment, and the connection keeps retransmitting.
  if (cfg_->r1_retransmits != 0 && count == cfg_->r1_retransmits) {
    soft_error_ = SoftError{SoftError::Kind::kRetransmitThreshold};
    events_.push(Event{EventKind::kSoftError});
  }
  if (syn_phase) sender_.on_syn_retransmitted();
}

void Connection::on_keepalive_timeout(Instant now) {
  if (keepalive_sent_ >= cfg_->keepalive.count) {
    terminate(ErrorReason::kTimedOut);  // RFC 1122 §4.2.3.6: the peer is dead
    return;
  }
  // Only probe an idle connection: nothing unacknowledged (the retransmission timer covers that).
  if (!sender_.has_outstanding(tcb_)) {
    keepalive_probe_ = true;
    ++keepalive_sent_;
  }
  timers_.set(TimerKind::kKeepalive, now + cfg_->keepalive.interval);
}

Instant Connection::memory_release_deadline() const {
  if (cfg_->idle_release.count() <= 0 || state_ == State::kClosed) return kNever;
  // Only what release_idle_memory() would free counts, so the deadline is kNever right after
  // it ran (or while every buffer holds data): it never fires twice for one idle period.
  if (sender_.releasable() + receiver_.releasable() == 0) return kNever;
  // Under memory pressure idle storage goes eight times sooner (as Linux reclaims under
  // tcp_memory_pressure); a deadline set before the pressure began stays as it was.
  const bool pressure = env_.memory != nullptr && env_.memory->under_pressure();
  return std::max(last_recv_, sender_.last_send()) +
         (pressure ? cfg_->idle_release / 8 : cfg_->idle_release);
}

void Connection::release_idle_memory() {
  sender_.release_idle_memory();
  receiver_.release_idle_memory();
}

void Connection::on_timeout(Instant now) {
  if (timers_.expired(TimerKind::kTimeWait, now)) {
    // RFC 9293 §3.10.8: TIME-WAIT timeout deletes the TCB (or an orphan's FIN-WAIT-2 ended).
    terminate(ErrorReason::kNone);
    return;
  }
  if (timers_.expired(TimerKind::kUserTimeout, now)) {
    terminate(ErrorReason::kTimedOut);  // RFC 9293 §3.10.8 USER TIMEOUT
    return;
  }
  // Timers due together run in deadline order; a PTO capped at the RTO expiry (RFC 8985 §7.2)
  // ties with it and goes first, so the tail is probed rather than timed out.
  const bool loss_first =
      timers_.expired(TimerKind::kLossDetection, now) &&
      timers_.at(TimerKind::kLossDetection) <= timers_.at(TimerKind::kRetransmit);
  if (loss_first) sender_.on_loss_timer(tcb_, timers_, now);
  if (timers_.expired(TimerKind::kRetransmit, now)) {
    on_retransmit_timeout(now);
    if (state_ == State::kClosed) return;
  }
  if (timers_.expired(TimerKind::kPersist, now)) {
    // RFC 9293 §3.8.6.1 (MUST-37) keeps a closed window open only while the peer answers the
    // probes; unanswered ones are retransmissions like any other and give up at R2 (RFC 1122
    // §4.2.3.5), as Linux does. Without this a peer that vanishes behind a zero window (or an
    // attacker advertising one) holds the connection forever.
    if (sender_.probes_unanswered() >= cfg_->max_retransmits) {
      terminate(ErrorReason::kTimedOut);
      return;
    }
    sender_.on_persist_timeout(timers_);
  }
  if (!loss_first && timers_.expired(TimerKind::kLossDetection, now)) {
    sender_.on_loss_timer(tcb_, timers_, now);
  }
  // The pacer's release time: the poll_transmit that follows sends the held data.
  if (timers_.expired(TimerKind::kPacing, now)) timers_.stop(TimerKind::kPacing);
  if (timers_.expired(TimerKind::kDelayedAck, now)) {
    timers_.stop(TimerKind::kDelayedAck);
    receiver_.on_delayed_ack_timeout();
  }
  if (timers_.expired(TimerKind::kKeepalive, now)) {
    on_keepalive_timeout(now);
    if (state_ == State::kClosed) return;
  }
  after_input(now);
}

}  // namespace utcp::tcp
