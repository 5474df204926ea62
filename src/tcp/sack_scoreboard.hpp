// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The sender's SACK scoreboard (RFC 6675 §2-§4): which bytes between SND.UNA (HighACK) and
// SND.MAX (HighData) the peer has selectively acknowledged, and from that IsLost(), pipe and
// NextSeg(). Ranges are kept sorted and disjoint in a vector reserved on the first SACK block
// (none for a connection that never sees one), so updates do not allocate per ACK.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "wire/seq_num.hpp"
#include "wire/tcp.hpp"

namespace utcp::tcp {

struct SeqSpan {
  wire::SeqNum begin;
  wire::SeqNum end;  // one past the last byte
  uint32_t len() const { return end.distance_from(begin); }
  friend constexpr bool operator==(SeqSpan, SeqSpan) = default;
};

// What one ACK's SACK blocks did to the scoreboard.
struct SackUpdate {
  uint32_t newly_sacked = 0;     // bytes SACKed for the first time
  std::optional<SeqSpan> dsack;  // RFC 2883 §4: the first block reported a duplicate
  bool reneged = false;          // the peer dropped data it had SACKed (RFC 2018 §8)
  unsigned ignored_blocks = 0;   // blocks outside SND.UNA..SND.MAX or malformed
};

// What NextSeg() picked (RFC 6675 §4 rules 1-4).
struct NextSegment {
  enum class Kind { kNone, kRetransmit, kNewData, kRescue };
  Kind kind = Kind::kNone;
  wire::SeqNum seq;  // meaningful for kRetransmit and kRescue
  uint32_t len = 0;
};

class SackScoreboard {
 public:
  // RFC 6675 §2 DupThresh.
  static constexpr unsigned kDupThresh = 3;
  // Cap on remembered ranges; a block that would open a range past it is not recorded.
  static constexpr size_t kMaxRanges = 512;
  // Ranges reserved at the first SACK block; growth past it is amortised and bounded by the cap.
  static constexpr size_t kReservedRanges = 64;

  SackScoreboard();

  // Starts recovery bookkeeping over: forget every SACKed range (RFC 6675 §5.1 after an RTO, and
  // after reneging) and HighRxt/RescueRxt.
  void clear();

  // Applies one ACK: `snd_una` already advanced to SEG.ACK, `snd_max` is HighData.
  // RFC 6675 §4 / RFC 2018 §4: blocks outside SND.UNA..SND.MAX are ignored; D-SACK blocks
  // (RFC 2883 §4) are reported and not recorded.
  SackUpdate update(wire::SeqNum snd_una, wire::SeqNum snd_max,
                    std::span<const wire::SackBlock> blocks);

  // RFC 6675 §4 IsLost(SeqNum) for the byte `seq` (which must be un-SACKed to be meaningful).
  bool is_lost(wire::SeqNum seq, uint32_t smss) const;
  bool is_sacked(wire::SeqNum seq) const;

  // RFC 6675 §4 SetPipe(): bytes estimated in flight between HighACK and HighData.
  uint32_t pipe(wire::SeqNum high_data, uint32_t smss) const;
  // The part of [begin, end) in pipe(): what its un-SACKed bytes add (`pipe`) and how many
  // they are (`unsacked`), so another loss detector (RACK) can correct the estimate.
  struct PipeShare {
    uint32_t pipe = 0;
    uint32_t unsacked = 0;
  };
  PipeShare pipe_share(wire::SeqNum begin, wire::SeqNum end, uint32_t smss) const;

  // RFC 6675 §4 NextSeg(). `new_data_ok` says whether rule 2 may send new data (available data
  // and receive window room). `recovery_point` is for rule 4's rescue retransmission.
  NextSegment next_seg(wire::SeqNum high_data, uint32_t smss, bool new_data_ok,
                       std::optional<wire::SeqNum> recovery_point) const;

  // A retransmission of [seq, seq+len) went out: RFC 6675 §4 HighRxt.
  void on_retransmitted(wire::SeqNum seq, uint32_t len);
  // Rule 4's rescue retransmission went out: RescueRxt = RecoveryPoint (HighRxt unchanged).
  void on_rescue(wire::SeqNum recovery_point) { rescue_rxt_ = recovery_point; }
  // Recovery ended or began: HighRxt restarts at HighACK, RescueRxt is undefined.
  void reset_retransmit_marks();

  wire::SeqNum high_ack() const { return high_ack_; }
  wire::SeqNum high_rxt() const { return high_rxt_; }
  std::optional<wire::SeqNum> rescue_rxt() const { return rescue_rxt_; }
  // Highest SACKed sequence number + 1 (HighACK when nothing is SACKed).
  wire::SeqNum high_sacked() const;
  uint32_t sacked_bytes() const { return sacked_bytes_; }
  bool empty() const { return ranges_.empty(); }
  std::span<const SeqSpan> ranges() const { return ranges_; }
  // Bytes of the range list's storage, and freeing it when no range is held (idle).
  size_t allocated() const { return ranges_.capacity() * sizeof(SeqSpan); }
  size_t releasable() const { return ranges_.empty() ? allocated() : 0; }
  void release_if_empty() {
    if (ranges_.empty()) std::vector<SeqSpan>().swap(ranges_);
  }

 private:
  // First byte below which every un-SACKed byte is lost (RFC 6675 IsLost is monotone in seq).
  wire::SeqNum lost_boundary(uint32_t smss) const;
  // SetPipe's count for the un-SACKed bytes [a, b), given the lost boundary.
  uint64_t hole_pipe(wire::SeqNum a, wire::SeqNum b, wire::SeqNum boundary) const;
  uint32_t add(SeqSpan s);
  void trim_below(wire::SeqNum una);

  std::vector<SeqSpan> ranges_;  // sorted, disjoint, non-adjacent, all within HighACK..HighData
  uint32_t sacked_bytes_ = 0;
  wire::SeqNum high_ack_;
  wire::SeqNum high_rxt_;
  std::optional<wire::SeqNum> rescue_rxt_;
};

}  // namespace utcp::tcp
