// SPDX-License-Identifier: BSD-2-Clause
#include "stack/port_allocator.hpp"

#include <cstring>

#include "base/siphash.hpp"

namespace utcp::stack {
namespace {

// RFC 6056 §3.3.4: F(local address, remote address, remote port) keyed by a secret, over the
// addresses of either family (10 or 34 bytes in, so the families never collide on input).
uint64_t hash_destination(const std::array<uint8_t, 16>& key, const wire::IpAddr& local,
                          const wire::IpAddr& remote, uint16_t remote_port) {
  if (local.is_v4() && remote.is_v4()) {
    const uint32_t l = local.v4().value, r = remote.v4().value;
    uint8_t buf[10];
    std::memcpy(buf, &l, 4);
    std::memcpy(buf + 4, &r, 4);
    std::memcpy(buf + 8, &remote_port, 2);
    return siphash24(key, buf);
  }
  uint8_t buf[34];
  std::memcpy(buf, local.bytes16().data(), 16);
  std::memcpy(buf + 16, remote.bytes16().data(), 16);
  std::memcpy(buf + 32, &remote_port, 2);
  return siphash24(key, buf);
}

}  // namespace

PortAllocator::PortAllocator(const std::array<uint8_t, 16>& secret, Range range)
    : key_offset_(secret), key_index_(secret), range_(range), table_(kTableSize, 0) {
  // Two independent keys derived from one secret (RFC 6056 §3.3.4 uses secret_key1/2).
  for (auto& b : key_index_) b ^= 0x5c;
  if (range_.last < range_.first) std::swap(range_.first, range_.last);
}

std::optional<uint16_t> PortAllocator::allocate(const wire::IpAddr& local,
                                                const wire::IpAddr& remote, uint16_t remote_port,
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
