// SPDX-License-Identifier: BSD-2-Clause
// TcpSegmentMerger: which runs of segments become one GSO frame, and that cutting the
// frame at gso_size the way the kernel does gives back exactly the original segments.
#include "dev/tcp_segment_merger.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace utcp::dev {
namespace {

const wire::Ipv4Addr kSrc(10, 77, 0, 2);
const wire::Ipv4Addr kDst(10, 77, 0, 1);

struct Segment {
  uint32_t seq;
  size_t len;
  uint8_t flags = wire::tcp_flag::kAck;
  uint16_t src_port = 40000;
  uint32_t tsval = 77;
};

std::vector<uint8_t> packet(const Segment& s) {
  std::vector<uint8_t> payload(s.len);
  for (size_t i = 0; i < s.len; ++i) payload[i] = static_cast<uint8_t>((s.seq + i) * 13);
  wire::TcpRepr r;
  r.src_port = s.src_port;
  r.dst_port = 5001;
  r.seq = wire::SeqNum(s.seq);
  r.ack = wire::SeqNum(9000);
  r.flags = s.flags;
  r.window = 1000;
  r.options.timestamps = wire::TcpTimestamps{s.tsval, 5};
  r.payload = payload;
  std::vector<uint8_t> p(20 + r.total_len());
  const size_t n = r.emit(std::span(p).subspan(20), kSrc, kDst);
  wire::Ipv4Repr ip{.src = kSrc,
                    .dst = kDst,
                    .protocol = wire::ip_proto::kTcp,
                    .identification = static_cast<uint16_t>(s.seq),
                    .payload_len = static_cast<uint16_t>(n)};
  ip.emit(p);
  return p;
}

struct Burst {
  explicit Burst(const std::vector<Segment>& segs) {
    for (const auto& s : segs) packets.push_back(packet(s));
    for (const auto& p : packets) views.emplace_back(p);
  }
  std::vector<std::vector<uint8_t>> packets;
  std::vector<std::span<const uint8_t>> views;
};

TEST(TcpSegmentMerger, FullSegmentsAndAShortPshTailMergeAndSplitBackExactly) {
  Burst b({{1000, 1448},
           {2448, 1448},
           {3896, 1448},
           {5344, 500, wire::tcp_flag::kAck | wire::tcp_flag::kPsh}});
  ASSERT_EQ(TcpSegmentMerger::run_length(b.views), 4u);
  TcpSegmentMerger m;
  m.merge(b.views, 4);
  const auto hdr = m.header();
  ASSERT_EQ(hdr.size(), 20u + 32u);  // IPv4 + TCP with timestamps
  EXPECT_EQ(m.vnet().gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
  EXPECT_EQ(m.vnet().flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
  EXPECT_EQ(m.vnet().gso_size, 1448);
  EXPECT_EQ(m.vnet().hdr_len, 52);
  EXPECT_EQ(m.vnet().csum_start, 20);
  EXPECT_EQ(m.vnet().csum_offset, 16);
  const size_t total = 52 + 3 * 1448 + 500;
  EXPECT_EQ(size_t{hdr[2]} << 8 | hdr[3], total);
  EXPECT_TRUE(wire::checksum_ok(hdr.first(20))) << "IP header checksum of the merged frame";
  EXPECT_EQ(hdr[20 + 13], wire::tcp_flag::kAck | wire::tcp_flag::kPsh);

  // Assemble the frame as writev would, finish the partial checksum, and check it.
  std::vector<uint8_t> frame(hdr.begin(), hdr.end());
  for (const auto& v : b.views) {
    const auto pl = TcpSegmentMerger::payload(v);
    frame.insert(frame.end(), pl.begin(), pl.end());
  }
  ASSERT_EQ(frame.size(), total);
  const uint16_t partial = static_cast<uint16_t>(frame[36] << 8 | frame[37]);
  frame[36] = frame[37] = 0;
  const uint16_t full = static_cast<uint16_t>(
      ~wire::Checksum().add16(partial).add(std::span(frame).subspan(20)).sum());
  frame[36] = static_cast<uint8_t>(full >> 8);
  frame[37] = static_cast<uint8_t>(full);
  auto seg = wire::TcpPacket::parse(std::span(frame).subspan(20), kSrc, kDst);
  ASSERT_TRUE(seg) << "the finished checksum of the whole frame must verify";

  // The kernel's split: gso_size pieces, seq advancing, PSH only on the last.
  const auto whole = seg->repr();
  for (size_t i = 0; i < 4; ++i) {
    const auto orig =
        wire::TcpPacket::parse(wire::Ipv4Packet::parse(b.views[i])->payload(), kSrc, kDst);
    ASSERT_TRUE(orig);
    const auto o = orig->repr();
    const size_t off = i * 1448;
    const auto piece =
        whole.payload.subspan(off, std::min<size_t>(1448, whole.payload.size() - off));
    EXPECT_EQ(whole.seq + static_cast<uint32_t>(off), o.seq);
    ASSERT_EQ(piece.size(), o.payload.size());
    EXPECT_TRUE(std::equal(piece.begin(), piece.end(), o.payload.begin())) << "piece " << i;
    EXPECT_EQ(whole.ack, o.ack);
    EXPECT_EQ(whole.options, o.options);
  }
}

TEST(TcpSegmentMerger, RunsStopWhereTheKernelCouldNotRecreateTheSegments) {
  const uint8_t ack = wire::tcp_flag::kAck;
  const uint8_t psh = ack | wire::tcp_flag::kPsh;
  // A gap in the sequence numbers.
  EXPECT_EQ(TcpSegmentMerger::run_length(Burst({{1000, 100}, {1100, 100}, {1300, 100}}).views), 2u);
  // Another connection.
  EXPECT_EQ(TcpSegmentMerger::run_length(Burst({{1000, 100}, {1100, 100, ack, 40001}}).views), 1u);
  // Different options (timestamp moved on).
  EXPECT_EQ(TcpSegmentMerger::run_length(Burst({{1000, 100}, {1100, 100, ack, 40000, 78}}).views),
            1u);
  // A short segment ends a run; so does PSH.
  EXPECT_EQ(TcpSegmentMerger::run_length(Burst({{1000, 100}, {1100, 50}, {1150, 100}}).views), 2u);
  EXPECT_EQ(TcpSegmentMerger::run_length(Burst({{1000, 100}, {1100, 100, psh}, {1200, 100}}).views),
            2u);
  // A first segment with PSH, FIN or SYN, or without payload, stands alone.
  EXPECT_EQ(TcpSegmentMerger::run_length(Burst({{1000, 100, psh}, {1100, 100}}).views), 1u);
  EXPECT_EQ(TcpSegmentMerger::run_length(
                Burst({{1000, 100, ack | wire::tcp_flag::kFin}, {1101, 100}}).views),
            1u);
  EXPECT_EQ(TcpSegmentMerger::run_length(Burst({{1000, 0}, {1000, 100}}).views), 1u);
  // A later FIN is not merged (the kernel would copy it to every piece's header).
  EXPECT_EQ(TcpSegmentMerger::run_length(
                Burst({{1000, 100}, {1100, 100, ack | wire::tcp_flag::kFin}}).views),
            1u);
  // Longer than the first: the kernel would cut it.
  EXPECT_EQ(TcpSegmentMerger::run_length(Burst({{1000, 100}, {1100, 200}}).views), 1u);
  EXPECT_EQ(TcpSegmentMerger::run_length({}), 0u);
}

TEST(TcpSegmentMerger, FrameNeverExceedsTheIpv4TotalLength) {
  std::vector<Segment> segs;
  for (uint32_t i = 0; i < 60; ++i) segs.push_back({1000 + i * 1448, 1448});
  Burst b(segs);
  const size_t run = TcpSegmentMerger::run_length(b.views);
  EXPECT_EQ(run, (65535 - 52) / 1448);  // 45 segments fit
  const size_t rest = TcpSegmentMerger::run_length(std::span(b.views).subspan(run));
  EXPECT_EQ(rest, 60 - run);
}

TEST(TcpSegmentMerger, NonTcpAndFragmentsStandAlone) {
  Burst b({{1000, 100}, {1100, 100}});
  b.packets[0][9] = 17;  // UDP
  b.views[0] = b.packets[0];
  EXPECT_EQ(TcpSegmentMerger::run_length(b.views), 1u);
  Burst f({{1000, 100}, {1100, 100}});
  f.packets[0][6] |= 0x20;  // MF
  EXPECT_EQ(TcpSegmentMerger::run_length(f.views), 1u);
}

}  // namespace
}  // namespace utcp::dev

namespace utcp::dev {
namespace {

TEST(TcpSegmentMerger, OversizedSenderSegmentIsCutAtTheMtu) {
  // The sender's TSO: one 10,000-byte segment on a 1500-byte link goes down as one GSO
  // frame whose pieces carry 1500 - 52 bytes each.
  Burst big({{1000, 10000, wire::tcp_flag::kAck | wire::tcp_flag::kPsh}});
  EXPECT_EQ(TcpSegmentMerger::oversized_piece(big.views[0], 1500), 1500 - 52);
  TcpSegmentMerger m;
  m.merge(big.views, 1, 1448);
  EXPECT_EQ(m.vnet().gso_size, 1448);
  EXPECT_EQ(m.vnet().gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
  EXPECT_EQ(size_t{m.header()[2]} << 8 | m.header()[3], 52u + 10000u);
  // Fits the link, or cannot be cut: no GSO.
  Burst small({{1000, 1000}});
  EXPECT_EQ(TcpSegmentMerger::oversized_piece(small.views[0], 1500), 0);
  Burst syn({{1000, 10000, wire::tcp_flag::kSyn}});
  EXPECT_EQ(TcpSegmentMerger::oversized_piece(syn.views[0], 1500), 0);
}

}  // namespace
}  // namespace utcp::dev
