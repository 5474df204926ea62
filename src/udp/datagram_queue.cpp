// SPDX-License-Identifier: BSD-2-Clause
#include "udp/datagram_queue.hpp"

#include <cstring>
#include <utility>

#include "base/ring_growth.hpp"

namespace utcp::udp {
namespace {
constexpr size_t kInitialRing = 4096;
constexpr uint32_t kInitialRecords = 16;
}  // namespace

std::span<const uint8_t> DatagramQueue::front() const {
  const Record& r = records_[head_];
  return {ring_.data() + r.offset, r.len};
}

size_t DatagramQueue::place(size_t len) const {
  if (count_ == 0) return len <= ring_.size() ? 0 : SIZE_MAX;
  const size_t head_off = records_[head_].offset;
  if (tail_ > head_off || (tail_ == head_off && bytes_ == 0)) {
    // Not wrapped: room after the tail, else from the start up to the oldest datagram.
    if (ring_.size() - tail_ >= len) return tail_;
    if (len <= head_off) return 0;
    return SIZE_MAX;
  }
  // Wrapped: only between the tail and the oldest datagram.
  return head_off - tail_ >= len ? tail_ : SIZE_MAX;
}

DatagramQueue& DatagramQueue::operator=(DatagramQueue&& other) noexcept {
  if (this == &other) return *this;
  release_storage();
  limits_ = other.limits_;
  budget_ = std::exchange(other.budget_, nullptr);
  ring_ = std::exchange(other.ring_, {});
  records_ = std::exchange(other.records_, {});
  head_ = std::exchange(other.head_, 0);
  count_ = std::exchange(other.count_, 0);
  bytes_ = std::exchange(other.bytes_, 0);
  tail_ = std::exchange(other.tail_, 0);
  return *this;
}

void DatagramQueue::release_storage() {
  if (budget_ && !ring_.empty()) budget_->shrink(ring_.size(), 0);
  ring_ = {};
}

bool DatagramQueue::grow_ring(size_t needed) {
  const size_t size = ring_growth_size(ring_.size(), needed, limits_.bytes, kInitialRing);
  if (size <= ring_.size()) return true;
  if (budget_ && !budget_->try_grow(ring_.size(), size)) return false;
  // Lay the queued datagrams out from offset 0 in the new ring, oldest first.
  std::vector<uint8_t> bigger(size);
  size_t off = 0;
  for (uint32_t i = 0; i < count_; ++i) {
    Record& r = records_[(head_ + i) % records_.size()];
    if (r.len != 0) std::memcpy(bigger.data() + off, ring_.data() + r.offset, r.len);
    r.offset = static_cast<uint32_t>(off);
    off += r.len;
  }
  ring_.swap(bigger);
  tail_ = off;
  return true;
}

void DatagramQueue::grow_records() {
  const size_t size =
      std::min<size_t>(std::max<size_t>(records_.size() * 2, kInitialRecords), limits_.datagrams);
  std::vector<Record> bigger(size);
  for (uint32_t i = 0; i < count_; ++i) bigger[i] = records_[(head_ + i) % records_.size()];
  records_.swap(bigger);
  head_ = 0;
}

PushResult DatagramQueue::try_push(const DatagramInfo& info, std::span<const uint8_t> payload) {
  const size_t len = payload.size();
  if (count_ >= limits_.datagrams || bytes_ + len > limits_.bytes) return PushResult::kFull;
  size_t at = place(len);
  if (at == SIZE_MAX && ring_.size() < limits_.bytes) {
    // Growing re-packs the datagrams from offset 0, so the live bytes plus this one fit.
    if (!grow_ring(bytes_ + len)) return PushResult::kNoMemory;
    at = place(len);
  }
  if (at == SIZE_MAX) return PushResult::kFull;  // fragmented: no room until readers drain
  if (count_ == records_.size()) grow_records();
  Record& r = records_[(head_ + count_) % records_.size()];
  r.info = info;
  r.offset = static_cast<uint32_t>(at);
  r.len = static_cast<uint32_t>(len);
  if (len != 0) std::memcpy(ring_.data() + at, payload.data(), len);
  tail_ = at + len;
  ++count_;
  bytes_ += len;
  return PushResult::kQueued;
}

void DatagramQueue::pop() {
  if (count_ == 0) return;
  bytes_ -= records_[head_].len;
  head_ = static_cast<uint32_t>((head_ + 1) % records_.size());
  if (--count_ == 0) {
    head_ = 0;
    tail_ = 0;
  }
}

void DatagramQueue::clear() {
  count_ = 0;
  head_ = 0;
  tail_ = 0;
  bytes_ = 0;
}

}  // namespace utcp::udp
