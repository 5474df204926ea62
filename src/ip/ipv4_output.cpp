// SPDX-License-Identifier: BSD-2-Clause
#include "ip/ipv4_output.hpp"

namespace utcp::ip {

size_t Ipv4Output::write_header(std::span<uint8_t> packet, size_t payload_len, wire::Ipv4Addr src,
                                wire::Ipv4Addr dst, uint8_t protocol, uint8_t tos, bool df) {
  if (payload_len > 0xffff - kHeadroom || packet.size() < kHeadroom + payload_len) return 0;
  wire::Ipv4Repr header;
  header.src = src;
  header.dst = dst;
  header.protocol = protocol;
  header.ttl = ttl_;
  header.dscp = static_cast<uint8_t>(tos >> 2);
  header.ecn = static_cast<uint8_t>(tos & 0x03);
  header.identification = next_id_++;
  header.df = df;
  header.payload_len = static_cast<uint16_t>(payload_len);
  return header.emit(packet) == 0 ? 0 : header.total_len();
}

}  // namespace utcp::ip
