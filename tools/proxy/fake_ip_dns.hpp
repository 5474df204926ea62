// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The fake-IP DNS server (ProxyConfig::dns == kFakeIp): answers each query arriving on the TUN
// at once, from the pools, without asking anyone (sans-IO: a datagram in, a datagram out).
//   A     -> an address of fake_ip_pool, AAAA -> one of fake_ip_pool6 (TTL kTtl);
//   PTR of a fake address (in-addr.arpa / ip6.arpa) -> the name it stands for, NXDOMAIN if none;
//   other types of class IN, and the root name -> NOERROR with no answer (NODATA, RFC 2308
//         §2.2), so a resolver falls back to A/AAAA at once instead of waiting;
//   another class, or an opcode other than QUERY -> NOTIMP; a malformed query -> FORMERR
//   (RFC 1035 §4.1.1); responses and datagrams shorter than a header -> no answer.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dns_message.hpp"
#include "fake_ip_pool.hpp"

namespace utcp::proxy {

class FakeIpDns {
 public:
  // Short, so a client asks again (keeping its name's address in use) rather than caching an
  // address the pool may have given to another name since.
  static constexpr uint32_t kTtl = 10;

  FakeIpDns(const IpPrefix& pool4, const IpPrefix& pool6,
            size_t max_entries = FakeIpPool::kDefaultMaxEntries)
      : pool4_(pool4, max_entries), pool6_(pool6, max_entries) {}

  // The response to one datagram; empty when none is due.
  std::vector<uint8_t> answer(std::span<const uint8_t> query);

  // The name a pool address stands for (nullopt: not a fake address, or no name holds it).
  std::optional<std::string> name_of(const IpAddr& addr) const {
    return addr.is_v4() ? pool4_.name_of(addr) : pool6_.name_of(addr);
  }
  bool contains(const IpAddr& addr) const {
    return addr.is_v4() ? pool4_.contains(addr) : pool6_.contains(addr);
  }

  // The address a reverse-lookup name stands for (RFC 1035 §3.5 "d.c.b.a.in-addr.arpa",
  // RFC 3596 §2.5 nibbles under "ip6.arpa"), case-insensitively; nullopt for any other name.
  static std::optional<IpAddr> reverse_address(std::string_view name);

  uint64_t answered() const { return answered_; }
  uint64_t malformed() const { return malformed_; }

 private:
  FakeIpPool pool4_;
  FakeIpPool pool6_;
  uint64_t answered_ = 0;
  uint64_t malformed_ = 0;
};

}  // namespace utcp::proxy
