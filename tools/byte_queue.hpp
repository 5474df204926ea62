// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A fixed-capacity FIFO of bytes for the tools' pipes (stdin -> connection -> stdout):
// writers append into free(), readers consume from data(). Allocated once.
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace utcp::tools {

class ByteQueue {
 public:
  explicit ByteQueue(size_t capacity) : buf_(capacity) {}

  std::span<const uint8_t> data() const { return {buf_.data() + head_, tail_ - head_}; }
  bool empty() const { return head_ == tail_; }
  size_t size() const { return tail_ - head_; }
  bool has_room() const { return size() < buf_.size(); }
  bool full() const { return head_ == 0 && tail_ == buf_.size(); }
  // Room at the end, after moving unread bytes to the front if that makes room.
  std::span<uint8_t> free() {
    if (tail_ == buf_.size() && head_ > 0) {
      std::memmove(buf_.data(), buf_.data() + head_, tail_ - head_);
      tail_ -= head_;
      head_ = 0;
    }
    return {buf_.data() + tail_, buf_.size() - tail_};
  }
  void commit(size_t n) { tail_ += n; }
  void consume(size_t n) {
    head_ += n;
    if (head_ == tail_) head_ = tail_ = 0;
  }

 private:
  std::vector<uint8_t> buf_;
  size_t head_ = 0;
  size_t tail_ = 0;
};

}  // namespace utcp::tools
