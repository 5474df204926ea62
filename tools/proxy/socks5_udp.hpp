// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The SOCKS5 UDP request header (RFC 1928 §7) that wraps every datagram between a client
// and the server's UDP relay after UDP ASSOCIATE:
//   RSV (2, zero) | FRAG (1) | ATYP (1) | DST.ADDR (4, 16, or 1+n for a name) | DST.PORT (2) | DATA
// Sans-IO: encode into a buffer, decode a received datagram.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "upstream_target.hpp"
#include "utcp/address.hpp"

namespace utcp::proxy {

// Where a datagram goes (or came from): Target's name (ATYP 3) when `domain` is non-empty, else
// its address (ATYP 1 or 4).
struct Socks5UdpDatagram {
  Target address;
  std::span<const uint8_t> payload;  // into the decoded buffer
};

enum class Socks5UdpError : uint8_t {
  kNone,
  kTruncated,    // shorter than its header says
  kReserved,     // RSV not zero
  kFragmented,   // FRAG != 0: reassembly is optional (RFC 1928 §7) and not done: dropped
  kAddressType,  // ATYP not 1, 3 or 4
};

// Appends the header for `to` and then `payload` to `out` (cleared first). False when a
// domain is empty or longer than 255 octets (its length is one octet).
bool encode_socks5_udp(const Target& to, std::span<const uint8_t> payload,
                       std::vector<uint8_t>& out);
// The datagram's address and payload, or nullopt with `error` set.
std::optional<Socks5UdpDatagram> decode_socks5_udp(std::span<const uint8_t> datagram,
                                                   Socks5UdpError& error);

}  // namespace utcp::proxy
