// SPDX-License-Identifier: BSD-2-Clause
// Seeded random TcpReprs: emit -> parse reproduces every field, and re-emitting the parsed
// repr reproduces the bytes exactly.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <vector>

#include "wire/packet_format.hpp"
#include "wire/tcp.hpp"
#include "wire_test_bytes.hpp"

namespace utcp::wire {
namespace {

TEST(TcpRandomRoundTrip, EmitParseEmitIsIdentity) {
  const uint32_t seed = test::test_seed("tcp random round-trip");
  std::mt19937 rng(seed);
  auto u32 = [&rng] { return static_cast<uint32_t>(rng()); };
  const Ipv4Addr src(u32()), dst(u32());
  std::vector<uint8_t> payload(1500);
  for (int trial = 0; trial < 3000; ++trial) {
    TcpRepr r;
    r.src_port = static_cast<uint16_t>(rng());
    r.dst_port = static_cast<uint16_t>(rng());
    r.seq = SeqNum(u32());
    r.ack = SeqNum(u32());
    r.flags = static_cast<uint8_t>(rng());
    r.window = static_cast<uint16_t>(rng());
    r.urgent = static_cast<uint16_t>(rng());
    if (rng() % 2) r.options.mss = static_cast<uint16_t>(rng());
    if (rng() % 2) r.options.window_scale = static_cast<uint8_t>(rng());
    r.options.sack_permitted = rng() % 2;
    if (rng() % 2) r.options.timestamps = TcpTimestamps{u32(), u32()};
    r.options.sack_count = static_cast<uint8_t>(rng() % 5);
    for (size_t b = 0; b < r.options.sack_count; ++b) {
      r.options.sack_blocks[b] = {SeqNum(u32()), SeqNum(u32())};
    }
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(rng());
    r.payload = std::span<const uint8_t>(payload).first(rng() % payload.size());

    std::vector<uint8_t> buf(r.total_len());
    ASSERT_EQ(r.emit(buf, src, dst), buf.size());
    auto p = TcpPacket::parse(buf, src, dst);
    ASSERT_TRUE(p.ok()) << "seed " << seed << " trial " << trial << ": " << to_string(p.error())
                        << " " << format_tcp(r, src, dst);
    const TcpRepr back = p->repr();
    EXPECT_EQ(back.src_port, r.src_port);
    EXPECT_EQ(back.seq, r.seq);
    EXPECT_EQ(back.ack, r.ack);
    EXPECT_EQ(back.flags, r.flags);
    EXPECT_EQ(back.window, r.window);
    EXPECT_EQ(back.urgent, r.urgent);
    EXPECT_EQ(back.options.mss, r.options.mss);
    EXPECT_EQ(back.options.window_scale, r.options.window_scale);
    EXPECT_EQ(back.options.sack_permitted, r.options.sack_permitted);
    EXPECT_EQ(back.options.timestamps, r.options.timestamps);
    ASSERT_EQ(back.options.sack_count, r.options.emitted_sack_count());
    for (size_t b = 0; b < back.options.sack_count; ++b) {
      EXPECT_EQ(back.options.sack_blocks[b], r.options.sack_blocks[b]);
    }
    ASSERT_EQ(back.payload.size(), r.payload.size());
    EXPECT_TRUE(std::equal(back.payload.begin(), back.payload.end(), r.payload.begin()));
    std::vector<uint8_t> again(back.total_len());
    ASSERT_EQ(back.emit(again, src, dst), again.size());
    ASSERT_EQ(again, buf) << "seed " << seed << " trial " << trial;
  }
}

}  // namespace
}  // namespace utcp::wire
