// SPDX-License-Identifier: BSD-2-Clause
// Fake-IP pool: see fake_ip_pool.hpp.
#include "fake_ip_pool.hpp"

#include <algorithm>
#include <stdexcept>

namespace utcp::proxy {
namespace {

// The prefix's first address, as the 16 bytes IpAddr keeps (IPv4 in the last four).
std::array<uint8_t, 16> network_bytes(const IpPrefix& p) {
  std::array<uint8_t, 16> b = p.addr.bytes16();
  const size_t first = p.addr.is_v4() ? 12 : 0;
  const size_t bits = std::min<size_t>(p.length, p.addr.is_v4() ? 32 : 128);
  for (size_t i = first; i < 16; ++i) {
    const size_t bit = (i - first) * 8;
    if (bit >= bits) {
      b[i] = 0;
    } else if (bit + 8 > bits) {
      b[i] &= static_cast<uint8_t>(0xff00u >> (bits - bit));
    }
  }
  return b;
}

}  // namespace

FakeIpPool::FakeIpPool(const IpPrefix& prefix, size_t max_entries)
    : prefix_(prefix), max_entries_(max_entries) {
  const size_t width = prefix.addr.is_v4() ? 32 : 128;
  const size_t host_bits = width - std::min<size_t>(prefix.length, width);
  range_ = host_bits >= 62 ? uint64_t{1} << 62 : uint64_t{1} << host_bits;
  const auto b = network_bytes(prefix);
  prefix_.addr =
      prefix.addr.is_v4() ? IpAddr(Ipv4Addr(b[12], b[13], b[14], b[15])) : IpAddr(Ipv6Addr(b));
  if (range_ < 4 || max_entries_ == 0) {
    throw std::invalid_argument("fake-IP pool " + prefix.to_string() +
                                " has no usable address (a /30 or /126 at least)");
  }
}

std::string FakeIpPool::normalize(std::string_view name) {
  // RFC 4343 §3: DNS names compare case-insensitively (ASCII only); "a.b." is "a.b".
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Never handed out: the prefix's first and last address (network and broadcast for IPv4;
// for IPv6 the Subnet-Router anycast address, RFC 4291 §2.6.1, and its all-ones twin), and in
// IPv4 every x.y.z.0 and x.y.z.255, which some software still takes for a network or
// broadcast address.
bool FakeIpPool::skipped(uint64_t offset) const {
  if (offset == 0 || offset >= range_ - 1) return true;
  if (!prefix_.addr.is_v4()) return false;
  const uint8_t last = static_cast<uint8_t>(prefix_.addr.v4().value + offset);
  return last == 0 || last == 255;
}

IpAddr FakeIpPool::address_at(uint64_t offset) const {
  std::array<uint8_t, 16> b = prefix_.addr.bytes16();
  uint64_t carry = offset;
  for (size_t i = 16; i-- > 0 && carry != 0;) {  // add, big-endian (no bit beyond the prefix)
    const uint64_t sum = b[i] + (carry & 0xff);
    b[i] = static_cast<uint8_t>(sum);
    carry = (carry >> 8) + (sum >> 8);
  }
  if (prefix_.addr.is_v4()) return Ipv4Addr(b[12], b[13], b[14], b[15]);
  return Ipv6Addr(b);
}

std::optional<uint64_t> FakeIpPool::offset_of(const IpAddr& addr) const {
  if (!prefix_.contains(addr)) return std::nullopt;
  const auto& a = addr.bytes16();
  const auto& n = prefix_.addr.bytes16();
  // Offsets handed out are below range_ <= 2^62: the address differs only in its last 8 bytes.
  for (size_t i = 0; i < 8; ++i) {
    if (a[i] != n[i]) return std::nullopt;
  }
  uint64_t x = 0, y = 0;
  for (size_t i = 8; i < 16; ++i) {
    x = x << 8 | a[i];
    y = y << 8 | n[i];
  }
  return x - y;
}

IpAddr FakeIpPool::assign(std::string_view raw) {
  std::string name = normalize(raw);
  if (auto it = by_name_.find(name); it != by_name_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);  // in use again: most recent
    return address_at(it->second->offset);
  }
  while (next_offset_ < range_ && skipped(next_offset_)) ++next_offset_;
  uint64_t offset;
  if (lru_.size() < max_entries_ && next_offset_ < range_) {
    offset = next_offset_++;
  } else {
    // Full: the least recently asked-for name gives its address up (LRU reuse).
    Entry& oldest = lru_.back();
    offset = oldest.offset;
    by_name_.erase(oldest.name);
    by_offset_.erase(offset);
    lru_.pop_back();
    ++reused_;
  }
  lru_.push_front(Entry{name, offset});
  by_name_.emplace(std::move(name), lru_.begin());
  by_offset_.emplace(offset, lru_.begin());
  return address_at(offset);
}

std::optional<std::string> FakeIpPool::name_of(const IpAddr& addr) const {
  const auto offset = offset_of(addr);
  if (!offset) return std::nullopt;
  const auto it = by_offset_.find(*offset);
  if (it == by_offset_.end()) return std::nullopt;
  return it->second->name;
}

}  // namespace utcp::proxy
