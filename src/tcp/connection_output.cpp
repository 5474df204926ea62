// SPDX-License-Identifier: BSD-2-Clause
// Connection: building outgoing segments (RST, SYN, SYN-ACK, data, FIN, probes, ACKs).
#include <algorithm>
#include <optional>

#include "tcp/connection.hpp"
#include "tcp/options_negotiation.hpp"
#include "wire/ipv4.hpp"

namespace utcp::tcp {

using namespace wire::tcp_flag;

wire::TcpRepr Connection::make_repr(uint8_t flags, wire::SeqNum seq) const {
  wire::TcpRepr r;
  r.src_port = ep_.local_port;
  r.dst_port = ep_.remote_port;
  r.seq = seq;
  r.flags = flags;
  if (flags & kAck) r.ack = tcb_.rcv_nxt;
  // RFC 3168 §6.1.3: ECE on every ACK until the sender's CWR arrives.
  if ((flags & kAck) && !(flags & (kSyn | kRst)) && ecn_.ece_pending()) r.flags |= kEce;
  return r;
}

void Connection::add_timestamp(wire::TcpRepr& repr, Instant now) const {
  // RFC 7323 §3.2: once negotiated, every segment (RST aside) carries TSopt, echoing TS.Recent.
  if (tcb_.ts_enabled) {
    repr.options.timestamps = wire::TcpTimestamps{sender_.timestamp_now(tcb_, now), tcb_.ts_recent};
  }
}

size_t Connection::emit(wire::TcpRepr& repr, std::span<uint8_t> buf, const SendPlan* plan) {
  const size_t len = plan ? plan->len : 0;
  if (tcb_.sack_enabled && repr.has(kAck) && !repr.has(kSyn) && !repr.has(kRst) &&
      receiver_.sack_pending()) {
    // RFC 2018 §4: up to 3 blocks beside timestamps (4 without); never growing a full segment
    // past the path MTU.
    const size_t hdrs = size_t{cfg_->ip_header_len} + wire::kTcpHeaderMin;
    const size_t room =
        std::min<size_t>(wire::kTcpHeaderMax - wire::kTcpHeaderMin,
                         cfg_->path_mtu > hdrs + len ? cfg_->path_mtu - hdrs - len : 0);
    const size_t base = repr.options.encoded_len();
    size_t max_blocks = tcb_.ts_enabled ? 3 : 4;
    while (max_blocks > 0 && base + 4 + 8 * max_blocks > room) --max_blocks;
    if (max_blocks > 0) {
      repr.options.sack_count =
          static_cast<uint8_t>(receiver_.sack_blocks(tcb_, repr.options.sack_blocks, max_blocks));
    }
  }
  const size_t hlen = repr.header_len();
  if (buf.size() < hlen + len) return 0;
  if (len > 0) {
    sender_.copy_payload(tcb_, *plan, buf.subspan(hlen, len));
    repr.payload = buf.subspan(hlen, len);
  }
  // RFC 3168 §6.1.2/§6.1.4-6: ECT(0) on new data only; CWR on the first new data segment
  // after a reduction.
  const bool new_data = plan != nullptr && len > 0 && !plan->probe && plan->seq >= tcb_.snd_max;
  last_ecn_ = static_cast<uint8_t>(ecn_.codepoint(new_data, false, false));
  if (new_data && ecn_.cwr_pending()) repr.flags |= kCwr;
  // A TSO segment the device cuts and checksums itself needs no checksum from us.
  const size_t above = cfg_->tso_checksum_offload_above;
  const bool device_sums = above != 0 && cfg_->ip_header_len + hlen + len > above &&
                           (repr.flags & ~(kAck | kPsh | kFin)) == 0;
  const size_t n = repr.emit(buf, ep_.local_addr, ep_.remote_addr, !device_sums);
  if (n > 0 && new_data && (repr.flags & kCwr)) ecn_.commit_cwr();
  if (n > 0 && repr.has(kAck)) {
    receiver_.on_ack_sent(tcb_);
    timers_.stop(TimerKind::kDelayedAck);
  }
  return n;
}

size_t Connection::emit_syn(std::span<uint8_t> buf, Instant now) {
  const uint32_t tsval = sender_.timestamp_now(tcb_, now);
  wire::TcpRepr r;
  if (state_ == State::kSynSent) {
    r = make_repr(kSyn, tcb_.iss);
    r.flags |= ecn_.syn_flags();
    r.window = receiver_.syn_window(tcb_, false);
    r.options = syn_options(*cfg_, tcb_.rcv_wscale, tsval);
  } else {
    r = make_repr(kSyn | kAck, tcb_.iss);
    r.flags |= ecn_.syn_ack_flags();
    r.window = receiver_.syn_window(tcb_, true);
    Negotiated n;
    n.window_scaling = peer_offered_wscale_;
    n.timestamps = tcb_.ts_enabled;
    n.sack = tcb_.sack_enabled;
    r.options = syn_ack_options(*cfg_, n, tcb_.rcv_wscale, tsval, tcb_.ts_recent);
  }
  const size_t len = emit(r, buf, nullptr);
  if (len > 0) sender_.on_sent(tcb_, timers_, tcb_.iss, 1, false, now);
  return len;
}

size_t Connection::poll_transmit(Instant now, std::span<uint8_t> buf) {
  if (pending_rst_) {
    wire::TcpRepr r = make_repr(pending_rst_->with_ack ? (kRst | kAck) : kRst, pending_rst_->seq);
    r.ack = pending_rst_->with_ack ? pending_rst_->ack : wire::SeqNum(0);
    const size_t n = r.emit(buf, ep_.local_addr, ep_.remote_addr);
    if (n > 0) pending_rst_.reset();
    return n;
  }
  switch (state_) {
    case State::kClosed:
    case State::kListen:
      return 0;
    case State::kSynSent:
      return tcb_.snd_nxt == tcb_.iss ? emit_syn(buf, now) : 0;
    case State::kSynReceived:
      if (tcb_.snd_nxt == tcb_.iss) return emit_syn(buf, now);
      break;
    default:
      break;
  }

  if (state_ != State::kTimeWait && state_ != State::kSynReceived) {
    sender_.restart_after_idle(tcb_, now);
    std::optional<SendPlan> plan = sender_.plan(tcb_, now);
    if (plan && sender_.pacing_holds(tcb_, *plan, now)) {
      // New data waits for the pacer (pacing.hpp); its timer brings us back, and anything else
      // due (an ACK below) still goes now.
      timers_.set(TimerKind::kPacing, sender_.pacing_release());
      plan.reset();
    } else {
      timers_.stop(TimerKind::kPacing);
    }
    if (plan) {
      uint8_t flags = kAck;
      if (plan->fin) flags |= kFin;
      if (plan->psh) flags |= kPsh;
      wire::TcpRepr r = make_repr(flags, plan->seq);
      if (auto up = sender_.urgent_pointer(tcb_, plan->seq)) {
        r.flags |= kUrg;  // RFC 9293 §3.8.5 (MUST-30/31)
        r.urgent = *up;
      }
      add_timestamp(r, now);
      r.window = receiver_.window_field(tcb_);
      const bool new_data = plan->len > 0 && !plan->probe && plan->seq >= tcb_.snd_max;
      const size_t n = emit(r, buf, &*plan);
      if (n == 0) return 0;
      if (new_data) receiver_.on_data_sent(now);  // a reply: delayed ACKs ride on replies
      sender_.commit(tcb_, timers_, *plan, now);
      sender_.update_persist(tcb_, timers_, now);
      after_input(now);
      return n;
    }
    sender_.update_persist(tcb_, timers_, now);
  }

  if (keepalive_probe_) {
    keepalive_probe_ = false;
    // RFC 1122 §4.2.3.6: <SEQ=SND.NXT-1> with no data makes the peer answer with an ACK.
    wire::TcpRepr r = make_repr(kAck, tcb_.snd_nxt - 1);
    add_timestamp(r, now);
    r.window = receiver_.window_field(tcb_);
    return emit(r, buf, nullptr);
  }
  if (receiver_.ack_demand() == AckDemand::kNow) {
    // A bare ACK carries SND.MAX, not a SND.NXT pulled back by a retransmission timeout: the
    // peer has already seen up to there, and a sequence number below its RCV.NXT would make
    // the ACK unacceptable to it (RFC 9293 §3.10.7.4). When both ends go back at once, each
    // would then drop the other's ACKs forever.
    wire::TcpRepr r = make_repr(kAck, tcb_.snd_max);
    add_timestamp(r, now);
    r.window = receiver_.window_field(tcb_);
    return emit(r, buf, nullptr);
  }
  return 0;
}

}  // namespace utcp::tcp
