// SPDX-License-Identifier: BSD-2-Clause
// Output fragmentation (RFC 791 §3.2): offsets in 8-byte units, MF on all but the last,
// the header copied (options by their "copied" flag), checksums right, and the fragments
// reassemble to the original datagram.
#include "ip/ipv4_fragmenter.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "ip/fragment_reassembler.hpp"
#include "unit/ip/ip_test_packets.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace utcp::ip {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace)

std::vector<std::vector<uint8_t>> split(const std::vector<uint8_t>& datagram, size_t mtu) {
  Ipv4Fragmenter f(datagram, mtu);
  std::vector<std::vector<uint8_t>> out;
  std::vector<uint8_t> buf(mtu);
  while (!f.done()) {
    const size_t n = f.next(buf);
    EXPECT_GT(n, 0u);
    if (n == 0) break;
    out.emplace_back(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(n));
  }
  EXPECT_EQ(out.size(), f.count());
  return out;
}

TEST(Ipv4Fragmenter, SplitsAnEchoReplyForTheMtuAndReassemblesToTheOriginal) {
  // ping -s 3000: 3008 bytes of ICMP in a 3028-byte datagram, for a 1500-byte link.
  const auto icmp = icmp_message(0, 0, 0x00010002, pattern(3000, 3));
  const auto original = ip_packet({.protocol = 1, .id = 0x4321, .ttl = 64, .tos = 0xb8}, icmp);
  const auto frags = split(original, 1500);
  ASSERT_EQ(frags.size(), 3u);
  const size_t expect_len[] = {1500, 1500, 3028 - 2 * 1480};
  size_t offset = 0;
  for (size_t i = 0; i < frags.size(); ++i) {
    const auto& f = frags[i];
    SCOPED_TRACE(i);
    ASSERT_EQ(f.size(), expect_len[i]);
    EXPECT_TRUE(wire::checksum_ok(std::span(f).first(20)));
    EXPECT_EQ(f[0], 0x45);
    EXPECT_EQ(f[1], 0xb8);             // TOS copied
    EXPECT_EQ(get16(f, 2), f.size());  // total length of the fragment
    EXPECT_EQ(get16(f, 4), 0x4321);    // identification copied
    const uint16_t flags_offset = get16(f, 6);
    EXPECT_EQ((flags_offset & 0x2000) != 0, i + 1 < frags.size());  // MF on all but the last
    EXPECT_EQ(flags_offset & 0x4000, 0);
    EXPECT_EQ(size_t{flags_offset & 0x1fffu} * 8, offset);  // the field counts 8-byte units
    EXPECT_EQ(f[8], 64);
    EXPECT_EQ(f[9], 1);
    EXPECT_TRUE(std::equal(f.begin() + 12, f.begin() + 20, original.begin() + 12));
    EXPECT_TRUE(std::equal(f.begin() + 20, f.end(),
                           original.begin() + 20 + static_cast<ptrdiff_t>(offset)));
    if (i + 1 < frags.size()) {
      EXPECT_EQ((f.size() - 20) % 8, 0u);
    }
    offset += f.size() - 20;
  }
  EXPECT_EQ(offset, icmp.size());

  // Through the receive side, in reverse order: the original datagram comes back.
  FragmentReassembler reasm;
  FragmentOutcome out{};
  for (auto it = frags.rbegin(); it != frags.rend(); ++it) {
    out = reasm.add(*wire::Ipv4Packet::parse(*it), instant_from_us(0));
  }
  ASSERT_EQ(out.result, FragmentResult::kComplete);
  EXPECT_EQ(std::vector<uint8_t>(out.datagram.begin(), out.datagram.end()), original);
  // The ICMP checksum of the whole message is still right.
  EXPECT_TRUE(wire::checksum_ok(out.datagram.subspan(20)));
}

TEST(Ipv4Fragmenter, DontFragmentAndTooSmallMtuAreRefused) {
  const auto payload = pattern(2000);
  EXPECT_FALSE(Ipv4Fragmenter(ip_packet({.df = true}, payload), 1500).ok());
  EXPECT_TRUE(split(ip_packet({.df = true}, payload), 1500).empty());
  EXPECT_FALSE(Ipv4Fragmenter(ip_packet({}, payload), 67).ok());
  const std::vector<uint8_t> garbage(100, 0xff);
  EXPECT_FALSE(Ipv4Fragmenter(garbage, 1500).ok());
  // The minimum MTU still works: 48 bytes of data per fragment.
  const auto frags = split(ip_packet({}, payload), Ipv4Fragmenter::kMinMtu);
  ASSERT_EQ(frags.size(), (2000 + 47) / 48);
  for (const auto& f : frags) EXPECT_LE(f.size(), Ipv4Fragmenter::kMinMtu);
}

// Found by fuzz/ip_reassembly.cpp: 65 bytes of payload fit an MTU of 85 whole, though 65 is
// not a multiple of 8; they must not be split into 64 + 1.
TEST(Ipv4Fragmenter, ADatagramThatFitsIsOneUnchangedPacket) {
  const auto original = ip_packet({.id = 5}, pattern(65));
  for (size_t mtu : {85, 90, 1500}) {
    const auto frags = split(original, mtu);
    ASSERT_EQ(frags.size(), 1u) << mtu;
    EXPECT_EQ(frags[0], original) << mtu;
  }
  // One byte less room: 64 + 1.
  const auto frags = split(original, 84);
  ASSERT_EQ(frags.size(), 2u);
  EXPECT_EQ(frags[0].size(), 84u);
  EXPECT_EQ(frags[1].size(), 21u);
}

TEST(Ipv4Fragmenter, ABufferTooShortWritesNothing) {
  const auto original = ip_packet({}, pattern(3000));
  Ipv4Fragmenter f(original, 1500);
  std::vector<uint8_t> small(1000);
  EXPECT_EQ(f.next(small), 0u);
  EXPECT_FALSE(f.done());
}

TEST(Ipv4Fragmenter, OnlyCopiedOptionsAreRepeatedInLaterFragments) {
  // Header with options: a Record Route (type 7, not copied) and a Loose Source Route
  // (type 131, copied), padded to 12 bytes.
  auto p = ip_packet({.id = 9}, pattern(400));
  const std::vector<uint8_t> options = {7, 3, 4, 131, 7, 4, 10, 77, 0, 1, 1, 0};
  p.insert(p.begin() + 20, options.begin(), options.end());
  p[0] = 0x48;
  put16(p, 2, static_cast<uint16_t>(p.size()));
  put16(p, 10, 0);
  put16(p, 10, wire::internet_checksum(std::span(p).first(32)));
  ASSERT_TRUE(wire::Ipv4Packet::parse(p).ok());

  const auto frags = split(p, 200);
  ASSERT_GE(frags.size(), 3u);
  EXPECT_EQ(frags[0][0], 0x48);  // the first keeps every option
  EXPECT_TRUE(std::equal(options.begin(), options.end(), frags[0].begin() + 20));
  EXPECT_EQ(frags[0].size(), 32u + (200 - 32) / 8 * 8);
  for (size_t i = 1; i < frags.size(); ++i) {
    const auto& f = frags[i];
    EXPECT_EQ(f[0], 0x47);  // 28-byte header: the 7 bytes of LSRR, padded
    EXPECT_TRUE(wire::checksum_ok(std::span(f).first(28)));
    EXPECT_TRUE(std::equal(options.begin() + 3, options.begin() + 10, f.begin() + 20));
    EXPECT_EQ(f[27], 0);
  }
  FragmentReassembler reasm;
  FragmentOutcome out{};
  for (const auto& f : frags) out = reasm.add(*wire::Ipv4Packet::parse(f), instant_from_us(0));
  ASSERT_EQ(out.result, FragmentResult::kComplete);
  EXPECT_TRUE(std::equal(out.datagram.begin() + 20, out.datagram.end(), p.begin() + 32));
}

TEST(Ipv4Fragmenter, AFragmentIsSplitFurtherKeepingItsOffsetAndMf) {
  const auto piece = ip_packet({.id = 3, .mf = true, .frag_offset = 1480}, pattern(1480));
  const auto frags = split(piece, 600);
  ASSERT_EQ(frags.size(), 3u);
  EXPECT_EQ(size_t{get16(frags[0], 6) & 0x1fffu} * 8, 1480u);
  for (const auto& f : frags) EXPECT_NE(get16(f, 6) & 0x2000, 0);  // the original had MF
}

}  // namespace
}  // namespace utcp::ip
