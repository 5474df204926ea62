// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The device of a Stack driven push-style (Stack::input / poll_transmit): nothing to read
// (the embedder hands packets in), and what the stack transmits waits here, copied, until the
// embedder takes it. Bounded: what does not fit a full queue is refused, and the stack counts
// it as dropped, as with a full device queue.
#include <algorithm>
#include <cstring>

#include "dev/timed_packet_queue.hpp"
#include "utcp/device.hpp"

namespace utcp::stack {

class HeldDevice final : public dev::Device {
 public:
  static constexpr size_t kQueuePackets = 1024;

  explicit HeldDevice(const dev::DeviceCapabilities& caps)
      : caps_(caps), queue_(kQueuePackets, std::max(caps.mtu, caps.tso_max_bytes)) {
    caps_.scatter_receive = false;  // nothing is ever read from here
  }

  size_t mtu() const override { return caps_.mtu; }
  dev::DeviceCapabilities capabilities() const override { return caps_; }
  size_t receive(std::span<dev::PacketSlot>, Instant) override { return 0; }
  // Takes packets until the queue is full; the stack counts the rest as dev.tx-dropped.
  size_t transmit(std::span<const std::span<const uint8_t>> packets, Instant now) override {
    size_t n = 0;
    while (n < packets.size() && queue_.push(packets[n], now)) ++n;
    return n;
  }

  // Copies the oldest packet into `buf` and returns its length; 0 when none is waiting. A
  // buffer too small for it drops it (counted in dropped()) rather than truncating.
  size_t pop(std::span<uint8_t> buf) {
    while (!queue_.empty()) {
      const std::span<const uint8_t> p = queue_.front();
      const size_t n = p.size();
      if (n <= buf.size()) std::memcpy(buf.data(), p.data(), n);
      queue_.pop();
      if (n <= buf.size()) return n;
      ++dropped_;
    }
    return 0;
  }
  bool empty() const { return queue_.empty(); }
  uint64_t dropped() const { return dropped_; }

 private:
  dev::DeviceCapabilities caps_;
  dev::TimedPacketQueue queue_;
  uint64_t dropped_ = 0;
};

}  // namespace utcp::stack
