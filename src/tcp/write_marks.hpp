// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Where the application's recent writes ended, for the PSH bit (RFC 9293 §3.9.1.2: the last
// segment of each SEND with PUSH carries PSH; a sockets write is such a SEND, as Linux marks the
// tail of every sendmsg). A segment that ends at or crosses a write end carries PSH, so Nagle
// or TSO coalescing keeps the bit (SHLD-27: successive PSH bits collapse into one segment).
// A fixed handful of marks keeps it O(1) per write: when more writes are pending, the two newest
// marks merge into the newer one (the last byte written always keeps its mark).
#include <array>
#include <cstddef>
#include <cstdint>

#include "wire/seq_num.hpp"

namespace utcp::tcp {

class WriteMarks {
 public:
  static constexpr size_t kMax = 8;

  // A write ended just before `end` (one past its last byte).
  void on_write(wire::SeqNum end) {
    if (count_ > 0 && ends_[count_ - 1] == end) return;
    if (count_ == kMax) --count_;  // merge the newest pending write into this one
    ends_[count_++] = end;
  }
  // Everything before `snd_una` was acknowledged: its marks are spent.
  void on_ack(wire::SeqNum snd_una) {
    size_t spent = 0;
    while (spent < count_ && ends_[spent] <= snd_una) ++spent;
    if (spent == 0) return;
    for (size_t i = spent; i < count_; ++i) ends_[i - spent] = ends_[i];
    count_ -= spent;
  }
  // Does [seq, seq + len) end at or cross a write end (its last byte is the last of a write)?
  bool crosses(wire::SeqNum seq, uint32_t len) const {
    for (size_t i = 0; i < count_; ++i) {
      if (seq < ends_[i] && ends_[i] <= seq + len) return true;
    }
    return false;
  }
  void clear() { count_ = 0; }
  size_t size() const { return count_; }

 private:
  std::array<wire::SeqNum, kMax> ends_{};  // ascending, all after SND.UNA
  size_t count_ = 0;
};

}  // namespace utcp::tcp
