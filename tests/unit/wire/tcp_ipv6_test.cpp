// SPDX-License-Identifier: BSD-2-Clause
// The upper-layer checksum over the IPv6 pseudo-header (RFC 8200 §8.1), and TCP segments
// emitted and verified with either family's pseudo-header.
#include <gtest/gtest.h>

#include <vector>

#include "wire/checksum.hpp"
#include "wire/tcp.hpp"

namespace utcp::wire {
namespace {

const Ipv6Addr kSrc(0xfd77, 0, 0, 0, 0, 0, 0, 1);
const Ipv6Addr kDst(0xfd77, 0, 0, 0, 0, 0, 0, 2);

// RFC 1071 the slow way over RFC 8200 §8.1's layout written out byte by byte.
uint16_t reference_sum(const Ipv6Addr& src, const Ipv6Addr& dst, uint32_t len, uint8_t nh,
                       const std::vector<uint8_t>& data) {
  std::vector<uint8_t> b(src.bytes.begin(), src.bytes.end());
  b.insert(b.end(), dst.bytes.begin(), dst.bytes.end());
  b.insert(b.end(), {static_cast<uint8_t>(len >> 24), static_cast<uint8_t>(len >> 16),
                     static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len), 0, 0, 0, nh});
  b.insert(b.end(), data.begin(), data.end());
  if (b.size() % 2) b.push_back(0);
  uint32_t s = 0;
  for (size_t i = 0; i < b.size(); i += 2) s += uint32_t{b[i]} << 8 | b[i + 1];
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(s);
}

TEST(Ipv6PseudoHeader, MatchesTheRfc8200Layout) {
  const std::vector<uint8_t> data = {0xde, 0xad, 0xbe, 0xef, 0x01};
  const Ipv6Addr a = *Ipv6Addr::parse("2001:db8:ffff::1:8000");
  const Ipv6Addr b = *Ipv6Addr::parse("fe80::ffff:ffff:ffff:ffff");
  for (uint32_t len : {5u, 0x1234u, 0x12345u}) {
    EXPECT_EQ(ipv6_pseudo_header(a, b, 58, len).add(data).sum(), reference_sum(a, b, len, 58, data))
        << len;
  }
  // The family-neutral entry point picks the v6 layout for v6 and the v4 one for v4.
  EXPECT_EQ(pseudo_header(IpAddr(a), IpAddr(b), 6, 20).sum(),
            ipv6_pseudo_header(a, b, 6, 20).sum());
  const Ipv4Addr s4(10, 77, 0, 1), d4(10, 77, 0, 2);
  EXPECT_EQ(pseudo_header(IpAddr(s4), IpAddr(d4), 6, 20).sum(),
            ipv4_pseudo_header(s4.value, d4.value, 6, 20).sum());
}

TcpRepr syn() {
  TcpRepr r;
  r.src_port = 40000;
  r.dst_port = 5001;
  r.seq = SeqNum(12345);
  r.flags = tcp_flag::kSyn;
  r.window = 64800;
  r.options.mss = 1440;  // 1500 - 60 (issue 12: MSS = MTU - 60 over IPv6)
  r.options.sack_permitted = true;
  r.options.window_scale = 7;
  r.options.timestamps = TcpTimestamps{100, 0};
  return r;
}

TEST(TcpOverIpv6, EmitAndParseWithTheIpv6PseudoHeader) {
  const TcpRepr r = syn();
  std::vector<uint8_t> seg(r.total_len());
  ASSERT_EQ(r.emit(seg, IpAddr(kSrc), IpAddr(kDst)), r.total_len());
  EXPECT_EQ(ipv6_pseudo_header(kSrc, kDst, 6, static_cast<uint32_t>(seg.size())).add(seg).sum(),
            0xffff);
  auto p = TcpPacket::parse(seg, IpAddr(kSrc), IpAddr(kDst));
  ASSERT_TRUE(p.ok()) << to_string(p.error());
  EXPECT_EQ(p->options().mss, 1440);
  EXPECT_TRUE(TcpPacket::checksum_ok_tcp(seg, IpAddr(kSrc), IpAddr(kDst)));
  // Ipv6Addr converts to IpAddr, so v6 addresses can be passed as they are.
  EXPECT_TRUE(TcpPacket::parse(seg, kSrc, kDst).ok());
}

TEST(TcpOverIpv6, AnyAddressByteOrTheWrongFamilyFailsTheChecksum) {
  const TcpRepr r = syn();
  std::vector<uint8_t> seg(r.total_len());
  ASSERT_EQ(r.emit(seg, kSrc, kDst), r.total_len());
  for (size_t i = 0; i < 16; ++i) {
    Ipv6Addr other = kDst;
    other.bytes[i] ^= 0x01;
    EXPECT_EQ(TcpPacket::parse(seg, kSrc, other).error(), ParseError::kBadChecksum) << i;
  }
  EXPECT_EQ(TcpPacket::parse(seg, Ipv4Addr(10, 77, 0, 1), Ipv4Addr(10, 77, 0, 2)).error(),
            ParseError::kBadChecksum);
  // Without verification (checksum offload) the segment still parses.
  EXPECT_TRUE(TcpPacket::parse(seg, kSrc, Ipv6Addr(), false).ok());
}

TEST(TcpOverIpv6, StructuralErrorsComeBeforeTheChecksumAsOverIpv4) {
  std::vector<uint8_t> seg(19, 0);
  EXPECT_EQ(TcpPacket::parse(seg, kSrc, kDst).error(), ParseError::kTruncated);
  seg.assign(20, 0);
  seg[12] = 0x40;  // data offset 4
  EXPECT_EQ(TcpPacket::parse(seg, kSrc, kDst).error(), ParseError::kBadHeaderLength);
  // Bad options with a bad checksum: kBadChecksum, as TcpPacket::parse over IPv4 says.
  seg.assign(24, 0);
  seg[12] = 0x60;
  seg[20] = 2;  // MSS with length 0
  const auto v4 = TcpPacket::parse(seg, Ipv4Addr(1, 2, 3, 4), Ipv4Addr(5, 6, 7, 8));
  const auto v6 = TcpPacket::parse(seg, kSrc, kDst);
  EXPECT_EQ(v4.error(), ParseError::kBadChecksum);
  EXPECT_EQ(v6.error(), ParseError::kBadChecksum);
  EXPECT_EQ(TcpPacket::parse(seg, kSrc, kDst, false).error(), ParseError::kBadOptions);
}

TEST(TcpOverIpv6, Ipv4AddressesInIpAddrGiveTheIpv4Checksum) {
  const TcpRepr r = syn();
  const Ipv4Addr s(10, 77, 0, 2), d(10, 77, 0, 1);
  std::vector<uint8_t> a(r.total_len()), b(r.total_len());
  ASSERT_EQ(r.emit(a, s, d), r.total_len());
  ASSERT_EQ(r.emit(b, IpAddr(s), IpAddr(d)), r.total_len());
  EXPECT_EQ(a, b);
  EXPECT_TRUE(TcpPacket::parse(a, IpAddr(s), IpAddr(d)).ok());
}

TEST(TcpOverIpv6, EmitHeaderLeavesThePayloadInPlace) {
  TcpRepr r = syn();
  r.flags = tcp_flag::kAck | tcp_flag::kPsh;
  r.options = {};
  std::vector<uint8_t> buf(20 + 5);
  const uint8_t data[] = {'h', 'e', 'l', 'l', 'o'};
  std::copy(std::begin(data), std::end(data), buf.begin() + 20);
  r.payload = std::span<const uint8_t>(buf).subspan(20);
  ASSERT_EQ(r.emit_header(buf, kSrc, kDst), 20u);
  auto p = TcpPacket::parse(buf, kSrc, kDst);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->payload().size(), 5u);
  EXPECT_EQ(p->payload()[0], 'h');
  std::vector<uint8_t> small(24);
  EXPECT_EQ(r.emit(small, kSrc, kDst), 0u);
  // checksum false leaves the field zero for an offloading device.
  ASSERT_EQ(r.emit_header(buf, kSrc, kDst, false), 20u);
  EXPECT_EQ(buf[16] << 8 | buf[17], 0);
  EXPECT_EQ(TcpPacket::parse(buf, kSrc, kDst).error(), ParseError::kBadChecksum);
}

}  // namespace
}  // namespace utcp::wire
