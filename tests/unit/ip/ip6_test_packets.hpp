// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Builders for the IPv6 IP-layer tests. Headers are written byte by byte here (not with the
// wire emitters) so the expected bytes are independent of the code under test; only the
// Internet checksum (tested in unit_wire) is shared.
#include <cstdint>
#include <span>
#include <vector>

#include "unit/ip/ip_test_packets.hpp"
#include "utcp/address.hpp"
#include "wire/checksum.hpp"

namespace utcp::ip::test_util {

inline const wire::Ipv6Addr kPeer6(0xfd77, 0, 0, 0, 0, 0, 0, 1);
inline const wire::Ipv6Addr kLocal6(0xfd77, 0, 0, 0, 0, 0, 0, 2);
inline const wire::Ipv6Addr kRouter6(0xfd77, 5, 0, 0, 0, 0, 0, 0xfe);
inline const wire::Ipv6Addr kFar6(0xfd78, 0, 0, 0, 0, 0, 0, 5);
inline const wire::Ipv6Addr kAllNodes6(0xff02, 0, 0, 0, 0, 0, 0, 1);

struct Ip6Fields {
  wire::Ipv6Addr src = kPeer6;
  wire::Ipv6Addr dst = kLocal6;
  uint8_t next_header = 6;
  uint8_t hop_limit = 64;
  uint8_t traffic_class = 0;
  uint32_t flow_label = 0;
};

// An IPv6 packet (40-byte header) around payload (extension headers included).
inline std::vector<uint8_t> ip6_packet(const Ip6Fields& f, std::span<const uint8_t> payload) {
  std::vector<uint8_t> p(40 + payload.size());
  put32(p, 0, uint32_t{6} << 28 | uint32_t{f.traffic_class} << 20 | (f.flow_label & 0xfffff));
  put16(p, 4, static_cast<uint16_t>(payload.size()));
  p[6] = f.next_header;
  p[7] = f.hop_limit;
  std::copy(f.src.bytes.begin(), f.src.bytes.end(), p.begin() + 8);
  std::copy(f.dst.bytes.begin(), f.dst.bytes.end(), p.begin() + 24);
  std::copy(payload.begin(), payload.end(), p.begin() + 40);
  return p;
}

// The ICMPv6 checksum (RFC 4443 §2.3): pseudo-header written out, then the message.
inline uint16_t icmp6_checksum(std::span<const uint8_t> msg, const wire::Ipv6Addr& src,
                               const wire::Ipv6Addr& dst) {
  std::vector<uint8_t> buf(40);
  std::copy(src.bytes.begin(), src.bytes.end(), buf.begin());
  std::copy(dst.bytes.begin(), dst.bytes.end(), buf.begin() + 16);
  put32(buf, 32, static_cast<uint32_t>(msg.size()));
  buf[39] = 58;
  buf.insert(buf.end(), msg.begin(), msg.end());
  return wire::internet_checksum(buf);
}

// An ICMPv6 message: type, code, the 4 "rest of header" bytes, data; checksum filled in.
inline std::vector<uint8_t> icmp6_message(uint8_t type, uint8_t code, uint32_t rest,
                                          std::span<const uint8_t> data,
                                          const wire::Ipv6Addr& src = kPeer6,
                                          const wire::Ipv6Addr& dst = kLocal6) {
  std::vector<uint8_t> m(8 + data.size());
  m[0] = type;
  m[1] = code;
  put32(m, 4, rest);
  std::copy(data.begin(), data.end(), m.begin() + 8);
  put16(m, 2, icmp6_checksum(m, src, dst));
  return m;
}

// A Hop-by-Hop or Destination Options header: next header, then `options` padded with PadN
// (or Pad1) to a multiple of 8 bytes.
inline std::vector<uint8_t> options_header(uint8_t next, std::vector<uint8_t> options = {}) {
  // Reserved up front: GCC 12 at -O3 misreads an insert into the 2-byte vector as an
  // out-of-bounds memcpy (-Warray-bounds, a false positive).
  std::vector<uint8_t> h;
  h.reserve(options.size() + 16);
  h.push_back(next);
  h.push_back(0);
  h.insert(h.end(), options.begin(), options.end());
  const size_t pad = (8 - h.size() % 8) % 8;
  if (pad == 1) {
    h.push_back(0);  // Pad1
  } else if (pad > 1) {
    h.push_back(1);  // PadN
    h.push_back(static_cast<uint8_t>(pad - 2));
    h.insert(h.end(), pad - 2, 0);
  }
  h[1] = static_cast<uint8_t>(h.size() / 8 - 1);
  return h;
}

// A Fragment header (RFC 8200 §4.5): offset in bytes.
inline std::vector<uint8_t> fragment_header(uint8_t next, uint16_t offset, bool more, uint32_t id) {
  std::vector<uint8_t> h(8, 0);
  h[0] = next;
  put16(h, 2, static_cast<uint16_t>((offset & 0xfff8) | (more ? 1 : 0)));
  put32(h, 4, id);
  return h;
}

inline std::vector<uint8_t> concat(std::initializer_list<std::span<const uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Splits `data` (the fragmentable part) into fragments of at most `chunk` bytes (a multiple
// of 8), each behind the fixed header and `per_fragment` (extension headers before the
// Fragment header, whose last Next Header must already be 44, or empty).
inline std::vector<std::vector<uint8_t>> fragments6(const std::vector<uint8_t>& data, uint8_t next,
                                                    size_t chunk, uint32_t id, Ip6Fields f = {},
                                                    const std::vector<uint8_t>& per_fragment = {}) {
  std::vector<std::vector<uint8_t>> out;
  if (per_fragment.empty()) f.next_header = 44;
  for (size_t off = 0; off < data.size(); off += chunk) {
    const size_t len = std::min(chunk, data.size() - off);
    const auto fh = fragment_header(next, static_cast<uint16_t>(off), off + len < data.size(), id);
    out.push_back(ip6_packet(f, concat({per_fragment, fh, std::span(data).subspan(off, len)})));
  }
  return out;
}

}  // namespace utcp::ip::test_util
