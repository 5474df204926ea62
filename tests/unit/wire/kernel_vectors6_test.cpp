// SPDX-License-Identifier: BSD-2-Clause
// IPv6 packets written by the Linux kernel (tests/data/README.md, kernel6-*): they parse to
// the expected fields with their checksums over the IPv6 pseudo-header, and re-emitting the
// parsed reprs reproduces them byte for byte.
#include <gtest/gtest.h>

#include <vector>

#include "hex_vectors.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv6.hpp"
#include "wire/ipv6_ext.hpp"
#include "wire/tcp.hpp"

namespace utcp::wire {
namespace {

const Ipv6Addr kKernel(0xfd77, 0, 0, 0, 0, 0, 0, 1);
const Ipv6Addr kStack(0xfd77, 0, 0, 0, 0, 0, 0, 2);

// Parses a kernel -> stack packet and walks it to its upper layer.
Ipv6Packet parse_from_kernel(const std::vector<uint8_t>& bytes, uint8_t upper) {
  auto ip = Ipv6Packet::parse(bytes);
  EXPECT_TRUE(ip.ok()) << to_string(ip.error());
  if (!ip) return {};
  EXPECT_EQ(ip->bytes().size(), bytes.size());
  EXPECT_EQ(ip->src(), kKernel);
  EXPECT_EQ(ip->dst(), kStack);
  EXPECT_EQ(ip->hop_limit(), 64);
  const Ipv6ExtWalk w = walk_ipv6_ext(*ip);
  EXPECT_TRUE(w.accepted());
  EXPECT_EQ(w.upper_protocol, upper);
  EXPECT_EQ(w.upper_offset, kIpv6HeaderLen);
  return *ip;
}

TEST(KernelVectors6, ClientSyn) {
  const auto bytes = load_hex("kernel6-syn");
  const Ipv6Packet ip = parse_from_kernel(bytes, ipv6_next::kTcp);
  auto tcp = TcpPacket::parse(ip.payload(), ip.src(), ip.dst());
  ASSERT_TRUE(tcp.ok()) << to_string(tcp.error());
  EXPECT_EQ(tcp->dst_port(), 5000);
  EXPECT_EQ(tcp->flags(), tcp_flag::kSyn);
  EXPECT_EQ(tcp->options().mss, 1440);  // MTU 1500 - 40 - 20
  EXPECT_TRUE(tcp->options().sack_permitted);
  ASSERT_TRUE(tcp->options().timestamps.has_value());
  EXPECT_TRUE(tcp->options().window_scale.has_value());
  // Over IPv4 pseudo-header addresses the same bytes fail the checksum.
  EXPECT_EQ(TcpPacket::parse(ip.payload(), Ipv4Addr(10, 77, 0, 1), Ipv4Addr(10, 77, 0, 2)).error(),
            ParseError::kBadChecksum);

  const Ipv6Repr r = ip.repr();
  const TcpRepr t = tcp->repr();
  std::vector<uint8_t> out(r.total_len());
  ASSERT_EQ(r.emit(out), kIpv6HeaderLen);
  ASSERT_EQ(t.emit(std::span<uint8_t>(out).subspan(kIpv6HeaderLen), r.src, r.dst), t.total_len());
  EXPECT_EQ(out, bytes);
}

TEST(KernelVectors6, EchoRequest) {
  const auto bytes = load_hex("kernel6-echo-request");
  const Ipv6Packet ip = parse_from_kernel(bytes, ipv6_next::kIcmpv6);
  auto icmp = Icmpv6Packet::parse(ip.payload(), ip.src(), ip.dst());
  ASSERT_TRUE(icmp.ok()) << to_string(icmp.error());
  EXPECT_EQ(icmp->type(), icmpv6_type::kEchoRequest);
  EXPECT_EQ(icmp->code(), 0);
  EXPECT_EQ(icmp->sequence(), 1);
  EXPECT_EQ(icmp->data().size(), 56u);  // ping's default

  const Ipv6Repr r = ip.repr();
  const Icmpv6Repr m = icmp->repr();
  std::vector<uint8_t> out(r.total_len());
  ASSERT_EQ(r.emit(out), kIpv6HeaderLen);
  ASSERT_EQ(m.emit(std::span<uint8_t>(out).subspan(kIpv6HeaderLen), r.src, r.dst), m.total_len());
  EXPECT_EQ(out, bytes);
}

// The kernel forwarding our 1400-byte packet towards a 1280-byte link: RFC 4443 §3.2 with the
// quote cut per §2.4(c), exactly as utcp's emitter cuts it.
TEST(KernelVectors6, PacketTooBig) {
  const auto bytes = load_hex("kernel6-packet-too-big");
  ASSERT_EQ(bytes.size(), kIpv6MinMtu);
  const Ipv6Packet ip = parse_from_kernel(bytes, ipv6_next::kIcmpv6);
  auto icmp = Icmpv6Packet::parse(ip.payload(), ip.src(), ip.dst());
  ASSERT_TRUE(icmp.ok()) << to_string(icmp.error());
  EXPECT_EQ(icmp->type(), icmpv6_type::kPacketTooBig);
  EXPECT_EQ(icmp->code(), 0);
  EXPECT_EQ(icmp->mtu(), 1280u);
  EXPECT_EQ(icmp->invoking().size(), kIcmpv6MaxQuote);
  auto q = icmp->quote();
  ASSERT_TRUE(q.ok()) << to_string(q.error());
  EXPECT_EQ(q->ip.src(), kStack);
  EXPECT_EQ(q->ip.dst(), *Ipv6Addr::parse("fd78::5"));
  EXPECT_EQ(q->ip.payload_len(), 1400 - 40);  // what we sent, though only part is quoted
  ASSERT_TRUE(q->has_upper);
  EXPECT_EQ(q->upper_protocol, ipv6_next::kTcp);
  EXPECT_EQ(q->upper[0] << 8 | q->upper[1], 40000);
  EXPECT_EQ(q->upper[2] << 8 | q->upper[3], 5001);

  // Re-emit from a longer quote (the quote plus the bytes the kernel cut): the emitter cuts
  // it to the same 1232 bytes and the message comes out identical.
  std::vector<uint8_t> invoking(icmp->invoking().begin(), icmp->invoking().end());
  invoking.resize(1400, 0xee);
  const Icmpv6Repr m = Icmpv6Repr::packet_too_big(icmp->mtu(), invoking);
  const Ipv6Repr r = ip.repr();
  std::vector<uint8_t> out(r.total_len());
  ASSERT_EQ(m.total_len(), r.payload_len);
  ASSERT_EQ(r.emit(out), kIpv6HeaderLen);
  ASSERT_EQ(m.emit(std::span<uint8_t>(out).subspan(kIpv6HeaderLen), r.src, r.dst), m.total_len());
  EXPECT_EQ(out, bytes);
}

}  // namespace
}  // namespace utcp::wire
