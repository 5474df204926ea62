#include "tcp/send_buffer.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace utcp::tcp {

SendBuffer::SendBuffer(size_t capacity) : storage_(capacity) {}

void SendBuffer::set_capacity(size_t c) {
  c = std::max(c, size_);
  if (c == capacity()) return;
  // Re-linearise into a fresh ring; only happens on a socket-option change, never per write.
  std::vector<uint8_t> fresh(c);
  copy_out(0, std::span<uint8_t>(fresh.data(), size_));
  storage_.swap(fresh);
  head_ = 0;
}

size_t SendBuffer::write(std::span<const uint8_t> data) {
  const size_t n = std::min(data.size(), free_space());
  if (n == 0) return 0;
  const size_t cap = capacity();
  size_t tail = head_ + size_;
  if (tail >= cap) tail -= cap;
  const size_t first = std::min(n, cap - tail);
  std::memcpy(storage_.data() + tail, data.data(), first);
  if (n > first) std::memcpy(storage_.data(), data.data() + first, n - first);
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
  std::memcpy(dst.data(), storage_.data() + pos, first);
  if (dst.size() > first) std::memcpy(dst.data() + first, storage_.data(), dst.size() - first);
}

void SendBuffer::consume(size_t n) {
  n = std::min(n, size_);
  size_ -= n;
  head_ += n;
  if (head_ >= capacity()) head_ -= capacity();
  if (size_ == 0) head_ = 0;  // keeps later writes contiguous
}

}  // namespace utcp::tcp
