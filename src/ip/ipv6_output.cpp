// SPDX-License-Identifier: BSD-2-Clause
#include "ip/ipv6_output.hpp"

namespace utcp::ip {

size_t Ipv6Output::write_header(std::span<uint8_t> packet, size_t payload_len,
                                const wire::Ipv6Addr& src, const wire::Ipv6Addr& dst,
                                uint8_t next_header, uint8_t traffic_class,
                                uint32_t flow_label) const {
  // RFC 8200 §3: Payload Length is 16 bits; more would need a Jumbo Payload option (RFC 2675).
  if (payload_len > 0xffff || packet.size() < kHeadroom + payload_len) return 0;
  wire::Ipv6Repr header;
  header.src = src;
  header.dst = dst;
  header.next_header = next_header;
  header.hop_limit = hop_limit_;
  header.traffic_class = traffic_class;
  header.flow_label = flow_label;
  header.payload_len = static_cast<uint16_t>(payload_len);
  return header.emit(packet) == 0 ? 0 : header.total_len();
}

}  // namespace utcp::ip
