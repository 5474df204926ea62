// SPDX-License-Identifier: BSD-2-Clause
// RFC 791 §3.2 on the Stack's output: an echo reply larger than the link MTU (the answer to
// `ping -s 3000`) leaves as fragments that reassemble to the whole reply, where it used to
// be dropped as ip.out.drop.no-room.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "ip/fragment_reassembler.hpp"
#include "support/counters.hpp"
#include "unit/ip/ip_test_packets.hpp"
#include "utcp/memory_link.hpp"
#include "utcp/stack.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace utcp::test {
namespace {

using namespace ip::test_util;  // NOLINT(google-build-using-namespace)

std::vector<std::vector<uint8_t>> drain(dev::Device& d) {
  std::vector<std::vector<uint8_t>> out;
  for (;;) {
    std::vector<uint8_t> buf(65536);
    dev::PacketSlot slot{buf, 0};
    if (d.receive(std::span(&slot, 1), Instant{}) != 1) return out;
    buf.resize(slot.len);
    out.push_back(std::move(buf));
  }
}

// Fragments `datagram` by hand the way the kernel would send a big echo request.
std::vector<std::vector<uint8_t>> fragments_of(const std::vector<uint8_t>& icmp, uint16_t id) {
  std::vector<std::vector<uint8_t>> out;
  for (size_t off = 0; off < icmp.size(); off += 1480) {
    const size_t len = std::min<size_t>(1480, icmp.size() - off);
    out.push_back(ip_packet({.protocol = 1,
                             .id = id,
                             .mf = off + len < icmp.size(),
                             .frag_offset = static_cast<uint16_t>(off)},
                            std::span(icmp).subspan(off, len)));
  }
  return out;
}

TEST(StackFragmentOutput, ABigEchoRequestGetsAFragmentedReply) {
  dev::MemoryLink link;  // MTU 1500
  StackConfig cfg;
  cfg.address = kLocal;
  Stack stack(link.a(), cfg);
  const auto data = pattern(3000, 5);  // ping -s 3000
  const auto request = icmp_message(8, 0, 0x0abc0001, data);
  for (const auto& f : fragments_of(request, 0x7777)) {
    ASSERT_TRUE(link.b().transmit_one(f, Instant{}));
  }
  stack.process(Instant{});

  const auto sent = drain(link.b());
  ASSERT_EQ(sent.size(), 3u);
  ip::FragmentReassembler reasm;
  ip::FragmentOutcome out{};
  for (const auto& p : sent) {
    EXPECT_LE(p.size(), 1500u);
    auto ip = wire::Ipv4Packet::parse(p);
    ASSERT_TRUE(ip.ok());
    EXPECT_TRUE(ip->is_fragment());
    EXPECT_FALSE(ip->df());
    EXPECT_EQ(ip->src(), kLocal);
    EXPECT_EQ(ip->dst(), kPeer);
    out = reasm.add(*ip, Instant{});
  }
  ASSERT_EQ(out.result, ip::FragmentResult::kComplete);
  auto reply = wire::Ipv4Packet::parse(out.datagram);
  ASSERT_TRUE(reply.ok());
  const auto icmp = reply->payload();
  ASSERT_EQ(icmp.size(), 8 + data.size());
  EXPECT_EQ(icmp[0], 0);  // echo reply
  EXPECT_TRUE(wire::checksum_ok(icmp));
  EXPECT_EQ(get16(icmp, 4), 0x0abc);  // identifier
  EXPECT_EQ(get16(icmp, 6), 0x0001);  // sequence
  EXPECT_TRUE(std::equal(data.begin(), data.end(), icmp.begin() + 8));

  EXPECT_EQ(counter(stack, "ip.out.fragmented"), 1u);
  EXPECT_EQ(counter(stack, "ip.out.fragments"), 3u);
  EXPECT_EQ(counter(stack, "ip.out.drop.no-room"), 0u);
  EXPECT_EQ(counter(stack, "icmp.out.echo-reply"), 1u);
}

// On a link with an MTU below 576, an ICMP error quoting as much as RFC 1812 §4.3.2.3 allows
// is larger than the MTU: it is fragmented too (DF clear, as Linux sends its errors).
TEST(StackFragmentOutput, AnIcmpErrorLargerThanASmallMtuIsFragmented) {
  dev::MemoryLink link({.mtu = 300});
  StackConfig cfg;
  cfg.address = kLocal;
  Stack stack(link.a(), cfg);
  // The first 300-byte fragment of an SCTP datagram: utcp has no SCTP, so it answers protocol
  // unreachable, quoting all 300 bytes (20 + 8 + 300 = 328 > 300).
  const auto first = ip_packet({.protocol = 132, .id = 0x99, .mf = true}, pattern(280, 1));
  ASSERT_TRUE(link.b().transmit_one(first, Instant{}));
  stack.process(Instant{});

  const auto sent = drain(link.b());
  ASSERT_EQ(sent.size(), 2u);
  ip::FragmentReassembler reasm;
  ip::FragmentOutcome out{};
  for (const auto& p : sent) {
    EXPECT_LE(p.size(), 300u);
    out = reasm.add(*wire::Ipv4Packet::parse(p), Instant{});
  }
  ASSERT_EQ(out.result, ip::FragmentResult::kComplete);
  const auto icmp = wire::Ipv4Packet::parse(out.datagram)->payload();
  ASSERT_EQ(icmp.size(), 8 + first.size());
  EXPECT_EQ(icmp[0], 3);  // destination unreachable
  EXPECT_EQ(icmp[1], 2);  // protocol
  EXPECT_TRUE(wire::checksum_ok(icmp));
  EXPECT_TRUE(std::equal(first.begin(), first.end(), icmp.begin() + 8));
  EXPECT_EQ(counter(stack, "ip.out.fragments"), 2u);
}

TEST(StackFragmentOutput, ASmallEchoReplyIsOnePacket) {
  dev::MemoryLink link;
  StackConfig cfg;
  cfg.address = kLocal;
  Stack stack(link.a(), cfg);
  const auto request = ip_packet({.protocol = 1}, icmp_message(8, 0, 0x00010001, pattern(56)));
  ASSERT_TRUE(link.b().transmit_one(request, Instant{}));
  stack.process(Instant{});
  const auto sent = drain(link.b());
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].size(), request.size());
  EXPECT_EQ(counter(stack, "ip.out.fragmented"), 0u);
}

}  // namespace
}  // namespace utcp::test
