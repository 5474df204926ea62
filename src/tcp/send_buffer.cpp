// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/send_buffer.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

#include "base/ring_growth.hpp"
#include "tcp/memory_budget.hpp"

namespace utcp::tcp {

SendBuffer::SendBuffer(size_t capacity) : capacity_(capacity) {}

SendBuffer::~SendBuffer() {
  if (budget_ != nullptr) budget_->shrink(alloc_, 0);
}

void SendBuffer::reallocate(size_t bytes) {
  assert(bytes >= size_);
  if (budget_ != nullptr && bytes < alloc_) budget_->shrink(alloc_, bytes);
  RingStorage fresh = allocate_ring(bytes);
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
  size_t bytes = ring_growth_size(alloc_, needed, capacity_, kInitialAllocation);
  if (budget_ != nullptr && !budget_->try_grow(alloc_, bytes)) {
    limited_ = true;
    // Refused; the first allocation is every connection's by right (MemoryBudget::kGuaranteed).
    const size_t floor = std::min(capacity_, MemoryBudget::kGuaranteed);
    if (alloc_ >= floor || !budget_->try_grow(alloc_, floor)) return;
    bytes = floor;
  }
  reallocate(bytes);
}

// The doubling from kInitialAllocation reaches exactly the powers of two above it.
static_assert(std::has_single_bit(SendBuffer::kInitialAllocation));

size_t SendBuffer::fitted_size() const {
  // What ring_growth_size(0, size_, ...) gives, without its loop: asked on every drain.
  return size_ == 0 ? 0 : std::min(std::max(std::bit_ceil(size_), kInitialAllocation), capacity_);
}

size_t SendBuffer::releasable() const {
  // Only a halving is worth the copy: a ring about the right size stays.
  const size_t fit = fitted_size();
  return alloc_ >= 2 * fit ? alloc_ - fit : 0;
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
  size_t n = std::min(data.size(), free_space());
  if (n == 0) return 0;
  if (size_ + n > alloc_) {  // the one check the write path pays
    grow(size_ + n);
    n = std::min(n, alloc_ - size_);  // a budget that refused: what the storage held takes
    if (n == 0) return 0;
  }
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
  if (releasable() == 0) return;
  if (size_ != 0) return reallocate(fitted_size());
  if (budget_ != nullptr) budget_->shrink(alloc_, 0);
  storage_.reset();
  alloc_ = 0;
  head_ = 0;
  limited_ = false;  // with no storage, free_space() must not read 0: the next write asks again
}

void SendBuffer::consume(size_t n) {
  n = std::min(n, size_);
  size_ -= n;
  head_ += n;
  if (head_ >= alloc_) head_ -= alloc_;
  if (size_ == 0) head_ = 0;  // keeps later writes contiguous
  // Acknowledged bytes made room; the budget may allow growth again.
  if (limited_ && !budget_->under_pressure()) limited_ = false;
}

}  // namespace utcp::tcp
