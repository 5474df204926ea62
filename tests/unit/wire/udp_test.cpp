// SPDX-License-Identifier: BSD-2-Clause
// UDP wire rules (RFC 768, RFC 8200 §8.1), one test per rule, over both families; and a
// seeded round trip of random datagrams.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <vector>

#include "wire/checksum.hpp"
#include "wire/udp.hpp"

namespace utcp::wire {
namespace {

const IpAddr kSrc4(Ipv4Addr(10, 77, 0, 1));
const IpAddr kDst4(Ipv4Addr(10, 77, 0, 2));
const IpAddr kSrc6(Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 1));
const IpAddr kDst6(Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 2));

std::vector<uint8_t> datagram(const IpAddr& src, const IpAddr& dst,
                              const std::vector<uint8_t>& payload, bool checksum = true) {
  UdpRepr r{.src_port = 40000, .dst_port = 53, .payload = payload};
  std::vector<uint8_t> out(r.total_len());
  EXPECT_EQ(r.emit(out, src, dst, checksum), out.size());
  return out;
}

// RFC 768 header layout: ports, Length (header + data), checksum.
TEST(UdpWire, EmitsTheRfc768Header) {
  const std::vector<uint8_t> payload = {'a', 'b', 'c'};
  const auto d = datagram(kSrc4, kDst4, payload);
  ASSERT_EQ(d.size(), 11u);
  EXPECT_EQ(d[0] << 8 | d[1], 40000);
  EXPECT_EQ(d[2] << 8 | d[3], 53);
  EXPECT_EQ(d[4] << 8 | d[5], 11);
  EXPECT_NE(d[6] << 8 | d[7], 0);
  EXPECT_EQ(d[8], 'a');
  // The checksum sums to 0xffff with the IPv4 pseudo-header (odd length: padded with zero).
  EXPECT_EQ(ipv4_pseudo_header(kSrc4.v4().value, kDst4.v4().value, 17, 11).add(d).sum(), 0xffff);
  // ... and over IPv6 with RFC 8200 §8.1's.
  const auto d6 = datagram(kSrc6, kDst6, payload);
  EXPECT_EQ(ipv6_pseudo_header(kSrc6.v6(), kDst6.v6(), 17, 11).add(d6).sum(), 0xffff);
  EXPECT_NE(d6[6] << 8 | d6[7], d[6] << 8 | d[7]);
}

TEST(UdpWire, ShorterThanTheHeaderIsTruncated) {
  const auto d = datagram(kSrc4, kDst4, {});
  for (size_t n = 0; n < kUdpHeaderLen; ++n) {
    auto p = UdpPacket::parse(std::span<const uint8_t>(d).first(n), kSrc4, kDst4);
    ASSERT_FALSE(p.ok()) << n;
    EXPECT_EQ(p.error(), ParseError::kTruncated) << n;
  }
  // An empty datagram (8 bytes, no data) is valid.
  auto p = UdpPacket::parse(d, kSrc4, kDst4);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->payload().empty());
}

// RFC 768: Length includes the header, so a value below 8 cannot be right.
TEST(UdpWire, LengthBelowEightIsRejected) {
  for (const IpAddr* fam : {&kSrc4, &kSrc6}) {
    const IpAddr& src = *fam;
    const IpAddr& dst = src.is_v4() ? kDst4 : kDst6;
    for (uint16_t len : {0, 1, 7}) {
      auto d = datagram(src, dst, {1, 2, 3, 4});
      d[4] = 0;
      d[5] = static_cast<uint8_t>(len);
      auto p = UdpPacket::parse(d, src, dst, false);
      ASSERT_FALSE(p.ok());
      EXPECT_EQ(p.error(), ParseError::kBadHeaderLength) << len;
    }
  }
}

// A Length beyond what IP carried: the datagram was cut, drop it (as Linux does).
TEST(UdpWire, LengthBeyondTheIpPayloadIsTruncated) {
  auto d = datagram(kSrc4, kDst4, {1, 2, 3, 4});
  d[5] = static_cast<uint8_t>(d.size() + 1);
  auto p = UdpPacket::parse(d, kSrc4, kDst4, false);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error(), ParseError::kTruncated);
}

// A Length short of the IP payload: the datagram is Length bytes, the rest is not data, and
// the checksum covers Length bytes only.
TEST(UdpWire, BytesAfterLengthAreNotPartOfTheDatagram) {
  for (const IpAddr* fam : {&kSrc4, &kSrc6}) {
    const IpAddr& src = *fam;
    const IpAddr& dst = src.is_v4() ? kDst4 : kDst6;
    auto d = datagram(src, dst, {'d', 'a', 't', 'a'});
    d.insert(d.end(), {0xde, 0xad, 0xbe, 0xef, 0x99});  // trailing junk
    auto p = UdpPacket::parse(d, src, dst);
    ASSERT_TRUE(p.ok()) << to_string(p.error());
    EXPECT_EQ(p->length(), 12);
    EXPECT_EQ(p->bytes().size(), 12u);
    ASSERT_EQ(p->payload().size(), 4u);
    EXPECT_EQ(p->payload()[3], 'a');
  }
}

TEST(UdpWire, BadChecksumIsRejectedInEitherFamily) {
  for (const IpAddr* fam : {&kSrc4, &kSrc6}) {
    const IpAddr& src = *fam;
    const IpAddr& dst = src.is_v4() ? kDst4 : kDst6;
    auto d = datagram(src, dst, {'x', 'y', 'z'});
    d[8] ^= 0x01;  // one bit of data
    auto p = UdpPacket::parse(d, src, dst);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error(), ParseError::kBadChecksum);
    // Not checked when the device already did (offload).
    EXPECT_TRUE(UdpPacket::parse(d, src, dst, false).ok());
  }
}

// RFC 768: over IPv4 a zero checksum field means "none": accepted even for corrupted data.
TEST(UdpWire, ZeroChecksumAcceptedOverIpv4) {
  auto d = datagram(kSrc4, kDst4, {'x', 'y', 'z'}, false);
  ASSERT_EQ(d[6] << 8 | d[7], 0);
  d[8] ^= 0x01;
  auto p = UdpPacket::parse(d, kSrc4, kDst4);
  ASSERT_TRUE(p.ok()) << to_string(p.error());
  EXPECT_FALSE(p->has_checksum());
}

// RFC 8200 §8.1: over IPv6 the checksum is mandatory; a zero field is discarded, even when
// checksum verification is off (a zero field is never a valid checksum).
TEST(UdpWire, ZeroChecksumRejectedOverIpv6) {
  auto d = datagram(kSrc6, kDst6, {'x', 'y', 'z'}, false);
  ASSERT_EQ(d[6] << 8 | d[7], 0);
  for (bool verify : {true, false}) {
    auto p = UdpPacket::parse(d, kSrc6, kDst6, verify);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error(), ParseError::kBadChecksum);
  }
}

// Finds two payload bytes that make the checksum compute to zero.
std::vector<uint8_t> zero_sum_payload(const IpAddr& src, const IpAddr& dst) {
  std::vector<uint8_t> payload = {'z', 'e', 'r', 'o', 0, 0};
  const auto d = datagram(src, dst, payload, false);
  const uint16_t s = pseudo_header(src, dst, 17, static_cast<uint32_t>(d.size())).add(d).sum();
  payload[4] = static_cast<uint8_t>(~s >> 8);
  payload[5] = static_cast<uint8_t>(~s);
  return payload;
}

// RFC 768: "If the computed checksum is zero, it is transmitted as all ones"; the receiver
// accepts 0xffff (it is the same value in ones'-complement arithmetic).
TEST(UdpWire, ComputedZeroIsSentAsAllOnes) {
  for (const IpAddr* fam : {&kSrc4, &kSrc6}) {
    const IpAddr& src = *fam;
    const IpAddr& dst = src.is_v4() ? kDst4 : kDst6;
    const auto d = datagram(src, dst, zero_sum_payload(src, dst));
    EXPECT_EQ(d[6] << 8 | d[7], 0xffff) << src.to_string();
    EXPECT_TRUE(UdpPacket::parse(d, src, dst).ok());
  }
}

TEST(UdpWire, EmitRefusesShortBuffersAndOversizeDatagrams) {
  const std::vector<uint8_t> payload(100, 7);
  UdpRepr r{.src_port = 1, .dst_port = 2, .payload = payload};
  std::vector<uint8_t> out(r.total_len() - 1);
  EXPECT_EQ(r.emit(out, kSrc4, kDst4), 0u);
  EXPECT_EQ(r.emit_header(out, kSrc4, kDst4), 0u);
  const std::vector<uint8_t> huge(kUdpMaxPayload + 1, 1);
  UdpRepr big{.src_port = 1, .dst_port = 2, .payload = huge};
  std::vector<uint8_t> big_out(big.total_len());
  EXPECT_EQ(big.emit(big_out, kSrc6, kDst6), 0u);
  const std::vector<uint8_t> max(kUdpMaxPayload, 1);
  UdpRepr fits{.src_port = 1, .dst_port = 2, .payload = max};
  std::vector<uint8_t> fits_out(fits.total_len());
  EXPECT_EQ(fits.emit(fits_out, kSrc6, kDst6), kUdpMaxDatagram);
}

// Zero-copy: the payload already in place after the header, only the header written.
TEST(UdpWire, EmitHeaderChecksumsThePayloadInPlace) {
  std::vector<uint8_t> buf(8 + 5);
  const uint8_t msg[] = {'h', 'e', 'l', 'l', 'o'};
  std::copy(std::begin(msg), std::end(msg), buf.begin() + 8);
  UdpRepr r{.src_port = 9, .dst_port = 10, .payload = std::span<const uint8_t>(buf).subspan(8)};
  ASSERT_EQ(r.emit_header(buf, kSrc6, kDst6), kUdpHeaderLen);
  auto p = UdpPacket::parse(buf, kSrc6, kDst6);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->src_port(), 9);
  EXPECT_EQ(std::string(p->payload().begin(), p->payload().end()), "hello");
}

TEST(UdpWire, RandomDatagramsRoundTrip) {
  const uint32_t seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  for (int i = 0; i < 500; ++i) {
    const bool v6 = rng() & 1;
    IpAddr src = v6 ? IpAddr(Ipv6Addr(static_cast<uint16_t>(rng()), 0, 0, 0, 0, 0, 0,
                                      static_cast<uint16_t>(rng())))
                    : IpAddr(Ipv4Addr(static_cast<uint32_t>(rng())));
    IpAddr dst = v6 ? IpAddr(Ipv6Addr(0xfd77, static_cast<uint16_t>(rng()), 0, 0, 0, 0, 0, 1))
                    : IpAddr(Ipv4Addr(static_cast<uint32_t>(rng())));
    std::vector<uint8_t> payload(rng() % 1500);
    for (auto& b : payload) b = static_cast<uint8_t>(rng());
    UdpRepr r{.src_port = static_cast<uint16_t>(rng()),
              .dst_port = static_cast<uint16_t>(rng()),
              .payload = payload};
    std::vector<uint8_t> out(r.total_len());
    ASSERT_EQ(r.emit(out, src, dst), out.size()) << "seed " << seed << " i " << i;
    auto p = UdpPacket::parse(out, src, dst);
    ASSERT_TRUE(p.ok()) << "seed " << seed << " i " << i;
    EXPECT_NE(p->checksum(), 0);
    EXPECT_EQ(p->src_port(), r.src_port);
    EXPECT_EQ(p->dst_port(), r.dst_port);
    ASSERT_TRUE(
        std::equal(payload.begin(), payload.end(), p->payload().begin(), p->payload().end()));
    // Any single flipped bit outside Length and the checksum field changes the sum by
    // 2^k (mod 0xffff), never by 0: caught.
    size_t bit = rng() % ((out.size() - 4) * 8);
    if (bit >= 32) bit += 32;
    out[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(UdpPacket::parse(out, src, dst).ok())
        << "seed " << seed << " i " << i << " bit " << bit;
  }
}

}  // namespace
}  // namespace utcp::wire
