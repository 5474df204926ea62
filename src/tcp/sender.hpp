// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The sending half of a connection: the send buffer and sequence space, segmentation at the
// effective MSS (RFC 9293 §3.7.1), Nagle (§3.7.4), sender SWS avoidance (§3.8.6.2.1), zero-window
// probing (§3.8.6.1), retransmission per RFC 6298 with Karn's rule or timestamps (RFC 7323 §4),
// and loss recovery (LossRecovery: RFC 6675 SACK recovery with PRR, NewReno, RACK-TLP) driving
// the congestion controller.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "tcp/congestion_control.hpp"
#include "tcp/cwnd_validation.hpp"
#include "tcp/loss_recovery.hpp"
#include "tcp/pacing.hpp"
#include "tcp/rto_estimator.hpp"
#include "tcp/send_buffer.hpp"
#include "tcp/snd_autotune.hpp"
#include "tcp/tcb.hpp"
#include "tcp/timers.hpp"
#include "tcp/write_marks.hpp"
#include "utcp/tcp_config.hpp"
#include "wire/tcp.hpp"

namespace utcp::tcp {

// One segment the sender wants on the wire: `len` data bytes from `seq`, maybe a FIN after them.
struct SendPlan {
  wire::SeqNum seq;
  uint32_t len = 0;
  bool fin = false;
  bool psh = false;
  bool probe = false;       // zero-window probe: sent beyond the window, SND.NXT does not move
  bool rescue = false;      // RFC 6675 NextSeg rule 4 retransmission
  bool loss_probe = false;  // RFC 8985 §7.3 tail loss probe
};

struct AckResult {
  uint32_t data_acked = 0;  // send-buffer bytes released
  bool new_ack = false;     // SND.UNA advanced
  bool syn_acked = false;   // this ACK covered our SYN
  bool fin_acked = false;   // this ACK covered our FIN
};

class Sender {
 public:
  explicit Sender(const Config& cfg);

  // Starts the send sequence space at ISS (RFC 9293 §3.3.1).
  void start(Tcb& tcb, wire::SeqNum iss);
  // Both SYNs are known: the segment size is fixed and the congestion window starts.
  void on_synchronized(uint32_t eff_mss);
  void set_mss(uint32_t eff_mss);
  uint32_t mss() const { return mss_; }
  void set_nodelay(bool on) { nodelay_ = on; }
  bool nodelay() const { return nodelay_; }
  // Segments of several MSS for the device to cut (Config::tso_max_bytes); 0: one MSS each.
  void set_tso_max(uint32_t bytes) { tso_max_ = bytes; }
  // Linux's TCP_CORK: while on, a segment shorter than the MSS is held (full ones go) until
  // cork is cleared, a FIN follows, or the data sat kCorkCeiling with nothing in flight.
  // MSG_MORE (set_more) is the same for the data of one write: the next write without it
  // clears it.
  static constexpr Duration kCorkCeiling{200'000};
  void set_cork(bool on) { cork_ = on; }
  bool corked() const { return cork_; }
  void set_more(bool on) { more_ = on; }
  // Both SYNs carried SACK-permitted (RFC 2018 §2).
  void set_sack(bool on) { lr_.set_sack(on); }
  // An explicit size (SO_SNDBUF): pins the buffer, autotuning stops.
  void set_capacity(size_t bytes) {
    buf_.set_capacity(bytes);
    snd_tune_.pin(buf_.capacity());
  }
  size_t capacity() const { return buf_.capacity(); }

  // Application writes; urgent data sets SND.UP past its last byte (RFC 9293 §3.8.5).
  size_t write(Tcb& tcb, std::span<const uint8_t> data, bool urgent);
  // No more data: a FIN follows the last byte in the buffer.
  void queue_fin(const Tcb& tcb);
  bool fin_queued() const { return fin_queued_; }
  bool fin_sent(const Tcb& tcb) const { return fin_queued_ && tcb.snd_max > fin_seq_; }
  bool fin_acked(const Tcb& tcb) const { return fin_queued_ && tcb.snd_una > fin_seq_; }
  // Our SYN was acknowledged. A state of its own, not SND.UNA > ISS: that comparison is modulo
  // 2^32 and turns false again once 2^31 bytes have been acknowledged (RFC 9293 §3.4).
  bool syn_acked() const { return syn_acked_; }
  // Bytes written and not yet acknowledged / room left.
  size_t queued() const { return buf_.size(); }
  size_t free_space() const { return buf_.free_space(); }
  // Data bytes (not SYN/FIN) in flight: SND.MAX - SND.UNA less control flags.
  bool has_outstanding(const Tcb& tcb) const { return tcb.snd_max > tcb.snd_una; }

  // Something was sent that occupies sequence space (SYN, data, FIN) or was a probe.
  void on_sent(Tcb& tcb, Timers& timers, wire::SeqNum seq, uint32_t seq_len, bool probe,
               Instant now);

  // RFC 9293 §3.10.7.4 fifth step for an acceptable ACK (SEG.ACK <= SND.MAX): advances SND.UNA,
  // updates the window, samples RTT, counts duplicate ACKs and drives congestion control.
  // `seg_wnd` is the peer's window already scaled (or unscaled for a SYN).
  AckResult on_ack(Tcb& tcb, Timers& timers, const wire::TcpRepr& seg, uint32_t seg_wnd,
                   Instant now);

  // Next data/FIN segment allowed now, if any (does not change state).
  std::optional<SendPlan> plan(const Tcb& tcb, Instant now) const;
  // Copies plan bytes from the send buffer.
  void copy_payload(const Tcb& tcb, const SendPlan& p, std::span<uint8_t> dst) const;
  // Records a planned segment as transmitted.
  void commit(Tcb& tcb, Timers& timers, const SendPlan& p, Instant now);
  // After every transmit opportunity: start or stop the persist timer.
  void update_persist(const Tcb& tcb, Timers& timers, Instant now);

  // RFC 6298 §5.4-5.6. Returns the number of consecutive timeouts without progress (R2).
  unsigned on_retransmit_timeout(Tcb& tcb, Timers& timers, Instant now);
  // RFC 9293 §3.8.6.1: time to probe the closed window (or override SWS holding).
  void on_persist_timeout(Timers& timers);
  // RFC 3168 §6.1.2: an ECN-Echo calls for one window reduction (the caller limits it to once
  // per window).
  void on_ecn_echo(const Tcb& tcb, Instant now) {
    cc_->on_ecn_echo(tcb.snd_max.distance_from(tcb.snd_una), now);
  }
  // RFC 8985: the RACK reordering timer or the tail loss probe timer fired.
  void on_loss_timer(const Tcb& tcb, Timers& timers, Instant now);
  // RFC 5681 §4.1: before sending after an idle period longer than the RTO.
  void restart_after_idle(const Tcb& tcb, Instant now);

  // Pacing (pacing.hpp). Only new data is paced, and only while something is in flight: a
  // retransmission repairs a loss the flight already paid for and PRR/cwnd bound it, a zero
  // window probe, a tail loss probe or a FIN alone is one small segment sent by a timer, and
  // the first send after idle has no burst behind it to spread. Pure ACKs, RSTs and SYNs never
  // come through the plan at all.
  bool pacing_holds(const Tcb& tcb, const SendPlan& p, Instant now) const;
  Instant pacing_release() const { return pacer_.release_time(); }
  // Bytes per second (0 = unpaced: pacing off or no RTT sample yet), Linux's sk_pacing_rate.
  uint64_t pacing_rate(const Tcb& tcb) const;

  // Urgent pointer for a segment starting at `seq` (0 = none), per RFC 6093.
  std::optional<uint16_t> urgent_pointer(const Tcb& tcb, wire::SeqNum seq) const;

  // SYN retransmitted without an RTT sample: RFC 6298 §5.7 asks for a 3 s RTO afterwards.
  void on_syn_retransmitted() { syn_retransmitted_ = true; }

  const RtoEstimator& rto() const { return rto_; }
  RtoEstimator& rto() { return rto_; }
  const CongestionControl& cc() const { return *cc_; }
  const CwndValidation& cwnd_validation() const { return cwv_; }
  unsigned dup_acks() const { return lr_.dup_acks(); }
  bool in_recovery() const { return lr_.in_recovery(); }
  const LossRecovery& recovery() const { return lr_; }
  uint64_t rto_count() const { return rto_count_; }
  uint64_t bytes_sent() const { return bytes_sent_; }
  uint64_t bytes_acked() const { return bytes_acked_; }
  uint64_t segments_sent() const { return segs_out_; }
  unsigned persist_backoff() const { return persist_backoff_; }
  // Persist-timer probes sent since the peer last acknowledged anything.
  unsigned probes_unanswered() const { return probes_unanswered_; }
  Instant outstanding_since() const { return outstanding_since_; }
  uint32_t timestamp_now(const Tcb& tcb, Instant now) const;
  // When something last went out (sequence space or a probe); zero before the first.
  Instant last_send() const { return last_send_; }

  // Heap bytes of the send ring and the loss-recovery logs; freeing those that hold nothing.
  size_t allocated() const { return buf_.allocated() + lr_.allocated(); }
  size_t releasable() const { return buf_.releasable() + lr_.releasable(); }
  // The stack-wide memory budget the send ring and its autotuning answer to (null: none).
  void set_memory_budget(MemoryBudget* budget) {
    buf_.set_budget(budget);
    snd_tune_.set_budget(budget);
  }
  void release_idle_memory() {
    buf_.release_if_empty();
    lr_.release_idle_memory();
  }

 private:
  wire::SeqNum data_front(const Tcb& tcb) const;
  wire::SeqNum data_end(const Tcb& tcb) const;
  uint32_t usable_window(const Tcb& tcb, wire::SeqNum from) const;
  Duration persist_interval() const;
  // TCP_CORK / MSG_MORE hold back the short tail of a `len`-byte segment from `nxt`.
  bool cork_holds(const Tcb& tcb, wire::SeqNum nxt, uint32_t len) const;
  std::optional<SendPlan> recovery_plan(const Tcb& tcb) const;
  std::optional<SendPlan> loss_probe_plan(const Tcb& tcb) const;
  SendPlan segment_at(const Tcb& tcb, wire::SeqNum seq, uint32_t len) const;
  // Nagle (RFC 9293 §3.7.4) with Minshall's refinement: may a short segment from `nxt` go?
  bool nagle_allows_small(const Tcb& tcb, wire::SeqNum nxt) const;
  bool small_unacked(const Tcb& tcb) const;
  // RFC 9293 §3.9.1.2: PSH on a segment whose last byte ends an application write.
  bool push_at(wire::SeqNum seq, uint32_t len) const {
    return len > 0 && writes_.crosses(seq, len);
  }
  void arm_loss_timer(const Tcb& tcb, Timers& timers, Instant now);

  // Ordered by alignment (8, 4, 1 bytes) so that the object, one per connection, carries
  // little padding.
  SendBuffer buf_;
  SndAutotune snd_tune_;
  CwndValidation cwv_;
  std::unique_ptr<CongestionControl> cc_;
  RtoEstimator rto_;
  uint32_t iw_segments_;
  uint32_t mss_ = 536;
  uint32_t tso_max_ = 0;       // Config::tso_max_bytes
  wire::SeqNum snd_sml_;       // end of the last short segment sent (Minshall's refinement)
  WriteMarks writes_;          // where unacknowledged writes end (PSH)
  wire::SeqNum last_new_seq_;  // start of the most recent segment of new data (TLP, RFC 8985 §7.3)
  wire::SeqNum fin_seq_;

  LossRecovery lr_;
  Pacer pacer_;
  uint64_t rto_count_ = 0;
  uint64_t bytes_sent_ = 0;
  uint64_t bytes_acked_ = 0;
  uint64_t segs_out_ = 0;

  // RTT timing of one segment at a time when timestamps are off (Karn's rule).
  Instant rtt_start_{};
  Instant last_send_{};
  Instant outstanding_since_{};
  wire::SeqNum rtt_seq_;
  unsigned timeouts_ = 0;  // consecutive retransmission timeouts since SND.UNA last advanced
  unsigned persist_backoff_ = 0;
  unsigned probes_unanswered_ = 0;

  bool nodelay_ = false;
  bool syn_acked_ = false;
  bool fin_queued_ = false;
  bool loss_probe_due_ = false;  // the PTO fired: the next plan() is a tail loss probe
  bool timing_ = false;          // rtt_seq_ is being timed (Karn's rule)
  bool syn_retransmitted_ = false;
  bool force_send_ = false;  // persist timer fired: probe or override SWS once
  bool cork_ = false;        // TCP_CORK
  bool more_ = false;        // MSG_MORE on the last write
  bool cork_timer_ = false;  // the persist timer runs as the cork ceiling, not as a probe
};

}  // namespace utcp::tcp
