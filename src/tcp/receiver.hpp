// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The receiving half of a connection: segment acceptability (RFC 9293 §3.10.7.4), trimming to
// the window, in-order delivery through the reassembly queue, the FIN's place in the sequence,
// receiver-side SWS avoidance (§3.8.6.2.2), delayed ACKs (§3.8.6.3, RFC 5681 §4.2) with a
// quick-ACK mode like Linux's at the start of a connection, and the urgent mark (RFC 6093).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "tcp/reassembly_queue.hpp"
#include "tcp/sack_blocks.hpp"
#include "tcp/tcb.hpp"
#include "utcp/tcp_config.hpp"

namespace utcp::tcp {

enum class AckDemand : uint8_t { kNone, kDelayed, kNow };

class Receiver {
 public:
  explicit Receiver(const Config& cfg);

  // The peer's SYN fixes IRS and RCV.NXT; `syn_window` is what our SYN (or SYN-ACK) offered.
  void on_syn(Tcb& tcb, wire::SeqNum seg_seq);
  // The window to put in a SYN: never scaled (RFC 7323 §2.2). Records it as offered if
  // RCV.NXT is known.
  uint16_t syn_window(Tcb& tcb, bool rcv_nxt_known);

  // RFC 9293 §3.10.7.4: the four acceptability cases.
  static bool acceptable(const Tcb& tcb, wire::SeqNum seg_seq, uint32_t seg_len);

  struct TextResult {
    size_t newly_readable = 0;
    bool fin = false;           // the peer's FIN is now in order: RCV.NXT advanced past it
    bool out_of_order = false;  // the segment started beyond RCV.NXT
    bool filled_hole = false;   // it advanced RCV.NXT while out-of-order data was held
  };
  // Segment text and FIN of an acceptable segment (seq excludes any SYN). Trims what lies
  // before RCV.NXT or past the offered window; a FIN cut off by the window is dropped.
  TextResult on_text(Tcb& tcb, wire::SeqNum seq, std::span<const uint8_t> payload, bool fin,
                     Instant now);

  // Application reads. Returns bytes copied.
  size_t read(Tcb& tcb, std::span<uint8_t> dst);
  size_t readable() const { return queue_.readable(); }
  bool fin_received() const { return fin_received_; }

  // Window field for a non-SYN segment: applies the SWS rule to the right edge first.
  uint16_t window_field(Tcb& tcb);
  // After the application read: true when the right edge may move far enough that the peer
  // should hear about it now (window update).
  bool window_update_due(const Tcb& tcb) const;

  // Delayed-ACK bookkeeping.
  AckDemand ack_demand() const { return demand_; }
  void require_ack_now() { demand_ = AckDemand::kNow; }
  void on_ack_sent(Tcb& tcb);
  // The delayed-ACK timer fired: the ACK goes now, and a connection thought interactive (its
  // replies carried our ACKs) is not, so quick ACKs may resume.
  void on_delayed_ack_timeout();
  // New data went out at `now`: a reply within the ACK delay of the last data received marks
  // the connection interactive ("ping-pong"), where ACKs are delayed to ride on replies.
  void on_data_sent(Instant now);
  // The sender's current RTO: data arriving after a longer silence restarts quick ACKs.
  void set_idle_threshold(Duration rto) { idle_threshold_ = rto; }
  // Quick-ACK mode: every data segment is acknowledged at once.
  bool quick_ack_mode() const { return quick_acks_ > 0 && !pingpong_; }
  unsigned quick_acks_left() const { return quick_acks_; }
  bool pingpong() const { return pingpong_; }

  // RFC 9293 §3.10.7.4 sixth step / RFC 6093: returns true when the mark moved forward.
  bool on_urgent(Tcb& tcb, wire::SeqNum up);
  // Bytes recv() will return before the urgent data ends (the mark), if a mark is pending.
  std::optional<uint64_t> urgent_mark(const Tcb& tcb) const;

  const ReassemblyQueue& queue() const { return queue_; }
  // Where the next in-order payload will be stored, with `headroom` bytes before it (see
  // ReassemblyQueue::placement); empty once the FIN is in.
  std::span<uint8_t> placement(size_t headroom, size_t min_room) {
    if (fin_received_ || fin_pending_) return {};
    return queue_.placement(headroom, min_room);
  }
  void hold_storage(bool held) { queue_.hold_storage(held); }
  // SACK option blocks for the next ACK (RFC 2018 §4, RFC 2883 D-SACK first); consumes a
  // pending D-SACK. Returns how many were written (at most max_blocks).
  size_t sack_blocks(const Tcb& tcb, std::span<wire::SackBlock> out, size_t max_blocks) {
    return sack_.fill(tcb.rcv_nxt, queue_.out_of_order(), out, max_blocks);
  }
  bool sack_pending() const { return queue_.has_out_of_order() || sack_.dsack_pending(); }
  // A segment wholly before RCV.NXT arrived again (RFC 2883 §4: report it once).
  void on_duplicate(wire::SeqNum seq, uint32_t len) { sack_.on_duplicate(seq, seq + len); }
  void set_capacity(size_t bytes) { queue_.set_capacity(bytes); }
  void set_memory_budget(MemoryBudget* budget) { queue_.set_budget(budget); }
  // Heap bytes of the receive ring; freeing it while it holds nothing.
  size_t allocated() const { return queue_.allocated(); }
  size_t releasable() const { return queue_.releasable(); }
  void release_idle_memory() { queue_.release_if_empty(); }

 private:
  uint32_t sws_threshold() const;
  size_t syn_room() const;  // the window a SYN offers (unscaled, RFC 7323 §2.2)
  // The window the right edge may reach from RCV.NXT now (before the never-shrink rule).
  size_t offer_room(const Tcb& tcb) const;
  void update_right_edge(Tcb& tcb);
  // Linux's tcp_incr_quickack: allow window / (2 * peer MSS) quick ACKs, at least 2, at
  // most kMaxQuickAcks; never lowers a count already granted.
  void grant_quick_acks(uint32_t window);
  void note_data(uint32_t window, Instant now);

  static constexpr unsigned kMaxQuickAcks = 16;  // Linux TCP_MAX_QUICKACKS

  ReassemblyQueue queue_;
  SackBlockGenerator sack_;
  // Ordered by alignment (4, 8, 1 bytes): no padding inside the connection.
  uint32_t mss_;                  // the most the peer may put in one segment (our announced MSS)
  uint32_t unacked_bytes_ = 0;    // in-order bytes received since the last ACK we sent
  uint32_t largest_segment_ = 0;  // biggest payload seen: "full-sized" for the ACK-every-2 rule
  wire::SeqNum read_seq_;         // sequence number of the next byte recv() returns
  wire::SeqNum fin_seq_;
  unsigned quick_acks_ = 0;  // quick ACKs left (Linux icsk_ack.quick)
  Duration ato_;             // the ACK delay (Config::delayed_ack)
  Duration idle_threshold_;  // silence after which quick ACKs restart (the RTO)
  Instant last_data_{};      // when in-order data last arrived
  AckDemand demand_ = AckDemand::kNone;
  bool data_seen_ = false;    // any data arrived yet
  bool pingpong_ = false;     // interactive: our replies carry the ACKs
  bool fin_pending_ = false;  // a FIN arrived ahead of missing data
  bool fin_received_ = false;
};

}  // namespace utcp::tcp
