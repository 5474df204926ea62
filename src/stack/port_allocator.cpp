// SPDX-License-Identifier: BSD-2-Clause
#include "stack/port_allocator.hpp"

#include <cstring>

#include "base/siphash.hpp"

namespace utcp::stack {
namespace {

uint64_t hash_destination(const std::array<uint8_t, 16>& key, wire::Ipv4Addr local,
                          wire::Ipv4Addr remote, uint16_t remote_port) {
  uint8_t buf[10];
  std::memcpy(buf, &local.value, 4);
  std::memcpy(buf + 4, &remote.value, 4);
  std::memcpy(buf + 8, &remote_port, 2);
  return siphash24(key, buf);
}

}  // namespace

PortAllocator::PortAllocator(const std::array<uint8_t, 16>& secret, Range range)
    : key_offset_(secret), key_index_(secret), range_(range), table_(kTableSize, 0) {
  // Two independent keys derived from one secret (RFC 6056 §3.3.4 uses secret_key1/2).
  for (auto& b : key_index_) b ^= 0x5c;
  if (range_.last < range_.first) std::swap(range_.first, range_.last);
}

std::optional<uint16_t> PortAllocator::allocate(wire::Ipv4Addr local, wire::Ipv4Addr remote,
                                                uint16_t remote_port,
                                                const std::function<bool(uint16_t)>& in_use) {
  const uint32_t count = uint32_t{range_.last} - range_.first + 1;
  const uint64_t offset = hash_destination(key_offset_, local, remote, remote_port);
  uint16_t& next = table_[hash_destination(key_index_, local, remote, remote_port) % kTableSize];
  for (uint32_t i = 0; i < count; ++i) {
    auto port = static_cast<uint16_t>(range_.first + (offset + next) % count);
    ++next;
    if (!in_use(port)) return port;
  }
  return std::nullopt;
}

}  // namespace utcp::stack
