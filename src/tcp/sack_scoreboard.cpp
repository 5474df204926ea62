// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/sack_scoreboard.hpp"

#include <algorithm>

namespace utcp::tcp {

using wire::SeqNum;

SackScoreboard::SackScoreboard() = default;

void SackScoreboard::clear() {
  ranges_.clear();
  sacked_bytes_ = 0;
  reset_retransmit_marks();
}

void SackScoreboard::reset_retransmit_marks() {
  high_rxt_ = high_ack_;
  rescue_rxt_.reset();
}

SeqNum SackScoreboard::high_sacked() const {
  return ranges_.empty() ? high_ack_ : ranges_.back().end;
}

void SackScoreboard::trim_below(SeqNum una) {
  size_t drop = 0;
  for (auto& r : ranges_) {
    if (r.end <= una) {
      sacked_bytes_ -= r.len();
      ++drop;
    } else {
      if (r.begin < una) {
        sacked_bytes_ -= una.distance_from(r.begin);
        r.begin = una;
      }
      break;
    }
  }
  ranges_.erase(ranges_.begin(), ranges_.begin() + static_cast<std::ptrdiff_t>(drop));
}

uint32_t SackScoreboard::add(SeqSpan s) {
  // Room for ranges is reserved on the first SACK block, not with the connection: most
  // connections never see one.
  if (ranges_.capacity() == 0) ranges_.reserve(kReservedRanges);
  // Find the first range that ends at or after s.begin (it may touch or overlap s).
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), s.begin,
                             [](const SeqSpan& r, SeqNum b) { return r.end < b; });
  auto last = it;
  SeqSpan merged = s;
  uint32_t covered = 0;  // bytes of s already SACKed
  while (last != ranges_.end() && last->begin <= s.end) {
    const SeqNum lo = SeqNum::max(last->begin, s.begin);
    const SeqNum hi = SeqNum::min(last->end, s.end);
    if (lo < hi) covered += hi.distance_from(lo);
    merged.begin = SeqNum::min(merged.begin, last->begin);
    merged.end = SeqNum::max(merged.end, last->end);
    ++last;
  }
  if (it == last && ranges_.size() >= kMaxRanges) return 0;  // a new range would pass the cap
  const uint32_t fresh = s.len() - covered;
  if (it == last) {
    ranges_.insert(it, merged);
  } else {
    *it = merged;
    ranges_.erase(it + 1, last);
  }
  sacked_bytes_ += fresh;
  return fresh;
}

SackUpdate SackScoreboard::update(SeqNum snd_una, SeqNum snd_max,
                                  std::span<const wire::SackBlock> blocks) {
  SackUpdate out;
  if (snd_una > high_ack_ || ranges_.empty()) high_ack_ = snd_una;
  trim_below(high_ack_);
  if (high_rxt_ < high_ack_) high_rxt_ = high_ack_;
  // RFC 2018 §8: an ACK that stops at (or inside) data SACKed earlier means the peer discarded
  // that data (reneged); forget all SACK state and rely on retransmission.
  if (!ranges_.empty() && ranges_.front().begin == high_ack_) {
    out.reneged = true;
    ranges_.clear();
    sacked_bytes_ = 0;
  }

  for (size_t i = 0; i < blocks.size(); ++i) {
    const auto& b = blocks[i];
    if (!(b.left < b.right)) {
      ++out.ignored_blocks;
      continue;
    }
    if (i == 0) {
      // RFC 2883 §4: a first block below the cumulative ACK, or inside the second block,
      // reports a duplicate segment.
      const bool below_ack = b.right <= snd_una;
      const bool inside_second = blocks.size() > 1 && blocks[1].left <= b.left &&
                                 b.right <= blocks[1].right && blocks[1].left < blocks[1].right;
      if (below_ack || inside_second) {
        out.dsack = SeqSpan{b.left, b.right};
        continue;
      }
    }
    // RFC 6675 §4 / RFC 2018 §4: only bytes in SND.UNA..SND.MAX can be SACKed; a block reaching
    // past data we sent, or starting too far back to be real, is bogus.
    if (b.right > snd_max || b.right <= snd_una ||
        b.right.distance_from(snd_una) > snd_max.distance_from(snd_una)) {
      ++out.ignored_blocks;
      continue;
    }
    const SeqNum left = SeqNum::max(b.left, snd_una);
    out.newly_sacked += add(SeqSpan{left, b.right});
  }

  return out;
}

bool SackScoreboard::is_sacked(SeqNum seq) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), seq,
                             [](SeqNum s, const SeqSpan& r) { return s < r.end; });
  return it != ranges_.end() && it->begin <= seq;
}

SeqNum SackScoreboard::lost_boundary(uint32_t smss) const {
  // RFC 6675 §4 IsLost: DupThresh discontiguous SACKed ranges above, or more than
  // (DupThresh - 1) * SMSS SACKed bytes above. Walking down from the top, the first range
  // where that holds bounds the lost region.
  unsigned count = 0;
  uint64_t bytes = 0;
  const uint64_t byte_limit = uint64_t{kDupThresh - 1} * smss;
  for (auto it = ranges_.rbegin(); it != ranges_.rend(); ++it) {
    ++count;
    bytes += it->len();
    if (count >= kDupThresh || bytes > byte_limit) return it->begin;
  }
  return high_ack_;
}

bool SackScoreboard::is_lost(SeqNum seq, uint32_t smss) const {
  return !is_sacked(seq) && seq < lost_boundary(smss);
}

uint64_t SackScoreboard::hole_pipe(SeqNum a, SeqNum b, SeqNum boundary) const {
  // RFC 6675 §4 SetPipe: each un-SACKed byte counts once if not lost, and once more if it was
  // retransmitted (below HighRxt).
  if (!(a < b)) return 0;
  const SeqNum lost_end = SeqNum::min(SeqNum::max(boundary, a), b);
  const SeqNum rxt_end = SeqNum::min(SeqNum::max(high_rxt_, a), b);
  return uint64_t{b.distance_from(lost_end)} + rxt_end.distance_from(a);
}

uint32_t SackScoreboard::pipe(SeqNum high_data, uint32_t smss) const {
  const SeqNum boundary = lost_boundary(smss);
  uint64_t pipe = 0;
  SeqNum cursor = high_ack_;
  for (const auto& r : ranges_) {
    pipe += hole_pipe(cursor, r.begin, boundary);
    cursor = r.end;
  }
  pipe += hole_pipe(cursor, high_data, boundary);
  return static_cast<uint32_t>(std::min<uint64_t>(pipe, UINT32_MAX));
}

SackScoreboard::PipeShare SackScoreboard::pipe_share(SeqNum begin, SeqNum end,
                                                     uint32_t smss) const {
  PipeShare out;
  begin = SeqNum::max(begin, high_ack_);
  if (!(begin < end)) return out;
  const SeqNum boundary = lost_boundary(smss);
  uint64_t pipe = 0;
  uint64_t unsacked = 0;
  auto hole = [&](SeqNum a, SeqNum b) {
    if (!(a < b)) return;
    pipe += hole_pipe(a, b, boundary);
    unsacked += b.distance_from(a);
  };
  // The first range that ends after `begin`; the ranges are sorted and disjoint.
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), begin,
                             [](SeqNum s, const SeqSpan& r) { return s < r.end; });
  SeqNum cursor = begin;
  for (; it != ranges_.end() && it->begin < end; ++it) {
    hole(cursor, SeqNum::min(it->begin, end));
    cursor = SeqNum::max(cursor, it->end);
  }
  hole(cursor, end);
  out.pipe = static_cast<uint32_t>(std::min<uint64_t>(pipe, UINT32_MAX));
  out.unsacked = static_cast<uint32_t>(std::min<uint64_t>(unsacked, UINT32_MAX));
  return out;
}

NextSegment SackScoreboard::next_seg(SeqNum high_data, uint32_t smss, bool new_data_ok,
                                     std::optional<SeqNum> recovery_point) const {
  NextSegment out;
  const SeqNum boundary = lost_boundary(smss);
  const SeqNum from = SeqNum::max(high_rxt_, high_ack_);
  // The first un-SACKed hole at or after `from`, below `limit`.
  auto first_hole = [&](SeqNum limit) -> std::optional<SeqSpan> {
    SeqNum cursor = high_ack_;
    for (const auto& r : ranges_) {
      const SeqNum a = SeqNum::max(cursor, from);
      const SeqNum b = SeqNum::min(r.begin, limit);
      if (a < b) return SeqSpan{a, b};
      cursor = r.end;
      if (!(cursor < limit)) break;
    }
    const SeqNum a = SeqNum::max(cursor, from);
    const SeqNum b = SeqNum::min(high_data, limit);
    if (a < b) return SeqSpan{a, b};
    return std::nullopt;
  };
  // Rule 1: lost, un-SACKed, above HighRxt (and so below the highest SACKed byte).
  if (auto h = first_hole(boundary)) {
    return NextSegment{NextSegment::Kind::kRetransmit, h->begin, std::min(h->len(), smss)};
  }
  // Rule 2: new data if the window and the application allow.
  if (new_data_ok) {
    out.kind = NextSegment::Kind::kNewData;
    return out;
  }
  // Rule 3: un-SACKed, above HighRxt, below the highest SACKed byte, not yet deemed lost.
  if (auto h = first_hole(high_sacked())) {
    return NextSegment{NextSegment::Kind::kRetransmit, h->begin, std::min(h->len(), smss)};
  }
  // Rule 4: one rescue retransmission per entry into recovery (or after the ACK moves past the
  // last one), covering the highest outstanding un-SACKed byte.
  if (recovery_point && high_ack_ < high_data && (!rescue_rxt_ || high_ack_ > *rescue_rxt_)) {
    SeqNum top = high_data;
    if (!ranges_.empty() && ranges_.back().end == high_data) top = ranges_.back().begin;
    // Only when that byte was not retransmitted already: a second copy would be redundant.
    if (high_ack_ < top && top > high_rxt_) {
      SeqNum start = top - std::min(smss, top.distance_from(high_ack_));
      return NextSegment{NextSegment::Kind::kRescue, start, top.distance_from(start)};
    }
  }
  return out;
}

void SackScoreboard::on_retransmitted(SeqNum seq, uint32_t len) {
  const SeqNum end = seq + len;
  if (end > high_rxt_) high_rxt_ = end;
}

}  // namespace utcp::tcp
