// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A device wrapper for tests and fuzz harnesses that scatters reads the way TUN's readv does:
// when the caller offers PacketSlot::place, the packet's first bytes land there and only the
// rest in `buf`. A stack reading through it takes its direct-placement receive path (headers
// over the bytes before RCV.NXT, payload straight into the receive ring).
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <functional>
#include <span>

#include "utcp/device.hpp"

namespace utcp::test_support {

class ScatterDevice final : public dev::Device {
 public:
  explicit ScatterDevice(dev::Device& inner) : inner_(inner) {}

  size_t mtu() const override { return inner_.mtu(); }
  dev::DeviceCapabilities capabilities() const override {
    dev::DeviceCapabilities c = inner_.capabilities();
    c.scatter_receive = true;
    return c;
  }
  Instant next_deadline() const override { return inner_.next_deadline(); }
  size_t transmit(std::span<const std::span<const uint8_t>> packets, Instant now) override {
    return inner_.transmit(packets, now);
  }

  // One packet per slot from the inner device (into `buf`), then split as readv would have:
  // place[0, placed) gets its start, buf[0, len - placed) the rest.
  size_t receive(std::span<dev::PacketSlot> slots, Instant now) override {
    size_t filled = 0;
    for (; filled < slots.size(); ++filled) {
      dev::PacketSlot& slot = slots[filled];
      slot.placed = 0;
      if (inner_.receive(slots.subspan(filled, 1), now) == 0) break;
      if (on_packet) on_packet(slot);
      const size_t n = std::min(slot.len, slot.place.size());
      if (n == 0) continue;
      std::memcpy(slot.place.data(), slot.buf.data(), n);
      std::memmove(slot.buf.data(), slot.buf.data() + n, slot.len - n);
      slot.placed = n;
      ++scattered;
    }
    return filled;
  }

  size_t scattered = 0;  // packets that went (partly) to `place`
  // Called with each packet as read, before it is split (a test may rewrite it in `buf`).
  std::function<void(dev::PacketSlot&)> on_packet;

 private:
  dev::Device& inner_;
};

}  // namespace utcp::test_support
