// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Fake-IP DNS (issue 14): each name asked for gets an address from a pool routed into the TUN
// (ProxyConfig::fake_ip_pool, e.g. 198.18.0.0/15; fake_ip_pool6 for AAAA), so a connection to
// that address can be sent upstream by name (SOCKS5 ATYP 3, CONNECT host:port). One pool per
// family. A name keeps its address while it is in use (asked for again); the pool is bounded,
// and once full the least recently asked-for name gives up its address to the new one.
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "utcp/address.hpp"

namespace utcp::proxy {

class FakeIpPool {
 public:
  // At most max_entries names at once (fewer if the prefix holds fewer usable addresses).
  // Throws std::invalid_argument for a prefix without a usable address (IPv4 /31, /32).
  explicit FakeIpPool(const IpPrefix& prefix, size_t max_entries = kDefaultMaxEntries);

  static constexpr size_t kDefaultMaxEntries = 65536;

  // The address for `name` (compared case-insensitively, a trailing dot ignored: RFC 4343),
  // the same as before while the name still holds one; marks it most recently used.
  IpAddr assign(std::string_view name);
  // The name an address of the pool stands for, nullopt when none (or not in the pool).
  std::optional<std::string> name_of(const IpAddr& addr) const;
  bool contains(const IpAddr& addr) const { return prefix_.contains(addr); }
  const IpPrefix& prefix() const { return prefix_; }
  size_t size() const { return lru_.size(); }
  uint64_t reused() const { return reused_; }  // addresses taken from an older name

  static std::string normalize(std::string_view name);

 private:
  struct Entry {
    std::string name;
    uint64_t offset;  // the address: the prefix's first address + offset
  };
  IpAddr address_at(uint64_t offset) const;
  std::optional<uint64_t> offset_of(const IpAddr& addr) const;
  bool skipped(uint64_t offset) const;

  IpPrefix prefix_;
  uint64_t range_;  // addresses in the prefix (capped at 2^62)
  size_t max_entries_;
  uint64_t next_offset_ = 1;
  uint64_t reused_ = 0;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> by_name_;
  std::unordered_map<uint64_t, std::list<Entry>::iterator> by_offset_;
};

}  // namespace utcp::proxy
