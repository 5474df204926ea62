// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/send_buffer.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "base/ring_growth.hpp"

namespace utcp::tcp {

SendBuffer::SendBuffer(size_t capacity) : capacity_(capacity) {}

void SendBuffer::reallocate(size_t bytes) {
  assert(bytes >= size_);
  std::unique_ptr<uint8_t[]> fresh(new uint8_t[bytes]);
  // Linearised by hand rather than through copy_out, which then stays inlined into the
  // segment emitter, its one caller on the hot path.
  if (size_ > 0) {
    const size_t first = std::min(size_, alloc_ - head_);
    std::memcpy(fresh.get(), storage_.get() + head_, first);
    if (size_ > first) std::memcpy(fresh.get() + first, storage_.get(), size_ - first);
  }
  storage_ = std::move(fresh);
  alloc_ = bytes;
  head_ = 0;
}

void SendBuffer::grow(size_t needed) {
  reallocate(ring_growth_size(alloc_, needed, capacity_, kInitialAllocation));
}

void SendBuffer::set_capacity(size_t c) {
  c = std::max(c, size_);
  if (c == capacity_) return;
  // A larger capacity is reached by growing on demand; only storage above the new
  // capacity is given back (on a socket-option change, never per write).
  if (alloc_ > c) reallocate(c);
  capacity_ = c;
}

size_t SendBuffer::write(std::span<const uint8_t> data) {
  const size_t n = std::min(data.size(), free_space());
  if (n == 0) return 0;
  if (size_ + n > alloc_) grow(size_ + n);  // the one check the write path pays
  const size_t cap = alloc_;
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
  const size_t cap = alloc_;
  size_t pos = head_ + offset;
  if (pos >= cap) pos -= cap;
  const size_t first = std::min(dst.size(), cap - pos);
  std::memcpy(dst.data(), storage_.get() + pos, first);
  if (dst.size() > first) std::memcpy(dst.data() + first, storage_.get(), dst.size() - first);
}

void SendBuffer::release_if_empty() {
  if (size_ != 0) return;
  storage_.reset();
  alloc_ = 0;
  head_ = 0;
}

void SendBuffer::consume(size_t n) {
  n = std::min(n, size_);
  size_ -= n;
  head_ += n;
  if (head_ >= alloc_) head_ -= alloc_;
  if (size_ == 0) head_ = 0;  // keeps later writes contiguous
}

}  // namespace utcp::tcp
