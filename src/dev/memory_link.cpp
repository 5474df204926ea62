#include "dev/memory_link.hpp"

#include <cstring>

namespace utcp::dev {

MemoryLink::MemoryLink(MemoryLinkConfig config)
    : config_(config),
      ab_(config.queue_packets, config.mtu),
      ba_(config.queue_packets, config.mtu),
      a_(config_, ba_, ba_counters_, ab_, ab_counters_),
      b_(config_, ab_, ab_counters_, ba_, ba_counters_) {}

size_t MemoryLink::Endpoint::receive(std::span<PacketSlot> slots, Instant now) {
  size_t filled = 0;
  while (filled < slots.size() && in_.due(now)) {
    const auto packet = in_.front();
    PacketSlot& slot = slots[filled];
    if (packet.size() > slot.buf.size()) {
      ++in_counters_.dropped_no_room;
    } else {
      std::memcpy(slot.buf.data(), packet.data(), packet.size());
      slot.len = packet.size();
      ++in_counters_.delivered;
      ++filled;
    }
    in_.pop();
  }
  return filled;
}

size_t MemoryLink::Endpoint::transmit(std::span<const std::span<const uint8_t>> packets,
                                      Instant now) {
  for (const auto& packet : packets) {
    if (packet.size() > config_.mtu) {
      ++out_counters_.dropped_too_big;
    } else if (!out_.push(packet, now + config_.delay)) {
      ++out_counters_.dropped_full;
    } else {
      ++out_counters_.sent;
    }
  }
  return packets.size();  // a full queue drops, it does not push back
}

}  // namespace utcp::dev
