// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The receiver's SACK option contents (RFC 2018 §4) with D-SACK (RFC 2883 §4): the first block
// covers the most recently received out-of-order segment, later blocks repeat the most recently
// reported ones, and a pending D-SACK block goes first, followed by the block containing it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "tcp/reassembly_queue.hpp"
#include "wire/seq_num.hpp"
#include "wire/tcp.hpp"

namespace utcp::tcp {

class SackBlockGenerator {
 public:
  // An out-of-order segment [begin, end) was stored (RFC 2018 §4: it leads the next option).
  void on_out_of_order(wire::SeqNum begin, wire::SeqNum end);
  // A segment [begin, end) carried only bytes already received: report it once (RFC 2883 §4).
  void on_duplicate(wire::SeqNum begin, wire::SeqNum end);

  // Writes up to `max_blocks` blocks for an ACK at `rcv_nxt`; `ooo` is the reassembly queue's
  // out_of_order() (relative to rcv_nxt). Consumes a pending D-SACK. Returns the count.
  size_t fill(wire::SeqNum rcv_nxt, std::span<const SeqRange> ooo, std::span<wire::SackBlock> out,
              size_t max_blocks);

  bool dsack_pending() const { return dsack_pending_; }
  // Forgets history (connection reset or everything became in order).
  void clear();

 private:
  static constexpr size_t kHistory = wire::kTcpMaxSackBlocks;
  // Left edges of recently received out-of-order segments, most recent first.
  std::array<wire::SeqNum, kHistory> recent_{};
  size_t recent_count_ = 0;
  bool dsack_pending_ = false;
  wire::SackBlock dsack_{};
};

}  // namespace utcp::tcp
