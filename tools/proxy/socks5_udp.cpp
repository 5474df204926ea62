// SPDX-License-Identifier: BSD-2-Clause
// SOCKS5 UDP request header codec (RFC 1928 §7): see socks5_udp.hpp.
#include "socks5_udp.hpp"

namespace utcp::proxy {
namespace {
constexpr uint8_t kAtypV4 = 1;      // RFC 1928 §5
constexpr uint8_t kAtypDomain = 3;  // first octet: the name's length, no terminating NUL
constexpr uint8_t kAtypV6 = 4;
}  // namespace

bool encode_socks5_udp(const Target& to, std::span<const uint8_t> payload,
                       std::vector<uint8_t>& out) {
  out.clear();
  out.reserve(4 + 1 + 255 + 2 + payload.size());
  out.insert(out.end(), {0, 0, 0});  // RSV, FRAG 0: a whole datagram
  if (!to.domain.empty()) {
    if (to.domain.size() > 255) return false;
    out.push_back(kAtypDomain);
    out.push_back(static_cast<uint8_t>(to.domain.size()));
    out.insert(out.end(), to.domain.begin(), to.domain.end());
  } else if (to.addr.is_v4()) {
    out.push_back(kAtypV4);
    const uint32_t v = to.addr.v4().value;
    out.insert(out.end(), {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                           static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)});
  } else {
    out.push_back(kAtypV6);
    const Ipv6Addr v6 = to.addr.v6();
    out.insert(out.end(), v6.bytes.begin(), v6.bytes.end());
  }
  out.push_back(static_cast<uint8_t>(to.port >> 8));
  out.push_back(static_cast<uint8_t>(to.port));
  out.insert(out.end(), payload.begin(), payload.end());
  return true;
}

std::optional<Socks5UdpDatagram> decode_socks5_udp(std::span<const uint8_t> d,
                                                   Socks5UdpError& error) {
  error = Socks5UdpError::kNone;
  if (d.size() < 4) {
    error = Socks5UdpError::kTruncated;
    return std::nullopt;
  }
  if (d[0] != 0 || d[1] != 0) {
    error = Socks5UdpError::kReserved;
    return std::nullopt;
  }
  // RFC 1928 §7: "An implementation that does not support fragmentation MUST drop any
  // datagram whose FRAG field is other than X'00'."
  if (d[2] != 0) {
    error = Socks5UdpError::kFragmented;
    return std::nullopt;
  }
  Socks5UdpDatagram out;
  size_t at = 4;
  switch (d[3]) {
    case kAtypV4:
      if (d.size() < at + 4 + 2) break;
      out.address.addr = Ipv4Addr(d[4], d[5], d[6], d[7]);
      at += 4;
      break;
    case kAtypV6:
      if (d.size() < at + 16 + 2) break;
      out.address.addr = Ipv6Addr::from_bytes(d.data() + at);
      at += 16;
      break;
    case kAtypDomain: {
      if (d.size() < at + 1) break;
      const size_t len = d[at];
      if (d.size() < at + 1 + len + 2) break;
      out.address.domain.assign(d.begin() + static_cast<ptrdiff_t>(at + 1),
                                d.begin() + static_cast<ptrdiff_t>(at + 1 + len));
      at += 1 + len;
      break;
    }
    default:
      error = Socks5UdpError::kAddressType;
      return std::nullopt;
  }
  if (at == 4 || d.size() < at + 2) {
    error = Socks5UdpError::kTruncated;
    return std::nullopt;
  }
  out.address.port = static_cast<uint16_t>(d[at] << 8 | d[at + 1]);
  out.payload = d.subspan(at + 2);
  return out;
}

}  // namespace utcp::proxy
