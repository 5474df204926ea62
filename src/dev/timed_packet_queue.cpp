#include "dev/timed_packet_queue.hpp"

#include <algorithm>
#include <cstring>

namespace utcp::dev {

TimedPacketQueue::TimedPacketQueue(size_t capacity, size_t max_len)
    : capacity_(capacity), max_len_(max_len), buffers_(capacity) {
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
  heap_.push_back(Entry{release, next_order_++, slot, static_cast<uint32_t>(packet.size())});
  std::push_heap(heap_.begin(), heap_.end(), later);
  return true;
}

std::span<const uint8_t> TimedPacketQueue::front() const {
  const Entry& e = heap_.front();
  return {buffers_[e.slot].data(), e.len};
}

void TimedPacketQueue::pop() {
  std::pop_heap(heap_.begin(), heap_.end(), later);
  free_slots_.push_back(heap_.back().slot);
  heap_.pop_back();
}

}  // namespace utcp::dev
