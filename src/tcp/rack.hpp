// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// RACK time-based loss detection (RFC 8985 §6): a log of transmitted segments with their last
// transmission time; a segment is lost once a segment sent after it has been delivered and
// RACK.rtt + RACK.reo_wnd has passed since it was sent. The reordering window scales with
// D-SACK rounds (§6.2 step 4). The log is a ring allocated at the first transmission (not with
// the connection) that grows by doubling, never per segment.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "tcp/sack_scoreboard.hpp"
#include "utcp/time.hpp"
#include "wire/seq_num.hpp"

namespace utcp::tcp {

struct RackSegment {
  wire::SeqNum seq;
  wire::SeqNum end;
  Instant xmit_ts{};
  bool retransmitted = false;
  bool sacked = false;
  bool lost = false;  // the latest transmission is deemed lost
  // Retransmitted after being marked lost: the earlier transmission is gone, only the latest
  // can be in flight (what LossRecovery::pipe() counts).
  bool rxt_after_loss = false;
};

class Rack {
 public:
  static constexpr unsigned kDupThresh = 3;
  static constexpr int kReoWndPersist = 16;  // RFC 8985 §6.2 step 4
  // Window of the min-RTT filter (§6.2 step 1 SHOULD: adapt to a longer path).
  static constexpr Duration kMinRttWindow{10'000'000};
  // Entries of the log at the first transmission (a power of two): an idle connection sent a
  // few segments; a bulk one doubles it a few times once, never per segment.
  static constexpr size_t kInitialRing = 4;

  Rack();

  // RFC 8985 §6.1: [seq, seq+len) was (re)transmitted at `now`.
  void on_transmit(wire::SeqNum seq, uint32_t len, Instant now, bool retransmission);
  // §6.2 steps 1-3 for an ACK: SND.UNA after it, the scoreboard's SACKed ranges, whether it
  // carried a D-SACK, and an RTT sample from the RTO estimator if any.
  void on_ack(wire::SeqNum snd_una, std::span<const SeqSpan> sacked, bool dsack,
              wire::SeqNum snd_nxt, std::optional<Duration> rtt_sample, Instant now);
  // §6.2 step 1 alone, for an RTT sample no ACK of data brings: the handshake's (RFC 6298), so
  // RACK.min_RTT and with it the reordering window exist from the first SACK on.
  void on_rtt_sample(Duration rtt, Instant now);
  // §6.2 step 5: marks lost segments; returns the reordering-timer delay (zero = none needed).
  Duration detect_loss(Instant now, bool in_recovery, Duration srtt);
  // §6.3: the RTO fired.
  void mark_losses_on_rto(wire::SeqNum snd_una, Instant now);
  // §6.2 step 4: a fast or RTO recovery ended (counts down the inflated window).
  void on_recovery_exit();

  // Segments flagged lost and not yet retransmitted, in sequence order.
  template <typename F>
  void for_each_lost(F&& f) const {
    for (size_t i = 0; i < count_; ++i) {
      const RackSegment& s = at(i);
      if (s.lost && !s.sacked) f(s);
    }
  }
  bool any_lost() const;
  size_t size() const { return count_; }
  const RackSegment& at(size_t i) const { return ring_[(head_ + i) & (ring_.size() - 1)]; }

  Duration rtt() const { return rtt_; }
  Duration min_rtt() const { return min_rtt_; }
  Duration reo_wnd() const { return reo_wnd_; }
  unsigned reo_wnd_mult() const { return reo_wnd_mult_; }
  bool reordering_seen() const { return reordering_seen_; }
  bool has_delivered() const { return have_xmit_; }
  uint32_t segs_sacked() const { return segs_sacked_; }
  wire::SeqNum fack() const { return fack_; }
  void clear();
  // Bytes of the log's storage, and freeing it when the log is empty (the connection is idle).
  size_t allocated() const { return ring_.capacity() * sizeof(RackSegment); }
  size_t releasable() const { return count_ == 0 ? allocated() : 0; }
  void release_if_empty() {
    if (count_ == 0) {
      std::vector<RackSegment>().swap(ring_);
      head_ = 0;
    }
  }

 private:
  RackSegment& at_mut(size_t i) { return ring_[(head_ + i) & (ring_.size() - 1)]; }
  void push(const RackSegment& s);
  void pop_front() {
    head_ = (head_ + 1) & (ring_.size() - 1);
    --count_;
  }
  Duration update_reo_wnd(bool in_recovery, Duration srtt);
  static bool sent_after(Instant t1, wire::SeqNum s1, Instant t2, wire::SeqNum s2) {
    return t1 > t2 || (t1 == t2 && s1 > s2);
  }

  std::vector<RackSegment> ring_;  // power-of-two size, empty until the first transmission
  size_t head_ = 0;
  size_t count_ = 0;

  // RFC 8985 §5.2 state, ordered by alignment so the object carries no padding.
  Instant xmit_ts_{};
  Duration rtt_{0};
  Duration min_rtt_ = Duration::max();
  Instant min_rtt_stamp_{};
  Duration reo_wnd_{0};
  std::optional<wire::SeqNum> dsack_round_;
  wire::SeqNum end_seq_;
  wire::SeqNum fack_;
  unsigned reo_wnd_mult_ = 1;
  int reo_wnd_persist_ = 0;
  uint32_t segs_sacked_ = 0;
  bool have_xmit_ = false;
  bool fack_valid_ = false;
  bool reordering_seen_ = false;
  bool dsack_this_ack_ = false;
  bool exiting_recovery_ = false;
};

}  // namespace utcp::tcp
