// SPDX-License-Identifier: BSD-2-Clause
// TcpSegmentMerger over IPv6 (issue 12): a run of IPv6/TCP segments becomes one GSO_TCPV6
// frame (payload length rewritten, no IP checksum, the IPv6 pseudo-header sum left partial),
// and the kernel's cut gives back exactly the original segments; IPv4 and IPv6 never merge.
#include <gtest/gtest.h>

#include <vector>

#include "dev/tcp_segment_merger.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/tcp.hpp"

namespace utcp::dev {
namespace {

const wire::Ipv6Addr kSrc(0xfd77, 0, 0, 0, 0, 0, 0, 2);
const wire::Ipv6Addr kDst(0xfd77, 0, 0, 0, 0, 0, 0, 1);

std::vector<uint8_t> packet6(uint32_t seq, size_t len, uint8_t flags = wire::tcp_flag::kAck,
                             uint32_t flow_label = 0x12345) {
  std::vector<uint8_t> payload(len);
  for (size_t i = 0; i < len; ++i) payload[i] = static_cast<uint8_t>((seq + i) * 13);
  wire::TcpRepr r;
  r.src_port = 40000;
  r.dst_port = 5001;
  r.seq = wire::SeqNum(seq);
  r.ack = wire::SeqNum(9000);
  r.flags = flags;
  r.window = 1000;
  r.options.timestamps = wire::TcpTimestamps{77, 5};
  r.payload = payload;
  std::vector<uint8_t> p(40 + r.total_len());
  const size_t n = r.emit(std::span(p).subspan(40), wire::IpAddr(kSrc), wire::IpAddr(kDst));
  wire::Ipv6Repr ip{.src = kSrc,
                    .dst = kDst,
                    .next_header = wire::ipv6_next::kTcp,
                    .hop_limit = 64,
                    .traffic_class = 0xb8,
                    .flow_label = flow_label,
                    .payload_len = static_cast<uint16_t>(n)};
  ip.emit(p);
  return p;
}

TEST(TcpSegmentMerger6, Ipv6RunMergesIntoOneTcpv6FrameAndSplitsBackExactly) {
  std::vector<std::vector<uint8_t>> packets = {packet6(1000, 1428), packet6(2428, 1428),
                                               packet6(3856, 300, 0x18)};
  std::vector<std::span<const uint8_t>> views(packets.begin(), packets.end());
  ASSERT_EQ(TcpSegmentMerger::run_length(views), 3u);
  TcpSegmentMerger m;
  m.merge(views, 3);
  const auto hdr = m.header();
  ASSERT_EQ(hdr.size(), 40u + 32u);
  EXPECT_EQ(m.vnet().gso_type, VIRTIO_NET_HDR_GSO_TCPV6);
  EXPECT_EQ(m.vnet().gso_size, 1428);
  EXPECT_EQ(m.vnet().hdr_len, 72);
  EXPECT_EQ(m.vnet().csum_start, 40);
  EXPECT_EQ(m.vnet().csum_offset, 16);
  const size_t payload_len = 32 + 2 * 1428 + 300;
  EXPECT_EQ(size_t{hdr[4]} << 8 | hdr[5], payload_len);  // RFC 8200 §3 payload length

  std::vector<uint8_t> frame(hdr.begin(), hdr.end());
  for (const auto& v : views) {
    const auto pl = TcpSegmentMerger::payload(v);
    frame.insert(frame.end(), pl.begin(), pl.end());
  }
  // The header is the first packet's apart from the payload length: class, flow label, hop
  // limit and addresses unchanged.
  auto ip = wire::Ipv6Packet::parse(frame);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->flow_label(), 0x12345u);
  EXPECT_EQ(ip->traffic_class(), 0xb8);
  EXPECT_EQ(ip->src(), kSrc);
  // Finish the partial checksum (the pseudo-header sum) as the kernel does; it must verify.
  const uint16_t partial = static_cast<uint16_t>(frame[40 + 16] << 8 | frame[40 + 17]);
  frame[56] = frame[57] = 0;
  const uint16_t full = static_cast<uint16_t>(
      ~wire::Checksum().add16(partial).add(std::span(frame).subspan(40)).sum());
  frame[56] = static_cast<uint8_t>(full >> 8);
  frame[57] = static_cast<uint8_t>(full);
  auto seg =
      wire::TcpPacket::parse(std::span(frame).subspan(40), wire::IpAddr(kSrc), wire::IpAddr(kDst));
  ASSERT_TRUE(seg) << "the finished checksum of the whole frame must verify";
  const auto whole = seg->repr();
  EXPECT_EQ(whole.flags, 0x18);  // PSH from the last piece
  for (size_t i = 0; i < 3; ++i) {
    const auto pl = TcpSegmentMerger::payload(views[i]);
    const auto piece = whole.payload.subspan(i * 1428, pl.size());
    EXPECT_TRUE(std::equal(piece.begin(), piece.end(), pl.begin())) << "piece " << i;
  }
}

TEST(TcpSegmentMerger6, DifferentFlowLabelsOrFamiliesDoNotMerge) {
  std::vector<std::vector<uint8_t>> packets = {packet6(1000, 100), packet6(1100, 100, 0x10, 7)};
  std::vector<std::span<const uint8_t>> views(packets.begin(), packets.end());
  EXPECT_EQ(TcpSegmentMerger::run_length(views), 1u);
  // An IPv6 packet with an extension header (Next Header not TCP) stands alone.
  std::vector<std::vector<uint8_t>> ext = {packet6(1000, 100), packet6(1100, 100)};
  ext[0][6] = wire::ipv6_next::kDestOptions;
  std::vector<std::span<const uint8_t>> ext_views(ext.begin(), ext.end());
  EXPECT_EQ(TcpSegmentMerger::run_length(ext_views), 1u);
}

TEST(TcpSegmentMerger6, OversizedIpv6SegmentIsCutAtTheMtu) {
  const auto big = packet6(1000, 10000, 0x18);
  EXPECT_EQ(TcpSegmentMerger::oversized_piece(big, 1500), 1500 - 72);
  std::vector<std::span<const uint8_t>> views{big};
  TcpSegmentMerger m;
  m.merge(views, 1, 1428);
  EXPECT_EQ(m.vnet().gso_type, VIRTIO_NET_HDR_GSO_TCPV6);
  EXPECT_EQ(m.vnet().gso_size, 1428);
  EXPECT_EQ(size_t{m.header()[4]} << 8 | m.header()[5], 32u + 10000u);
  EXPECT_EQ(TcpSegmentMerger::oversized_piece(packet6(1000, 1000), 1500), 0);
  EXPECT_EQ(TcpSegmentMerger::oversized_piece(packet6(1000, 10000, wire::tcp_flag::kSyn), 1500), 0);
}

}  // namespace
}  // namespace utcp::dev
