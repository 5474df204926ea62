// SPDX-License-Identifier: BSD-2-Clause
#include "ip/flow_label.hpp"

#include <algorithm>

#include "base/siphash.hpp"

namespace utcp::ip {

namespace {

// The hash input: a domain byte (so the three uses never share a value), the addresses,
// then whatever else names the flow.
std::array<uint8_t, 38> tuple(uint8_t domain, const wire::Ipv6Addr& src, const wire::Ipv6Addr& dst,
                              uint8_t protocol, uint16_t sport, uint16_t dport) {
  std::array<uint8_t, 38> in{};
  in[0] = domain;
  std::copy(src.bytes.begin(), src.bytes.end(), in.begin() + 1);
  std::copy(dst.bytes.begin(), dst.bytes.end(), in.begin() + 17);
  in[33] = protocol;
  in[34] = static_cast<uint8_t>(sport >> 8);
  in[35] = static_cast<uint8_t>(sport);
  in[36] = static_cast<uint8_t>(dport >> 8);
  in[37] = static_cast<uint8_t>(dport);
  return in;
}

}  // namespace

uint32_t flow_label(const std::array<uint8_t, 16>& key, const wire::Ipv6Addr& src,
                    const wire::Ipv6Addr& dst, uint8_t protocol, uint16_t src_port,
                    uint16_t dst_port) {
  const uint64_t h = siphash24(key, tuple('L', src, dst, protocol, src_port, dst_port));
  // RFC 6437 §3: 20 bits; 0 is "unlabelled", so the one hash that gives it is remapped.
  const auto label = static_cast<uint32_t>(h & 0xfffff);
  return label == 0 ? 1 : label;
}

uint32_t Ipv6FragmentIds::next(const wire::Ipv6Addr& src, const wire::Ipv6Addr& dst) {
  const uint64_t f = siphash24(key_, tuple('F', src, dst, 0, 0, 0));
  const uint64_t g = siphash24(key_, tuple('G', src, dst, 0, 0, 0));
  uint32_t& counter = counters_[g % kCounters];
  return static_cast<uint32_t>(f) + counter++;
}

}  // namespace utcp::ip
