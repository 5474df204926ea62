// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A bounded FIFO of bytes for the tools' pipes (stdin -> connection -> stdout, or what a
// server could not hand to the stack yet): writers append into free() or with append(),
// readers consume from data(). Nothing is allocated until the first byte: free() takes the
// whole capacity (its caller fills it), append() only what it stores; release_if_empty()
// gives the storage back, so a server holding thousands of quiet connections holds no
// buffer for them.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace utcp::tools {

class ByteQueue {
 public:
  // Offsets are 32-bit (a queue per connection, thousands at once: 24 bytes each when empty).
  static constexpr size_t kMaxCapacity = UINT32_MAX;
  explicit ByteQueue(size_t capacity)
      : capacity_(static_cast<uint32_t>(std::min(capacity, kMaxCapacity))) {}

  std::span<const uint8_t> data() const { return {buf_.get() + head_, tail_ - head_}; }
  bool empty() const { return head_ == tail_; }
  size_t size() const { return tail_ - head_; }
  size_t capacity() const { return capacity_; }
  bool has_room() const { return size() < capacity_; }
  bool full() const { return size() == capacity_; }
  // Bytes of storage held (0 until the first byte and after release_if_empty()).
  size_t allocated() const { return alloc_; }

  // Room at the end (the storage grown to the full capacity, unread bytes moved to the front
  // if that makes room); commit() what was written.
  std::span<uint8_t> free() {
    if (alloc_ < capacity_) reallocate(capacity_);
    if (tail_ == alloc_ && head_ > 0) compact();
    return {buf_.get() + tail_, alloc_ - tail_};
  }
  void commit(size_t n) { tail_ += static_cast<uint32_t>(n); }

  // Stores as much of `bytes` as the capacity allows, growing the storage only to what is
  // then held; returns how many were taken.
  size_t append(std::span<const uint8_t> bytes) {
    const size_t n = std::min(bytes.size(), capacity_ - size());
    if (n == 0) return 0;
    if (alloc_ - tail_ < n) {
      if (alloc_ - size() >= n) {
        compact();
      } else {
        reallocate(size() + n);
      }
    }
    std::memcpy(buf_.get() + tail_, bytes.data(), n);
    tail_ += static_cast<uint32_t>(n);
    return n;
  }

  void consume(size_t n) {
    head_ += static_cast<uint32_t>(n);
    if (head_ == tail_) head_ = tail_ = 0;
  }

  void release_if_empty() {
    if (!empty()) return;
    buf_.reset();
    alloc_ = 0;
  }

 private:
  void compact() {
    std::memmove(buf_.get(), buf_.get() + head_, tail_ - head_);
    tail_ -= head_;
    head_ = 0;
  }
  // Fresh storage of `bytes` (>= size()), uninitialised, the unread bytes at its front.
  void reallocate(size_t bytes) {
    std::unique_ptr<uint8_t[]> fresh(new uint8_t[bytes]);
    if (!empty()) std::memcpy(fresh.get(), buf_.get() + head_, size());
    tail_ = static_cast<uint32_t>(size());
    head_ = 0;
    buf_ = std::move(fresh);
    alloc_ = static_cast<uint32_t>(bytes);
  }

  std::unique_ptr<uint8_t[]> buf_;
  uint32_t capacity_;
  uint32_t alloc_ = 0;
  uint32_t head_ = 0;
  uint32_t tail_ = 0;
};

}  // namespace utcp::tools
