// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/sack_blocks.hpp"

#include <algorithm>

namespace utcp::tcp {

using wire::SackBlock;
using wire::SeqNum;

void SackBlockGenerator::clear() {
  recent_count_ = 0;
  dsack_pending_ = false;
}

void SackBlockGenerator::on_out_of_order(SeqNum begin, SeqNum /*end*/) {
  // Move (or insert) this segment to the front of the history.
  size_t pos = recent_count_ < kHistory ? recent_count_ : kHistory - 1;
  for (size_t i = 0; i < recent_count_; ++i) {
    if (recent_[i] == begin) {
      pos = i;
      break;
    }
  }
  for (size_t i = pos; i > 0; --i) recent_[i] = recent_[i - 1];
  recent_[0] = begin;
  if (pos == recent_count_ && recent_count_ < kHistory) ++recent_count_;
}

void SackBlockGenerator::on_duplicate(SeqNum begin, SeqNum end) {
  if (!(begin < end)) return;
  dsack_ = SackBlock{begin, end};
  dsack_pending_ = true;
}

size_t SackBlockGenerator::fill(SeqNum rcv_nxt, std::span<const SeqRange> ooo,
                                std::span<SackBlock> out, size_t max_blocks) {
  max_blocks = std::min(max_blocks, out.size());
  size_t n = 0;
  auto absolute = [&](const SeqRange& r) { return SackBlock{rcv_nxt + r.begin, rcv_nxt + r.end}; };
  // The out-of-order range holding `s`, if any.
  auto range_of = [&](SeqNum s) -> const SeqRange* {
    const uint32_t off = s.distance_from(rcv_nxt);
    for (const auto& r : ooo) {
      if (off >= r.begin && off < r.end) return &r;
    }
    return nullptr;
  };
  size_t first_regular = 0;  // a leading D-SACK block does not suppress later reports
  auto already = [&](const SackBlock& b) {
    for (size_t i = first_regular; i < n; ++i) {
      if (out[i] == b) return true;
    }
    return false;
  };

  if (dsack_pending_ && max_blocks > 0) {
    // RFC 2883 §4: the D-SACK block first; if the duplicate lies in an out-of-order range, that
    // range next.
    out[n++] = dsack_;
    first_regular = 1;
    dsack_pending_ = false;
    if (const SeqRange* r = range_of(dsack_.left); r != nullptr && n < max_blocks) {
      out[n++] = absolute(*r);
    }
  }

  // RFC 2018 §4: most recently received first, then the most recently reported others; a
  // history entry whose bytes became in order (or were dropped) is forgotten.
  size_t keep = 0;
  for (size_t i = 0; i < recent_count_; ++i) {
    const SeqRange* r = range_of(recent_[i]);
    if (r == nullptr) continue;
    recent_[keep++] = recent_[i];
    const SackBlock b = absolute(*r);
    if (!already(b) && n < max_blocks) out[n++] = b;
  }
  recent_count_ = keep;
  // Fill remaining room with other held ranges, highest first, so every hole gets reported.
  for (auto it = ooo.rbegin(); it != ooo.rend() && n < max_blocks; ++it) {
    const SackBlock b = absolute(*it);
    if (!already(b)) out[n++] = b;
  }
  return n;
}

}  // namespace utcp::tcp
