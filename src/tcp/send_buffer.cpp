#include "tcp/send_buffer.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace utcp::tcp {

SendBuffer::SendBuffer(size_t capacity) : capacity_(capacity) {}

void SendBuffer::set_capacity(size_t c) {
  c = std::max(c, size_);
  if (c == capacity_) return;
  if (storage_) {
    // Re-linearise into a fresh ring; only on a socket-option change, never per write.
    std::unique_ptr<uint8_t[]> fresh(new uint8_t[c]);
    copy_out(0, std::span<uint8_t>(fresh.get(), size_));
    storage_ = std::move(fresh);
  }
  capacity_ = c;
  head_ = 0;
}

size_t SendBuffer::write(std::span<const uint8_t> data) {
  const size_t n = std::min(data.size(), free_space());
  if (n == 0) return 0;
  if (!storage_) storage_.reset(new uint8_t[capacity_]);  // once per buffer, not per write
  const size_t cap = capacity_;
  size_t tail = head_ + size_;
  if (tail >= cap) tail -= cap;
  const size_t first = std::min(n, cap - tail);
  std::memcpy(storage_.get() + tail, data.data(), first);
  if (n > first) std::memcpy(storage_.get(), data.data() + first, n - first);
  size_ += n;
  return n;
}

void SendBuffer::copy_out(size_t offset, std::span<uint8_t> dst) const {
  assert(offset + dst.size() <= size_);
  if (dst.empty()) return;
  const size_t cap = capacity();
  size_t pos = head_ + offset;
  if (pos >= cap) pos -= cap;
  const size_t first = std::min(dst.size(), cap - pos);
  std::memcpy(dst.data(), storage_.get() + pos, first);
  if (dst.size() > first) std::memcpy(dst.data() + first, storage_.get(), dst.size() - first);
}

void SendBuffer::release_if_empty() {
  if (size_ != 0) return;
  storage_.reset();
  head_ = 0;
}

void SendBuffer::consume(size_t n) {
  n = std::min(n, size_);
  size_ -= n;
  head_ += n;
  if (head_ >= capacity()) head_ -= capacity();
  if (size_ == 0) head_ = 0;  // keeps later writes contiguous
}

}  // namespace utcp::tcp
