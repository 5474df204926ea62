// SPDX-License-Identifier: BSD-2-Clause
// UDP datagrams written by the Linux kernel, and hand-made ones the kernel delivered or
// dropped (tests/data/README.md, scripts/capture-udp-vectors.sh): the parser agrees with the
// kernel on every one, and re-emitting the kernel's datagrams reproduces them byte for byte.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hex_vectors.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/udp.hpp"

namespace utcp::wire {
namespace {

const std::string kHello = "hello, udp\n";

// One IP packet of a vector file, split into its addresses and the UDP bytes.
struct Vector {
  std::vector<uint8_t> bytes;
  IpAddr src, dst;
  std::span<const uint8_t> ip_payload;
  size_t ip_header_len = 0;
};

Vector load(const std::string& name) {
  Vector v;
  v.bytes = load_hex(name);
  if (!v.bytes.empty() && v.bytes[0] >> 4 == 6) {
    auto ip = Ipv6Packet::parse(v.bytes);
    EXPECT_TRUE(ip.ok()) << name;
    if (!ip) return v;
    EXPECT_EQ(ip->next_header(), ipv6_next::kUdp) << name;
    v.src = ip->src();
    v.dst = ip->dst();
    v.ip_payload = ip->payload();
    v.ip_header_len = kIpv6HeaderLen;
  } else {
    auto ip = Ipv4Packet::parse(v.bytes);
    EXPECT_TRUE(ip.ok()) << name;
    if (!ip) return v;
    EXPECT_EQ(ip->protocol(), ip_proto::kUdp) << name;
    v.src = ip->src();
    v.dst = ip->dst();
    v.ip_payload = ip->payload();
    v.ip_header_len = ip->header_len();
  }
  return v;
}

std::string text(std::span<const uint8_t> b) {
  return {b.begin(), b.end()};
}

// Re-emits the parsed datagram's repr and compares it with the kernel's bytes.
void expect_reemits(const Vector& v, const UdpPacket& udp) {
  std::vector<uint8_t> out(udp.repr().total_len());
  ASSERT_EQ(udp.repr().emit(out, v.src, v.dst), out.size());
  EXPECT_EQ(out, std::vector<uint8_t>(v.ip_payload.begin(), v.ip_payload.end()));
}

TEST(UdpKernelVectors, Ipv4Datagram) {
  const Vector v = load("kernel-udp");
  auto udp = UdpPacket::parse(v.ip_payload, v.src, v.dst);
  ASSERT_TRUE(udp.ok()) << to_string(udp.error());
  EXPECT_EQ(udp->src_port(), 40100);
  EXPECT_EQ(udp->dst_port(), 5353);
  EXPECT_EQ(udp->length(), 8 + kHello.size());
  EXPECT_TRUE(udp->has_checksum());
  EXPECT_EQ(text(udp->payload()), kHello);
  expect_reemits(v, *udp);
  // The same bytes against the other family's pseudo-header fail.
  EXPECT_EQ(UdpPacket::parse(v.ip_payload, IpAddr(Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 1)),
                             IpAddr(Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 2)))
                .error(),
            ParseError::kBadChecksum);
}

TEST(UdpKernelVectors, Ipv6Datagram) {
  const Vector v = load("kernel6-udp");
  ASSERT_TRUE(v.src.is_v6());
  auto udp = UdpPacket::parse(v.ip_payload, v.src, v.dst);
  ASSERT_TRUE(udp.ok()) << to_string(udp.error());
  EXPECT_EQ(udp->src_port(), 40100);
  EXPECT_EQ(udp->dst_port(), 5353);
  EXPECT_EQ(text(udp->payload()), kHello);
  expect_reemits(v, *udp);
}

// RFC 768: the kernel's SO_NO_CHECK datagram carries checksum 0, "no checksum", accepted.
TEST(UdpKernelVectors, Ipv4NoChecksumAccepted) {
  const Vector v = load("kernel-udp-nocsum");
  auto udp = UdpPacket::parse(v.ip_payload, v.src, v.dst);
  ASSERT_TRUE(udp.ok()) << to_string(udp.error());
  EXPECT_EQ(udp->checksum(), 0);
  EXPECT_FALSE(udp->has_checksum());
  EXPECT_EQ(text(udp->payload()), kHello);
  // Emitting with checksum=false reproduces it; with a checksum it would not.
  std::vector<uint8_t> out(udp->repr().total_len());
  ASSERT_EQ(udp->repr().emit(out, v.src, v.dst, false), out.size());
  EXPECT_EQ(out, std::vector<uint8_t>(v.ip_payload.begin(), v.ip_payload.end()));
}

// RFC 768 / RFC 8200 §8.1: a checksum that computes to 0 goes out as 0xffff, from the kernel
// and from utcp alike.
TEST(UdpKernelVectors, ComputedZeroSentAsFfff) {
  for (const char* name : {"kernel-udp-ffff", "kernel6-udp-ffff"}) {
    const Vector v = load(name);
    auto udp = UdpPacket::parse(v.ip_payload, v.src, v.dst);
    ASSERT_TRUE(udp.ok()) << name << ": " << to_string(udp.error());
    EXPECT_EQ(udp->checksum(), 0xffff) << name;
    expect_reemits(v, *udp);
  }
}

// The first fragment carries the header with the Length of the whole datagram: as a bare
// IP payload it is truncated, which is why UDP sees only reassembled datagrams.
TEST(UdpKernelVectors, FirstFragmentAloneIsTruncated) {
  const Vector v = load("kernel-udp-frag1");
  auto udp = UdpPacket::parse(v.ip_payload, v.src, v.dst);
  ASSERT_FALSE(udp.ok());
  EXPECT_EQ(udp.error(), ParseError::kTruncated);
  // Put together by hand, the three fragments make a datagram that checks.
  std::vector<uint8_t> whole(v.ip_payload.begin(), v.ip_payload.end());
  for (const char* name : {"kernel-udp-frag2", "kernel-udp-frag3"}) {
    const Vector f = load(name);
    whole.insert(whole.end(), f.ip_payload.begin(), f.ip_payload.end());
  }
  auto all = UdpPacket::parse(whole, v.src, v.dst);
  ASSERT_TRUE(all.ok()) << to_string(all.error());
  EXPECT_EQ(all->dst_port(), 5355);
  ASSERT_EQ(all->payload().size(), 3000u);
  for (size_t i = 0; i < 3000; ++i) ASSERT_EQ(all->payload()[i], i % 251) << i;
}

TEST(UdpKernelVectors, Icmpv6PortUnreachableQuotesOurDatagram) {
  const auto bytes = load_hex("kernel6-port-unreach");
  auto ip = Ipv6Packet::parse(bytes);
  ASSERT_TRUE(ip.ok());
  auto icmp = Icmpv6Packet::parse(ip->payload(), ip->src(), ip->dst());
  ASSERT_TRUE(icmp.ok());
  EXPECT_EQ(icmp->type(), 1);  // destination unreachable
  EXPECT_EQ(icmp->code(), 4);  // port unreachable (RFC 4443 §3.1)
  auto quote = icmp->quote();
  ASSERT_TRUE(quote.ok());
  ASSERT_TRUE(quote->has_upper);
  ASSERT_GE(quote->upper.size(), kUdpHeaderLen);
  // The quoted UDP header is ours: ports 40102 -> 6002.
  EXPECT_EQ(quote->upper[0] << 8 | quote->upper[1], 40102);
  EXPECT_EQ(quote->upper[2] << 8 | quote->upper[3], 6002);
}

// The kernel's verdicts on hand-made datagrams are the parser's.
struct Verdict {
  const char* name;
  bool delivered;
  size_t payload_len;  // when delivered
  ParseError error;    // when dropped
};

TEST(UdpKernelVectors, ParserAgreesWithTheKernel) {
  const Verdict verdicts[] = {
      {"crafted-udp-zero-csum", true, 12, {}},
      {"crafted-udp-trailing", true, 8, {}},
      {"crafted-udp-long-length", false, 0, ParseError::kTruncated},
      {"crafted-udp-bad-csum", false, 0, ParseError::kBadChecksum},
      {"crafted6-udp-zero-csum", false, 0, ParseError::kBadChecksum},
      {"crafted6-udp-trailing", true, 8, {}},
  };
  for (const Verdict& want : verdicts) {
    const Vector v = load(want.name);
    auto udp = UdpPacket::parse(v.ip_payload, v.src, v.dst);
    EXPECT_EQ(udp.ok(), want.delivered) << want.name;
    if (udp.ok()) {
      EXPECT_EQ(text(udp->payload()), std::string("crafted udp!").substr(0, want.payload_len))
          << want.name;
      EXPECT_EQ(udp->dst_port(), 6100) << want.name;
    } else {
      EXPECT_EQ(udp.error(), want.error) << want.name;
    }
  }
}

}  // namespace
}  // namespace utcp::wire
