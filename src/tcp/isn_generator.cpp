// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/isn_generator.hpp"

#include <cstring>

namespace utcp::tcp {

namespace {

void put_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

void put_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

}  // namespace

wire::SeqNum IsnGenerator::isn(const wire::IpAddr& local, uint16_t local_port,
                               const wire::IpAddr& remote, uint16_t remote_port,
                               Instant now) const {
  // RFC 6528 §3: F() is a keyed PRF over the connection-id (local and remote address and
  // port, of either family); the secret keeps it unguessable. The two families' inputs differ
  // in length (12 or 36 bytes), so an IPv4 tuple and an IPv6 one never feed F() the same bytes.
  uint32_t f = 0;
  if (local.is_v4() && remote.is_v4()) {
    std::array<uint8_t, 12> tuple{};
    put_be32(tuple.data(), local.v4().value);
    put_be16(tuple.data() + 4, local_port);
    put_be32(tuple.data() + 6, remote.v4().value);
    put_be16(tuple.data() + 10, remote_port);
    f = static_cast<uint32_t>(siphash24(secret_, tuple));
  } else {
    std::array<uint8_t, 36> tuple{};
    std::memcpy(tuple.data(), local.bytes16().data(), 16);
    put_be16(tuple.data() + 16, local_port);
    std::memcpy(tuple.data() + 18, remote.bytes16().data(), 16);
    put_be16(tuple.data() + 34, remote_port);
    f = static_cast<uint32_t>(siphash24(secret_, tuple));
  }
  // RFC 9293 §3.4.1: M is a timer that ticks every 4 microseconds (wraps every ~4.55 hours).
  const auto m = static_cast<uint32_t>(static_cast<uint64_t>(to_us(now)) / 4);
  return wire::SeqNum(m + f);
}

}  // namespace utcp::tcp
