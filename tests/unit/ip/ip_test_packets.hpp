// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Builders for the IP tests. Headers are written byte by byte here (not with the wire
// emitters under test elsewhere) so the expected bytes are independent of the code.
#include <cstdint>
#include <span>
#include <vector>

#include "utcp/address.hpp"
#include "wire/checksum.hpp"

namespace utcp::ip::test_util {

inline const wire::Ipv4Addr kPeer(10, 77, 0, 1);
inline const wire::Ipv4Addr kLocal(10, 77, 0, 2);
inline const wire::Ipv4Addr kRouter(10, 77, 5, 254);

inline void put16(std::vector<uint8_t>& v, size_t at, uint16_t x) {
  v[at] = static_cast<uint8_t>(x >> 8);
  v[at + 1] = static_cast<uint8_t>(x);
}
inline void put32(std::vector<uint8_t>& v, size_t at, uint32_t x) {
  put16(v, at, static_cast<uint16_t>(x >> 16));
  put16(v, at + 2, static_cast<uint16_t>(x));
}
inline uint16_t get16(std::span<const uint8_t> v, size_t at) {
  return static_cast<uint16_t>(v[at] << 8 | v[at + 1]);
}

struct IpFields {
  wire::Ipv4Addr src = kPeer;
  wire::Ipv4Addr dst = kLocal;
  uint8_t protocol = 6;
  uint16_t id = 0x1111;
  bool df = false;
  bool mf = false;
  uint16_t frag_offset = 0;  // bytes
  uint8_t ttl = 64;
  uint8_t tos = 0;
};

// An IPv4 datagram (20-byte header, valid checksum) around payload.
inline std::vector<uint8_t> ip_packet(const IpFields& f, std::span<const uint8_t> payload) {
  std::vector<uint8_t> p(20 + payload.size());
  p[0] = 0x45;
  p[1] = f.tos;
  put16(p, 2, static_cast<uint16_t>(p.size()));
  put16(p, 4, f.id);
  put16(p, 6,
        static_cast<uint16_t>((f.df ? 0x4000 : 0) | (f.mf ? 0x2000 : 0) | (f.frag_offset / 8)));
  p[8] = f.ttl;
  p[9] = f.protocol;
  put32(p, 12, f.src.value);
  put32(p, 16, f.dst.value);
  put16(p, 10, wire::internet_checksum(std::span(p).first(20)));
  std::copy(payload.begin(), payload.end(), p.begin() + 20);
  return p;
}

// An ICMP message: type, code, the 4 "rest of header" bytes, data; checksum filled in.
inline std::vector<uint8_t> icmp_message(uint8_t type, uint8_t code, uint32_t rest,
                                         std::span<const uint8_t> data) {
  std::vector<uint8_t> m(8 + data.size());
  m[0] = type;
  m[1] = code;
  put32(m, 4, rest);
  std::copy(data.begin(), data.end(), m.begin() + 8);
  put16(m, 2, wire::internet_checksum(m));
  return m;
}

// The first 20 bytes of a TCP header (checksum left 0: quotes are not checked).
inline std::vector<uint8_t> tcp_header(uint16_t sport, uint16_t dport, uint32_t seq,
                                       uint8_t flags = 0x02) {
  std::vector<uint8_t> t(20, 0);
  put16(t, 0, sport);
  put16(t, 2, dport);
  put32(t, 4, seq);
  t[12] = 0x50;
  t[13] = flags;
  put16(t, 14, 65535);
  return t;
}

inline std::vector<uint8_t> pattern(size_t n, uint8_t seed = 0) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 31 + (i >> 8));
  return v;
}

}  // namespace utcp::ip::test_util
