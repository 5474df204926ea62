// SPDX-License-Identifier: BSD-2-Clause
#include "ip/ipv6_fragmenter.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "ip/flow_label.hpp"
#include "ip/fragment_reassembler.hpp"
#include "ip/ipv6_output.hpp"
#include "unit/ip/ip6_test_packets.hpp"
#include "wire/ipv6_ext.hpp"

namespace utcp::ip {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace)

std::vector<std::vector<uint8_t>> split(const std::vector<uint8_t>& packet, size_t mtu,
                                        uint32_t id) {
  Ipv6Fragmenter f(packet, mtu, id);
  EXPECT_TRUE(f.ok());
  std::vector<std::vector<uint8_t>> out;
  std::vector<uint8_t> buf(mtu);
  const size_t expected = f.count();
  while (!f.done()) {
    const size_t n = f.next(buf);
    EXPECT_GT(n, 0u);
    if (n == 0) break;
    out.emplace_back(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  EXPECT_EQ(out.size(), expected);
  return out;
}

std::vector<uint8_t> reassemble(const std::vector<std::vector<uint8_t>>& frags) {
  FragmentReassembler reasm({.timeout = std::chrono::seconds(60)});
  for (const auto& f : frags) {
    const auto ip = *wire::Ipv6Packet::parse(f);
    const auto walk = wire::walk_ipv6_ext(ip);
    EXPECT_TRUE(walk.fragment.has_value());
    if (!walk.fragment) return {};
    const auto out = reasm.add(ip, *walk.fragment, instant_from_us(0));
    if (out.result == FragmentResult::kComplete) return {out.datagram.begin(), out.datagram.end()};
    EXPECT_EQ(out.result, FragmentResult::kHeld);
  }
  return {};
}

TEST(Ipv6Fragmenter, APacketThatFitsGoesOutUnchangedWithoutAFragmentHeader) {
  // RFC 8200 §4.5 / RFC 8021: no atomic fragments.
  const auto packet = ip6_packet({.next_header = 58}, icmp6_message(129, 0, 1, pattern(1232)));
  ASSERT_EQ(packet.size(), 1280u);
  const auto out = split(packet, 1280, 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], packet);
}

TEST(Ipv6Fragmenter, SplitsAnEchoReplyForTheMtuAndReassemblesToTheOriginal) {
  const auto packet = ip6_packet({.src = kLocal6, .dst = kPeer6, .next_header = 58},
                                 icmp6_message(129, 0, 7, pattern(3000), kLocal6, kPeer6));
  const auto frags = split(packet, 1280, 0xcafe0001);
  ASSERT_EQ(frags.size(), 3u);
  size_t expect_offset = 0;
  for (size_t i = 0; i < frags.size(); ++i) {
    const auto& f = frags[i];
    SCOPED_TRACE(i);
    EXPECT_LE(f.size(), 1280u);
    // The fixed header, Next Header 44, this fragment's payload length.
    EXPECT_EQ(f[6], 44);
    EXPECT_EQ(get16(f, 4), f.size() - 40);
    EXPECT_TRUE(std::equal(f.begin() + 8, f.begin() + 40, packet.begin() + 8));
    // The Fragment header (RFC 8200 §4.5): next header 58, offset, M on all but the last, id.
    EXPECT_EQ(f[40], 58);
    const uint16_t word = get16(f, 42);
    EXPECT_EQ(word & 0xfff8, expect_offset);
    EXPECT_EQ(word & 1, i + 1 < frags.size() ? 1 : 0);
    EXPECT_EQ(get16(f, 44) << 16 | get16(f, 46), 0xcafe0001);
    const size_t data = f.size() - 48;
    if (i + 1 < frags.size()) {
      EXPECT_EQ(data % 8, 0u);
      EXPECT_EQ(f.size(), 1280u);  // as much as fits
    }
    EXPECT_TRUE(std::equal(f.begin() + 48, f.end(), packet.begin() + 40 + expect_offset));
    expect_offset += data;
  }
  EXPECT_EQ(expect_offset, packet.size() - 40);
  EXPECT_EQ(reassemble(frags), packet);
}

TEST(Ipv6Fragmenter, HopByHopIsRepeatedInEveryFragmentAndDestinationOptionsAreNot) {
  // RFC 8200 §4.5: Hop-by-Hop is Per-Fragment; Destination Options not followed by a Routing
  // header belong to the fragmentable part (only the first fragment carries them).
  const auto hbh = options_header(60);
  const auto dst = options_header(17);
  const auto udp = pattern(2500);
  const auto packet = ip6_packet({.next_header = 0}, concat({hbh, dst, udp}));
  const auto frags = split(packet, 1280, 5);
  ASSERT_EQ(frags.size(), 3u);
  for (const auto& f : frags) {
    EXPECT_EQ(f[6], 0);    // Hop-by-Hop first
    EXPECT_EQ(f[40], 44);  // its Next Header now names the Fragment header
    EXPECT_EQ(f[48], 60);  // the Fragment header's: Destination Options
  }
  // The first fragment's data starts with the Destination Options header.
  EXPECT_TRUE(std::equal(dst.begin(), dst.end(), frags[0].begin() + 56));
  EXPECT_EQ(reassemble(frags), packet);
}

TEST(Ipv6Fragmenter, RefusesWhatItCannotOrMayNotSplit) {
  const auto packet = ip6_packet({.next_header = 17}, pattern(3000));
  // RFC 8200 §5: no link has an MTU below 1280.
  EXPECT_FALSE(Ipv6Fragmenter(packet, 1279, 1).ok());
  // Already a fragment: not split again.
  const auto frag =
      ip6_packet({.next_header = 44}, concat({fragment_header(17, 0, true, 1), pattern(2992)}));
  EXPECT_FALSE(Ipv6Fragmenter(frag, 1280, 1).ok());
  // Not an IPv6 packet.
  EXPECT_FALSE(Ipv6Fragmenter(std::vector<uint8_t>(30, 0x60), 1280, 1).ok());
  Ipv6Fragmenter bad(packet, 1000, 1);
  EXPECT_TRUE(bad.done());
  std::vector<uint8_t> buf(1500);
  EXPECT_EQ(bad.next(buf), 0u);
  // A buffer too short for the next fragment writes nothing.
  Ipv6Fragmenter f(packet, 1280, 1);
  std::vector<uint8_t> small(100);
  EXPECT_EQ(f.next(small), 0u);
  EXPECT_FALSE(f.done());
}

TEST(Ipv6Output, WritesTheHeaderInFrontOfThePayload) {
  Ipv6Output out;
  std::vector<uint8_t> buf(40 + 4, 0);
  buf[40] = 0xaa;
  ASSERT_EQ(out.write_header(buf, 4, kLocal6, kPeer6, 6, 0xb9, 0x12345), 44u);
  const auto want = ip6_packet({.src = kLocal6,
                                .dst = kPeer6,
                                .next_header = 6,
                                .hop_limit = 64,
                                .traffic_class = 0xb9,
                                .flow_label = 0x12345},
                               std::vector<uint8_t>{0xaa, 0, 0, 0});
  EXPECT_EQ(buf, want);
  EXPECT_EQ(Ipv6Output(255).hop_limit(), 255);
}

TEST(Ipv6Output, RefusesWhatDoesNotFit) {
  Ipv6Output out;
  std::vector<uint8_t> buf(100);
  EXPECT_EQ(out.write_header(buf, 61, kLocal6, kPeer6, 6), 0u);               // buffer
  EXPECT_EQ(out.write_header(buf, 10, kLocal6, kPeer6, 6, 0, 0x100000), 0u);  // > 20 bits
  std::vector<uint8_t> huge(40 + 65536);
  EXPECT_EQ(out.write_header(huge, 65536, kLocal6, kPeer6, 17), 0u);  // no jumbograms
  EXPECT_EQ(out.write_header(huge, 65535, kLocal6, kPeer6, 17), 40u + 65535);
}

const std::array<uint8_t, 16> kKey = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

TEST(FlowLabel, StablePerFlowTwentyBitsNonZeroAndKeyed) {
  // RFC 6437 §3: the same 5-tuple always gets the same label; labels are 20 bits, never 0.
  const uint32_t a = flow_label(kKey, kLocal6, kPeer6, 6, 40000, 5001);
  EXPECT_EQ(a, flow_label(kKey, kLocal6, kPeer6, 6, 40000, 5001));
  EXPECT_NE(a, 0u);
  EXPECT_LE(a, 0xfffffu);
  auto other_key = kKey;
  other_key[0] ^= 1;
  EXPECT_NE(a, flow_label(other_key, kLocal6, kPeer6, 6, 40000, 5001));
  // Uniformly spread: 4096 flows differing only in the source port take nearly as many
  // distinct labels, and both halves of the 20-bit range.
  std::vector<uint32_t> labels;
  size_t high = 0;
  for (uint16_t port = 40000; port < 40000 + 4096; ++port) {
    const uint32_t l = flow_label(kKey, kLocal6, kPeer6, 6, port, 5001);
    ASSERT_NE(l, 0u);
    ASSERT_LE(l, 0xfffffu);
    labels.push_back(l);
    high += l >= 0x80000 ? 1 : 0;
  }
  std::sort(labels.begin(), labels.end());
  const size_t distinct =
      static_cast<size_t>(std::unique(labels.begin(), labels.end()) - labels.begin());
  EXPECT_GE(distinct, 4000u);  // birthday collisions among 2^20: about 8 expected
  EXPECT_GT(high, 1800u);
  EXPECT_LT(high, 2300u);
}

TEST(FragmentIds, SequentialPerDestinationUnrelatedAcross) {
  // RFC 7739: per destination pair the IDs follow one another; across pairs they are offset
  // by a keyed hash, so one pair's IDs tell nothing about another's.
  Ipv6FragmentIds ids(kKey);
  const uint32_t a1 = ids.next(kLocal6, kPeer6);
  const uint32_t a2 = ids.next(kLocal6, kPeer6);
  EXPECT_EQ(a2, a1 + 1);
  const uint32_t b1 = ids.next(kLocal6, kFar6);
  EXPECT_NE(b1, a2 + 1);
  EXPECT_NE(b1, a1);
  Ipv6FragmentIds other(std::array<uint8_t, 16>{});
  EXPECT_NE(other.next(kLocal6, kPeer6), a1);
}

}  // namespace
}  // namespace utcp::ip
