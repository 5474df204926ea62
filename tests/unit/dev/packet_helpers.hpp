// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Helpers shared by the device tests: numbered test packets and caller-owned slots.
#include <cstdint>
#include <span>
#include <vector>

#include "utcp/device.hpp"

namespace utcp::dev::test_util {

// A packet whose first four bytes carry n (big-endian); the rest is filler.
inline std::vector<uint8_t> numbered_packet(uint32_t n, size_t len = 64) {
  std::vector<uint8_t> p(len, 0xab);
  p[0] = static_cast<uint8_t>(n >> 24);
  p[1] = static_cast<uint8_t>(n >> 16);
  p[2] = static_cast<uint8_t>(n >> 8);
  p[3] = static_cast<uint8_t>(n);
  return p;
}

inline uint32_t number_of(std::span<const uint8_t> p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// Receive buffers owned by the test, as a stack would own them.
struct Slots {
  explicit Slots(size_t n, size_t size = 2048) : storage(n * size), slots(n) {
    for (size_t i = 0; i < n; ++i) slots[i].buf = std::span(storage).subspan(i * size, size);
  }
  std::vector<uint8_t> storage;
  std::vector<PacketSlot> slots;
};

}  // namespace utcp::dev::test_util
