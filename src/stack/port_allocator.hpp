// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Ephemeral port selection per RFC 6056 §3.3.4 (Algorithm 4, "double-hash port selection",
// as Linux does): a keyed hash of the destination picks a starting offset, and a small table
// of counters indexed by a second hash moves it on, so ports are hard to guess for an
// off-path attacker yet successive connections to one peer do not collide at once.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "utcp/address.hpp"
#include "utcp/port_range.hpp"

namespace utcp::stack {

class PortAllocator {
 public:
  using Range = PortRange;

  PortAllocator(const std::array<uint8_t, 16>& secret, Range range = {});

  // Picks a local port for a connection to (remote, remote_port) for which in_use() is false;
  // nullopt when every port of the range is taken for that destination.
  std::optional<uint16_t> allocate(const wire::IpAddr& local, const wire::IpAddr& remote,
                                   uint16_t remote_port,
                                   const std::function<bool(uint16_t)>& in_use);

  Range range() const { return range_; }

 private:
  static constexpr size_t kTableSize = 4096;  // RFC 6056 suggests a few thousand entries
  std::array<uint8_t, 16> key_offset_;
  std::array<uint8_t, 16> key_index_;
  Range range_;
  std::vector<uint16_t> table_;
};

}  // namespace utcp::stack
