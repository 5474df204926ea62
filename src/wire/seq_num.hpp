// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Wrapping 32-bit TCP sequence numbers (RFC 9293 §3.4). Comparisons are modulo 2^32:
// a < b means (int32_t)(a - b) < 0. No implicit conversion to or from integers, so plain
// integer comparison can never slip in.
#include <cstdint>
#include <ostream>

namespace utcp::wire {

class SeqNum {
 public:
  constexpr SeqNum() = default;
  constexpr explicit SeqNum(uint32_t value) : v_(value) {}

  constexpr uint32_t raw() const { return v_; }

  friend constexpr bool operator==(SeqNum a, SeqNum b) = default;
  friend constexpr bool operator<(SeqNum a, SeqNum b) {
    return static_cast<int32_t>(a.v_ - b.v_) < 0;
  }
  friend constexpr bool operator>(SeqNum a, SeqNum b) { return b < a; }
  friend constexpr bool operator<=(SeqNum a, SeqNum b) { return !(b < a); }
  friend constexpr bool operator>=(SeqNum a, SeqNum b) { return !(a < b); }

  constexpr SeqNum operator+(uint32_t n) const { return SeqNum(v_ + n); }
  constexpr SeqNum operator-(uint32_t n) const { return SeqNum(v_ - n); }
  constexpr SeqNum& operator+=(uint32_t n) {
    v_ += n;
    return *this;
  }
  constexpr SeqNum& operator-=(uint32_t n) {
    v_ -= n;
    return *this;
  }

  // Signed distance a - b (positive when a is after b); meaningful within 2^31.
  friend constexpr int32_t operator-(SeqNum a, SeqNum b) {
    return static_cast<int32_t>(a.v_ - b.v_);
  }

  // Bytes from `from` forward to this number, modulo 2^32 (always >= 0).
  constexpr uint32_t distance_from(SeqNum from) const { return v_ - from.v_; }

  // True when this number lies in [left, left + size), the RFC 9293 §3.10.7.4 window test.
  constexpr bool in_window(SeqNum left, uint32_t size) const { return v_ - left.v_ < size; }

  // True when left <= this <= right (inclusive on both ends), modulo 2^32.
  constexpr bool between(SeqNum left, SeqNum right) const {
    return v_ - left.v_ <= right.v_ - left.v_;
  }

  static constexpr SeqNum max(SeqNum a, SeqNum b) { return a < b ? b : a; }
  static constexpr SeqNum min(SeqNum a, SeqNum b) { return a < b ? a : b; }

 private:
  uint32_t v_ = 0;
};

inline std::ostream& operator<<(std::ostream& os, SeqNum s) {
  return os << s.raw();
}

}  // namespace utcp::wire
