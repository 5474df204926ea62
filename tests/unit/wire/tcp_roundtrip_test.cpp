// SPDX-License-Identifier: BSD-2-Clause
// TcpRepr::emit -> TcpPacket::parse round trips, including every option combination.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "wire/checksum.hpp"
#include "wire/tcp.hpp"

namespace utcp::wire {
namespace {

const Ipv4Addr kSrc(10, 77, 0, 1);
const Ipv4Addr kDst(10, 77, 0, 2);

TcpRepr sample_repr() {
  TcpRepr r;
  r.src_port = 5000;
  r.dst_port = 80;
  r.seq = SeqNum(0xfffffff0u);
  r.ack = SeqNum(12345);
  r.flags = tcp_flag::kAck | tcp_flag::kPsh;
  r.window = 65535;
  r.urgent = 7;
  return r;
}

std::vector<uint8_t> emit(const TcpRepr& r) {
  std::vector<uint8_t> buf(r.total_len());
  EXPECT_EQ(r.emit(buf, kSrc, kDst), buf.size());
  return buf;
}

void expect_same(const TcpRepr& a, const TcpRepr& b) {
  EXPECT_EQ(a.src_port, b.src_port);
  EXPECT_EQ(a.dst_port, b.dst_port);
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(a.ack, b.ack);
  EXPECT_EQ(a.flags, b.flags);
  EXPECT_EQ(a.window, b.window);
  EXPECT_EQ(a.urgent, b.urgent);
  EXPECT_EQ(a.options, b.options);
  EXPECT_EQ(std::vector<uint8_t>(a.payload.begin(), a.payload.end()),
            std::vector<uint8_t>(b.payload.begin(), b.payload.end()));
}

TEST(TcpRoundTrip, NoOptionsWithPayload) {
  const std::array<uint8_t, 5> data{'h', 'e', 'l', 'l', 'o'};
  TcpRepr r = sample_repr();
  r.payload = data;
  auto buf = emit(r);
  ASSERT_EQ(buf.size(), 25u);
  auto p = TcpPacket::parse(buf, kSrc, kDst);
  ASSERT_TRUE(p.ok()) << to_string(p.error());
  EXPECT_EQ(p->data_offset(), 5);
  EXPECT_EQ(p->header_len(), 20u);
  EXPECT_TRUE(p->options_bytes().empty());
  expect_same(p->repr(), r);
  // The checksum field holds the value that makes the whole sum 0xffff.
  EXPECT_TRUE(TcpPacket::checksum_ok_tcp(buf, kSrc, kDst));
  EXPECT_NE(p->checksum(), 0);
}

TEST(TcpRoundTrip, EveryOptionCombination) {
  // Bits: mss, window scale, sack-permitted, timestamps, sack blocks (0..4).
  for (unsigned mask = 0; mask < 16; ++mask) {
    for (uint8_t blocks = 0; blocks <= kTcpMaxSackBlocks; ++blocks) {
      TcpRepr r = sample_repr();
      if (mask & 1) r.options.mss = 1460;
      if (mask & 2) r.options.window_scale = 7;
      if (mask & 4) r.options.sack_permitted = true;
      if (mask & 8) r.options.timestamps = TcpTimestamps{0x01020304, 0xa0b0c0d0};
      r.options.sack_count = blocks;
      for (uint8_t b = 0; b < blocks; ++b) {
        r.options.sack_blocks[b] = {SeqNum(1000u * (b + 1)), SeqNum(1000u * (b + 1) + 500)};
      }
      SCOPED_TRACE(testing::Message() << "mask " << mask << " blocks " << int{blocks});
      const size_t len = r.options.encoded_len();
      EXPECT_EQ(len % 4, 0u);
      EXPECT_LE(len, 40u);
      auto buf = emit(r);
      EXPECT_EQ(buf.size(), 20 + len);
      auto p = TcpPacket::parse(buf, kSrc, kDst);
      ASSERT_TRUE(p.ok()) << to_string(p.error());
      EXPECT_EQ(p->options_bytes().size(), len);
      // Options that do not fit lose SACK blocks only, from the end.
      TcpRepr expected = r;
      expected.options.sack_count = static_cast<uint8_t>(r.options.emitted_sack_count());
      for (size_t b = expected.options.sack_count; b < kTcpMaxSackBlocks; ++b) {
        expected.options.sack_blocks[b] = {};
      }
      expect_same(p->repr(), expected);
    }
  }
}

TEST(TcpRoundTrip, SackBlocksThatFit) {
  TcpOptions o;
  o.sack_count = 4;
  EXPECT_EQ(o.emitted_sack_count(), 4u);
  EXPECT_EQ(o.encoded_len(), 36u);
  o.timestamps = TcpTimestamps{1, 2};
  EXPECT_EQ(o.emitted_sack_count(), 3u);
  EXPECT_EQ(o.encoded_len(), 40u);
  o.sack_count = 2;
  EXPECT_EQ(o.emitted_sack_count(), 2u);
  EXPECT_EQ(o.encoded_len(), 32u);
}

TEST(TcpRoundTrip, SynLayoutMatchesLinux) {
  TcpOptions o;
  o.mss = 1460;
  o.sack_permitted = true;
  o.timestamps = TcpTimestamps{0x11223344, 0};
  o.window_scale = 7;
  std::array<uint8_t, 40> area{};
  ASSERT_EQ(o.emit(area), 20u);
  const std::array<uint8_t, 20> want{2,    4,    0x05, 0xb4, 4, 2, 8, 10, 0x11, 0x22,
                                     0x33, 0x44, 0,    0,    0, 0, 1, 3,  3,    7};
  EXPECT_TRUE(std::equal(want.begin(), want.end(), area.begin()));
}

TEST(TcpRoundTrip, DataLayoutTimestampsThenSack) {
  TcpOptions o;
  o.timestamps = TcpTimestamps{1, 2};
  o.sack_count = 1;
  o.sack_blocks[0] = {SeqNum(10), SeqNum(20)};
  std::array<uint8_t, 40> area{};
  ASSERT_EQ(o.emit(area), 24u);
  const std::array<uint8_t, 24> want{1, 1, 8, 10, 0, 0, 0, 1,  0, 0, 0, 2,
                                     1, 1, 5, 10, 0, 0, 0, 10, 0, 0, 0, 20};
  EXPECT_TRUE(std::equal(want.begin(), want.end(), area.begin()));
}

TEST(TcpRoundTrip, SackPermittedWithoutTimestamps) {
  TcpOptions o;
  o.mss = 536;
  o.sack_permitted = true;
  o.window_scale = 0;
  std::array<uint8_t, 40> area{};
  ASSERT_EQ(o.emit(area), 12u);
  const std::array<uint8_t, 12> want{2, 4, 0x02, 0x18, 1, 1, 4, 2, 1, 3, 3, 0};
  EXPECT_TRUE(std::equal(want.begin(), want.end(), area.begin()));
}

TEST(TcpRoundTrip, EmitHeaderChecksumsPayloadAlreadyInPlace) {
  std::vector<uint8_t> buf(20 + 12 + 3);
  TcpRepr r = sample_repr();
  r.options.timestamps = TcpTimestamps{5, 6};
  buf[32] = 'a';
  buf[33] = 'b';
  buf[34] = 'c';
  r.payload = std::span<const uint8_t>(buf).subspan(32);
  EXPECT_EQ(r.emit_header(buf, kSrc, kDst), 32u);
  auto p = TcpPacket::parse(buf, kSrc, kDst);
  ASSERT_TRUE(p.ok()) << to_string(p.error());
  EXPECT_EQ(p->payload().size(), 3u);
  EXPECT_EQ(p->payload()[2], 'c');
}

TEST(TcpRoundTrip, EmitRefusesShortBuffer) {
  TcpRepr r = sample_repr();
  std::vector<uint8_t> buf(19);
  EXPECT_EQ(r.emit(buf, kSrc, kDst), 0u);
}

TEST(TcpRoundTrip, SeqLenCountsSynAndFin) {
  const std::array<uint8_t, 3> data{1, 2, 3};
  TcpRepr r;
  r.payload = data;
  r.flags = tcp_flag::kSyn | tcp_flag::kFin;
  EXPECT_EQ(r.seq_len(), 5u);
}

}  // namespace
}  // namespace utcp::wire
