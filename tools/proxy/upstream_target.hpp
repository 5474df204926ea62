// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What a proxy handshake asks the upstream to reach, and how far the handshake got. Shared by
// the SOCKS5 (socks5_client.hpp) and HTTP CONNECT (http_connect_client.hpp) clients, both
// sans-IO: they turn bytes read from the proxy into state and bytes to write to it.
#include <cstdint>
#include <string>

#include "utcp/address.hpp"

namespace utcp::proxy {

// The destination: an address, or a name when `domain` is non-empty (the name a fake IP stands
// for; SOCKS5 ATYP 3, CONNECT host:port). The proxy resolves the name.
struct Target {
  IpAddr addr;
  std::string domain;
  uint16_t port = 0;
};

enum class HandshakeState : uint8_t { kInProgress, kDone, kFailed };

// "10.0.0.1:80", "[fd00::1]:80" or "example.com:80" (RFC 9110 §7.2 authority form; an IPv6
// literal in brackets, RFC 3986 §3.2.2).
std::string target_text(const Target& target);

}  // namespace utcp::proxy
