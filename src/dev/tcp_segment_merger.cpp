// SPDX-License-Identifier: BSD-2-Clause
#include "dev/tcp_segment_merger.hpp"

#include <cstring>

#include "wire/checksum.hpp"

namespace utcp::dev {

namespace {

constexpr uint8_t kTcpProtocol = 6;
constexpr uint8_t kAck = 0x10;
constexpr uint8_t kPsh = 0x08;
constexpr size_t kIpv4Header = 20;  // runs carry no IP options
constexpr size_t kIpv6Header = 40;  // nor IPv6 extension headers

uint16_t be16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// The IP header length of a whole, unfragmented IPv4 (no options) or IPv6 (no extension
// headers, RFC 8200 §3) packet carrying TCP, or 0.
size_t ip_header_len(std::span<const uint8_t> p) {
  if (p.size() >= kIpv4Header + 20 && p[0] == 0x45 && p[9] == kTcpProtocol &&
      be16(p.data() + 2) == p.size() && (be16(p.data() + 6) & 0x3fff) == 0) {  // no MF/offset
    return kIpv4Header;
  }
  if (p.size() >= kIpv6Header + 20 && p[0] >> 4 == 6 && p[6] == kTcpProtocol &&
      kIpv6Header + be16(p.data() + 4) == p.size()) {
    return kIpv6Header;
  }
  return 0;
}

// Header length (IP + TCP) of a packet fit for merging, or 0.
size_t mergeable_header_len(std::span<const uint8_t> p) {
  const size_t ip = ip_header_len(p);
  if (ip == 0) return 0;
  const size_t tcp_len = size_t{p[ip + 12]} >> 4 << 2;
  if (tcp_len < 20 || ip + tcp_len > p.size()) return 0;
  return ip + tcp_len;
}

// Same connection and the same header apart from the fields a GSO split rewrites (IPv4
// length, id and checksum; IPv6 payload length; TCP sequence number, flags and checksum).
// Both packets have the same header length `hlen`, so the same IP version.
bool same_header(std::span<const uint8_t> a, std::span<const uint8_t> b, size_t hlen) {
  const uint8_t* x = a.data();
  const uint8_t* y = b.data();
  const size_t ip = x[0] >> 4 == 6 ? kIpv6Header : kIpv4Header;
  const bool ip_same = ip == kIpv4Header
                           ? std::memcmp(x, y, 2) == 0 && std::memcmp(x + 6, y + 6, 4) == 0 &&
                                 std::memcmp(x + 12, y + 12, 8) == 0  // addresses
                           : std::memcmp(x, y, 4) == 0 &&             // class, flow label
                                 std::memcmp(x + 6, y + 6, 34) == 0;  // hop limit, addresses
  return ip_same && std::memcmp(x + ip, y + ip, 4) == 0 &&            // ports
         std::memcmp(x + ip + 8, y + ip + 8, 5) == 0 &&               // ack, offset
         std::memcmp(x + ip + 14, y + ip + 14, 2) == 0 &&             // window
         std::memcmp(x + ip + 18, y + ip + 18, hlen - ip - 18) == 0;  // urg, options
}

}  // namespace

std::span<const uint8_t> TcpSegmentMerger::payload(std::span<const uint8_t> packet) {
  const size_t ihl = packet[0] >> 4 == 6 ? kIpv6Header : size_t{packet[0]} % 16 * 4;
  const size_t thl = size_t{packet[ihl + 12]} >> 4 << 2;
  return packet.subspan(ihl + thl);
}

size_t TcpSegmentMerger::run_length(std::span<const std::span<const uint8_t>> packets) {
  if (packets.empty()) return 0;
  const std::span<const uint8_t> first = packets[0];
  const size_t hlen = mergeable_header_len(first);
  if (hlen == 0) return 1;
  const size_t ip = ip_header_len(first);
  if (first[ip + 13] != kAck) return 1;
  const size_t seg = first.size() - hlen;
  if (seg == 0) return 1;
  uint32_t next_seq = be32(first.data() + ip + 4) + static_cast<uint32_t>(seg);
  size_t frame = first.size();
  size_t n = 1;
  while (n < packets.size()) {
    const std::span<const uint8_t> p = packets[n];
    if (mergeable_header_len(p) != hlen || ip_header_len(p) != ip || !same_header(first, p, hlen)) {
      break;
    }
    const size_t len = p.size() - hlen;
    const uint8_t flags = p[ip + 13];
    if (len == 0 || len > seg || be32(p.data() + ip + 4) != next_seq) break;
    if (flags != kAck && flags != (kAck | kPsh)) break;
    if (frame + len > kMaxFrame) break;
    frame += len;
    next_seq += static_cast<uint32_t>(len);
    ++n;
    // A short segment or a PSH ends the run: the kernel cuts every piece but the last at
    // exactly gso_size, and carries PSH only on the last.
    if (len < seg || flags != kAck) break;
  }
  return n;
}

uint16_t TcpSegmentMerger::oversized_piece(std::span<const uint8_t> packet, size_t mtu) {
  if (packet.size() <= mtu) return 0;
  const size_t hlen = mergeable_header_len(packet);
  if (hlen == 0 || hlen >= mtu) return 0;
  constexpr uint8_t kFin = 0x01;
  if ((packet[ip_header_len(packet) + 13] & ~(kAck | kPsh | kFin)) != 0) return 0;
  return static_cast<uint16_t>(mtu - hlen);
}

void TcpSegmentMerger::merge(std::span<const std::span<const uint8_t>> packets, size_t count,
                             uint16_t gso_size) {
  const std::span<const uint8_t> first = packets[0];
  const std::span<const uint8_t> last = packets[count - 1];
  header_len_ = mergeable_header_len(first);
  const size_t ip_len = ip_header_len(first);
  const bool v6 = ip_len == kIpv6Header;
  std::memcpy(header_.data(), first.data(), header_len_);
  size_t total = header_len_;
  for (size_t i = 0; i < count; ++i) total += packets[i].size() - header_len_;
  uint8_t* ip = header_.data();
  uint8_t* tcp = ip + ip_len;
  const uint16_t tcp_len = static_cast<uint16_t>(total - ip_len);
  if (v6) {
    put16(ip + 4, tcp_len);  // RFC 8200 §3: the payload length (no extension headers)
  } else {
    put16(ip + 2, static_cast<uint16_t>(total));
    put16(ip + 10, 0);
    put16(ip + 10, wire::internet_checksum(std::span<const uint8_t>(ip, kIpv4Header)));
  }
  tcp[13] = last[ip_len + 13];  // the kernel keeps PSH and FIN for the last piece only
  // CHECKSUM_PARTIAL convention: the field holds the pseudo-header sum, not complemented;
  // whoever finishes the checksum adds the TCP header and payload (RFC 9293 §3.1, RFC 8200
  // §8.1 for the IPv6 pseudo-header).
  const uint16_t pseudo =
      v6 ? wire::ipv6_pseudo_header(wire::Ipv6Addr::from_bytes(ip + 8),
                                    wire::Ipv6Addr::from_bytes(ip + 24), kTcpProtocol, tcp_len)
               .sum()
         : wire::ipv4_pseudo_header(be32(ip + 12), be32(ip + 16), kTcpProtocol, tcp_len).sum();
  put16(tcp + 16, pseudo);
  vnet_ = VnetHeader{};
  vnet_.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  vnet_.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
  vnet_.hdr_len = static_cast<uint16_t>(header_len_);
  vnet_.gso_size = gso_size ? gso_size : static_cast<uint16_t>(first.size() - header_len_);
  vnet_.csum_start = static_cast<uint16_t>(ip_len);
  vnet_.csum_offset = 16;
}

}  // namespace utcp::dev
