// SPDX-License-Identifier: BSD-2-Clause
#include "dev/timed_packet_queue.hpp"

#include <algorithm>
#include <cstring>

namespace utcp::dev {

TimedPacketQueue::TimedPacketQueue(size_t capacity, size_t max_len)
    : capacity_(capacity), max_len_(max_len), fifo_(capacity), buffers_(capacity) {
  heap_.reserve(capacity);
  free_slots_.reserve(capacity);
  for (size_t i = capacity; i > 0; --i) free_slots_.push_back(static_cast<uint32_t>(i - 1));
}

bool TimedPacketQueue::push(std::span<const uint8_t> packet, Instant release) {
  if (full() || packet.size() > max_len_) return false;
  const uint32_t slot = free_slots_.back();
  free_slots_.pop_back();
  auto& buf = buffers_[slot];
  if (buf.size() < packet.size())
    buf.resize(std::max(packet.size(), std::min<size_t>(max_len_, 2048)));
  if (!packet.empty()) std::memcpy(buf.data(), packet.data(), packet.size());
  const Entry e{release, next_order_++, slot, static_cast<uint32_t>(packet.size())};
  const size_t back = fifo_head_ + fifo_count_ - 1;
  if (fifo_count_ == 0 || fifo_[back < capacity_ ? back : back - capacity_].release <= release) {
    const size_t at = fifo_head_ + fifo_count_;
    fifo_[at < capacity_ ? at : at - capacity_] = e;
    ++fifo_count_;
  } else {
    heap_.push_back(e);
    std::push_heap(heap_.begin(), heap_.end(), later);
  }
  return true;
}

std::span<const uint8_t> TimedPacketQueue::front() const {
  const Entry& e = earliest();
  return {buffers_[e.slot].data(), e.len};
}

void TimedPacketQueue::pop() {
  if (earliest_in_fifo()) {
    free_slots_.push_back(fifo_[fifo_head_].slot);
    fifo_head_ = fifo_head_ + 1 == capacity_ ? 0 : fifo_head_ + 1;
    --fifo_count_;
    return;
  }
  std::pop_heap(heap_.begin(), heap_.end(), later);
  free_slots_.push_back(heap_.back().slot);
  heap_.pop_back();
}

}  // namespace utcp::dev
