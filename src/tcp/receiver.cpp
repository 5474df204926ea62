// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/receiver.hpp"

#include <algorithm>

#include "tcp/options_negotiation.hpp"

namespace utcp::tcp {

Receiver::Receiver(const Config& cfg)
    : queue_(cfg.recv_buffer),
      mss_(announced_mss(cfg)),
      ato_(cfg.delayed_ack),
      idle_threshold_(cfg.rto_initial) {}

void Receiver::on_syn(Tcb& tcb, wire::SeqNum seg_seq) {
  tcb.irs = seg_seq;
  tcb.rcv_nxt = seg_seq + 1;
  // The window our SYN (or SYN-ACK) offers, unscaled (RFC 7323 §2.2).
  tcb.rcv_adv = tcb.rcv_nxt + static_cast<uint32_t>(syn_room());
  tcb.last_ack_sent = tcb.rcv_nxt;
  read_seq_ = tcb.rcv_nxt;
}

uint16_t Receiver::syn_window(Tcb& tcb, bool rcv_nxt_known) {
  // RFC 7323 §2.2: the window in a SYN is never scaled.
  const auto w = static_cast<uint32_t>(syn_room());
  if (rcv_nxt_known && tcb.rcv_nxt + w > tcb.rcv_adv) tcb.rcv_adv = tcb.rcv_nxt + w;
  return static_cast<uint16_t>(w);
}

bool Receiver::acceptable(const Tcb& tcb, wire::SeqNum seq, uint32_t seg_len) {
  const uint32_t wnd = tcb.rcv_adv.distance_from(tcb.rcv_nxt);
  // RFC 9293 §3.10.7.4, the four cases of segment length x receive window.
  if (seg_len == 0 && wnd == 0) return seq == tcb.rcv_nxt;
  if (seg_len == 0) return seq.in_window(tcb.rcv_nxt, wnd);
  if (wnd == 0) return false;
  return seq.in_window(tcb.rcv_nxt, wnd) || (seq + (seg_len - 1)).in_window(tcb.rcv_nxt, wnd);
}

Receiver::TextResult Receiver::on_text(Tcb& tcb, wire::SeqNum seq, std::span<const uint8_t> payload,
                                       bool fin, Instant now) {
  TextResult r;
  bool duplicate = false;
  // Trim the front: bytes before RCV.NXT were already received (§3.10.7.4 "trimmed").
  if (seq < tcb.rcv_nxt) {
    const uint32_t skip = tcb.rcv_nxt.distance_from(seq);
    if (skip > payload.size()) {
      return r;  // only an old FIN remains: it was processed before
    }
    // RFC 2883 §4: the repeated part is reported in a D-SACK block.
    if (skip > 0) sack_.on_duplicate(seq, seq + std::min<uint32_t>(skip, payload.size()));
    payload = payload.subspan(skip);
    seq = tcb.rcv_nxt;
    duplicate = true;
  }
  const uint32_t offset = seq.distance_from(tcb.rcv_nxt);
  const uint32_t wnd = tcb.rcv_adv.distance_from(tcb.rcv_nxt);
  bool fin_fits = fin;
  // Trim the back to the offered window; the FIN goes with the trimmed tail.
  if (offset + payload.size() > wnd) {
    payload = payload.first(offset < wnd ? wnd - offset : 0);
    fin_fits = false;
  }
  if (fin_fits && !fin_received_ && !fin_pending_) {
    // RFC 9293 §3.10.7.4 eighth step: the peer's data ends at its FIN. Out-of-order bytes held
    // beyond it were never sent as part of this stream; drop them so that filling the gap
    // before the FIN cannot carry RCV.NXT (and our ACK) past the FIN.
    fin_pending_ = true;
    fin_seq_ = seq + static_cast<uint32_t>(payload.size());
    queue_.discard_from(offset + payload.size());
  }
  if (fin_received_) {
    payload = {};  // nothing follows a FIN that was processed
  } else if (fin_pending_) {
    // Bytes at or past a known FIN are not data of this connection (also from a segment that
    // disagrees with the first FIN: the first one stands).
    const uint32_t to_fin = fin_seq_.distance_from(seq);
    if (fin_seq_ <= seq) {
      payload = {};
    } else if (payload.size() > to_fin) {
      payload = payload.first(to_fin);
    }
  }
  if (payload.size() > largest_segment_) largest_segment_ = static_cast<uint32_t>(payload.size());
  const bool had_holes = queue_.has_out_of_order();
  if (offset > 0 && !payload.empty()) {
    // Out of order: a repeat of bytes already held is a D-SACK (RFC 2883 §4); either way the
    // segment leads the next SACK option (RFC 2018 §4).
    const uint32_t end = offset + static_cast<uint32_t>(payload.size());
    for (const auto& h : queue_.out_of_order()) {
      if (h.begin <= offset && end <= h.end) {
        sack_.on_duplicate(seq, seq + static_cast<uint32_t>(payload.size()));
        duplicate = true;
      }
    }
    sack_.on_out_of_order(seq, seq + static_cast<uint32_t>(payload.size()));
  }
  const size_t n = payload.empty() ? 0 : queue_.insert(offset, payload);
  tcb.rcv_nxt += static_cast<uint32_t>(n);
  r.newly_readable = n;
  r.out_of_order = offset > 0;
  r.filled_hole = had_holes && n > 0;
  if (fin_pending_ && tcb.rcv_nxt == fin_seq_) {
    // RFC 9293 §3.10.7.4 eighth step: the FIN is processed once everything before it arrived.
    tcb.rcv_nxt += 1;
    fin_pending_ = false;
    fin_received_ = true;
    r.fin = true;
  }
  // A FIN occupies a sequence number; keep the offered right edge at least at RCV.NXT.
  if (tcb.rcv_adv < tcb.rcv_nxt) tcb.rcv_adv = tcb.rcv_nxt;

  if (n > 0) note_data(wnd, now);
  if ((r.out_of_order && !payload.empty()) || duplicate) {
    // The sender is recovering from a loss, or repeats data because our ACK was lost or late:
    // acknowledge the segments after it at once too, so that its recovery and what follows
    // are clocked without delay. Linux's tcp_enter_quickack_mode does so for repeated data;
    // out-of-order data re-enters quick ACKs here as well.
    grant_quick_acks(wnd);
    pingpong_ = false;
  }

  // Acknowledgement policy (RFC 9293 §3.8.6.3, RFC 5681 §4.2).
  if (r.out_of_order || r.filled_hole || r.fin || duplicate) {
    // Out of order, filling all or part of a gap, or repeating old bytes: ACK at once
    // (RFC 5681 §4.2 SHOULD for the first two, RFC 9293 §3.10.7.4 for the last).
    demand_ = AckDemand::kNow;
  } else if (n > 0) {
    unacked_bytes_ += static_cast<uint32_t>(n);
    const uint32_t full = std::max<uint32_t>(std::min(largest_segment_, mss_), 1);
    // RFC 1122 §4.2.3.2 lets a receiver ACK every segment; in quick-ACK mode it does, so that
    // a sender in slow start grows its window per segment, not per two (as Linux). Otherwise
    // RFC 9293 §3.8.6.3 / RFC 5681 §4.2: at least every second full-sized segment.
    if (quick_ack_mode() || unacked_bytes_ >= 2 * full) {
      demand_ = AckDemand::kNow;
    } else if (demand_ == AckDemand::kNone) {
      demand_ = AckDemand::kDelayed;
    }
  }
  return r;
}

size_t Receiver::read(Tcb& tcb, std::span<uint8_t> dst) {
  const size_t n = queue_.read(dst);
  read_seq_ += static_cast<uint32_t>(n);
  // Once read past, the urgent mark is spent (urgent_mark() says none). Forgetting it keeps a
  // later, wrapped comparison from taking it for a mark ahead (RFC 9293 §3.4).
  if (tcb.rcv_up_valid && tcb.rcv_up <= read_seq_) tcb.rcv_up_valid = false;
  return n;
}

uint32_t Receiver::sws_threshold() const {
  // RFC 9293 §3.8.6.2.2: move the edge only by min(Fr * RCV.BUFF, Eff.snd.MSS), Fr = 1/2.
  return std::max<uint32_t>(1,
                            std::min<uint32_t>(static_cast<uint32_t>(queue_.capacity() / 2), mss_));
}

size_t Receiver::syn_room() const {
  // Under memory pressure a new connection starts with the window its guaranteed first ring
  // holds (see offer_room()).
  const size_t room = queue_.honours_window() ? queue_.window() : queue_.held_room();
  return std::min<size_t>(room, 0xffff);
}

size_t Receiver::offer_room(const Tcb& tcb) const {
  const size_t max_wnd = size_t{0xffff} << tcb.rcv_wscale;
  size_t room = std::min(queue_.window(), max_wnd);
  // Under memory pressure the window opens no further than the storage already held, so
  // what is offered can be honoured (as Linux's tcp_clamp_window); what was offered before
  // stays offered: the right edge never moves left (RFC 9293 §3.8.6.2.2).
  if (!queue_.honours_window()) room = std::min(room, queue_.held_room());
  // With scaling the peer sees multiples of 2^shift; offer only what it can see (RFC 7323 §2.3).
  return room & ~((size_t{1} << tcb.rcv_wscale) - 1);
}

void Receiver::update_right_edge(Tcb& tcb) {
  const size_t room = offer_room(tcb);
  const wire::SeqNum candidate = tcb.rcv_nxt + static_cast<uint32_t>(room);
  if (candidate <= tcb.rcv_adv) return;  // never shrink from the right
  const uint32_t growth = candidate.distance_from(tcb.rcv_adv);
  // SWS avoidance: the right edge moves only in steps of at least the threshold.
  if (growth >= sws_threshold()) tcb.rcv_adv = candidate;
}

uint16_t Receiver::window_field(Tcb& tcb) {
  update_right_edge(tcb);
  const uint32_t offered = tcb.rcv_adv.distance_from(tcb.rcv_nxt);
  return static_cast<uint16_t>(std::min<uint32_t>(offered >> tcb.rcv_wscale, 0xffff));
}

bool Receiver::window_update_due(const Tcb& tcb) const {
  const size_t room = offer_room(tcb);
  const uint32_t offered = tcb.rcv_adv.distance_from(tcb.rcv_nxt);
  if (room <= offered) return false;
  const size_t growth = room - offered;
  // Tell the peer when the SWS rule lets the edge move and the offer at least doubles or was
  // below one segment: small read-side updates ride on the next regular ACK instead.
  return growth >= sws_threshold() && (growth >= offered || offered < mss_);
}

void Receiver::grant_quick_acks(uint32_t window) {
  // Linux sizes the quick-ACK budget by the window: about one ACK per two segments the peer
  // may send in its first window, so a slow-starting sender is clocked per segment for as long
  // as it plausibly stays in slow start. The peer's MSS is estimated from what it sent (at
  // least the 536 bytes of RFC 9293 §3.7.1, as Linux's initial rcv_mss, at most our MSS).
  const uint32_t floor = std::min<uint32_t>(536, mss_);
  const uint32_t rcv_mss = std::clamp(largest_segment_, floor, std::max(floor, mss_));
  uint32_t n = window / (2 * rcv_mss);
  if (n == 0) n = 2;
  n = std::min<uint32_t>(n, kMaxQuickAcks);
  quick_acks_ = std::max<unsigned>(quick_acks_, n);
}

void Receiver::note_data(uint32_t window, Instant now) {
  if (!data_seen_) {
    // The connection's first data: the peer starts in slow start.
    data_seen_ = true;
    grant_quick_acks(window);
  } else if (now - last_data_ > idle_threshold_) {
    // Silent for more than an RTO: the peer restarts from its restart window (RFC 5681 §4.1)
    // and is in slow start again.
    grant_quick_acks(window);
  }
  last_data_ = now;
}

void Receiver::on_data_sent(Instant now) {
  // Linux enters ping-pong mode when it sends data within the ACK delay of the last data it
  // received: a request/response exchange, where delayed ACKs ride on the responses.
  if (data_seen_ && now - last_data_ < ato_) pingpong_ = true;
}

void Receiver::on_delayed_ack_timeout() {
  // The ACK could not ride on a reply in time: not interactive after all (Linux leaves
  // ping-pong mode when the delayed-ACK timer fires).
  pingpong_ = false;
  demand_ = AckDemand::kNow;
}

void Receiver::on_ack_sent(Tcb& tcb) {
  // Each ACK of new data uses one quick ACK (Linux's tcp_dec_quickack_mode).
  if (quick_acks_ > 0 && tcb.rcv_nxt != tcb.last_ack_sent) --quick_acks_;
  demand_ = AckDemand::kNone;
  unacked_bytes_ = 0;
  tcb.last_ack_sent = tcb.rcv_nxt;
}

bool Receiver::on_urgent(Tcb& tcb, wire::SeqNum up) {
  if (tcb.rcv_up_valid && up <= tcb.rcv_up) return false;
  tcb.rcv_up = up;
  tcb.rcv_up_valid = true;
  return true;
}

std::optional<uint64_t> Receiver::urgent_mark(const Tcb& tcb) const {
  if (!tcb.rcv_up_valid || tcb.rcv_up <= read_seq_) return std::nullopt;
  return tcb.rcv_up.distance_from(read_seq_);
}

}  // namespace utcp::tcp
