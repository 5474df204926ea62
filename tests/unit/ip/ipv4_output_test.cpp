// SPDX-License-Identifier: BSD-2-Clause
#include "ip/ipv4_output.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "ip/icmp_rate_limiter.hpp"
#include "unit/ip/ip_test_packets.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace utcp::ip {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace)

TEST(Ipv4Output, WritesTheHeaderInFrontOfTheSegment) {
  Ipv4Output out(0x0102);
  std::vector<uint8_t> buf(Ipv4Output::kHeadroom + 24, 0xee);
  const auto segment = pattern(24);
  std::copy(segment.begin(), segment.end(), buf.begin() + 20);
  ASSERT_EQ(out.write_header(buf, 24, kLocal, kPeer, 6, ecn::kEct0), 44u);
  std::vector<uint8_t> want = {0x45, 0x02, 0x00, 44, 0x01, 0x02, 0x40, 0x00, 64, 6,
                               0,    0,    10,   77, 0,    2,    10,   77,   0,  1};
  put16(want, 10, wire::internet_checksum(want));
  EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + 20), want);
  EXPECT_TRUE(std::equal(segment.begin(), segment.end(), buf.begin() + 20));  // untouched

  // The identification counts up; CE marks pass through.
  ASSERT_EQ(out.write_header(buf, 24, kLocal, kPeer, 6, ecn::kCe), 44u);
  EXPECT_EQ(get16(buf, 4), 0x0103);
  EXPECT_EQ(buf[1], 0x03);
  EXPECT_TRUE(wire::checksum_ok(std::span(buf).first(20)));
}

// RFC 9293 §3.9.1.9 (SHLD-22): the Diffserv field goes into the header unchanged, beside the
// ECN codepoint, which stays in the low two bits (RFC 3168 §5).
TEST(Ipv4Output, TosByteCarriesDiffservAndEcnUnchanged) {
  Ipv4Output out;
  std::vector<uint8_t> buf(Ipv4Output::kHeadroom + 8);
  for (uint8_t dscp : {0, 10, 46, 63}) {
    for (uint8_t ecn_bits : {ecn::kNotEct, ecn::kEct0, ecn::kCe}) {
      ASSERT_EQ(
          out.write_header(buf, 8, kLocal, kPeer, 6, static_cast<uint8_t>(dscp << 2 | ecn_bits)),
          28u);
      auto ip = wire::Ipv4Packet::parse(buf);
      ASSERT_TRUE(ip.ok());
      EXPECT_EQ(ip->dscp(), dscp);
      EXPECT_EQ(ip->ecn(), ecn_bits);
    }
  }
}

TEST(Ipv4Output, RefusesShortBuffersAndOversizedDatagrams) {
  Ipv4Output out;
  std::vector<uint8_t> buf(100);
  EXPECT_EQ(out.write_header(buf, 81, kLocal, kPeer, 6), 0u);
  EXPECT_EQ(out.write_header(buf, 80, kLocal, kPeer, 6), 100u);
  std::vector<uint8_t> huge(70000);
  EXPECT_EQ(out.write_header(huge, 65516, kLocal, kPeer, 6), 0u);
  EXPECT_EQ(out.write_header(huge, 65515, kLocal, kPeer, 6), 65535u);
}

TEST(IcmpRateLimiter, AllowsBurstThenOnePerInterval) {
  IcmpRateLimiter limiter(10, 3);  // one token per 100 ms
  int allowed = 0;
  for (int i = 0; i < 10; ++i) allowed += limiter.allow(instant_from_us(0));
  EXPECT_EQ(allowed, 3);
  EXPECT_FALSE(limiter.allow(instant_from_us(99'999)));
  EXPECT_TRUE(limiter.allow(instant_from_us(100'000)));
  EXPECT_FALSE(limiter.allow(instant_from_us(100'001)));
  // After a long pause the full burst is back, not more.
  allowed = 0;
  for (int i = 0; i < 10; ++i) allowed += limiter.allow(instant_from_us(10'000'000));
  EXPECT_EQ(allowed, 3);
  IcmpRateLimiter off(0, 5);
  EXPECT_FALSE(off.allow(instant_from_us(0)));
}

}  // namespace
}  // namespace utcp::ip
