// SPDX-License-Identifier: BSD-2-Clause
// The Stack's keyed hashes over addresses of either family (issue 12): the 4-tuple hash takes
// all 16 + 16 address bytes and the family; ISNs (RFC 6528), ephemeral ports (RFC 6056) and
// SYN cookies over IPv6 tuples depend on every address byte and stay apart from IPv4.
#include <gtest/gtest.h>

#include <set>

#include "stack/four_tuple.hpp"
#include "stack/port_allocator.hpp"
#include "stack/syn_cookies.hpp"
#include "tcp/isn_generator.hpp"

namespace utcp::stack {
namespace {

const std::array<uint8_t, 16> kSecret{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
const Ipv6Addr kLocal6(0xfd77, 0, 0, 0, 0, 0, 0, 2);
const Ipv6Addr kRemote6(0xfd77, 0, 0, 0, 0, 0, 0, 1);
const Ipv4Addr kLocal4(10, 77, 0, 2);
const Ipv4Addr kRemote4(10, 77, 0, 1);

FourTuple tuple6() {
  return FourTuple{kLocal6, 80, kRemote6, 40000};
}

// The same tuple with bit `bit` of one address flipped.
FourTuple flipped(bool local, size_t bit) {
  FourTuple t = tuple6();
  std::array<uint8_t, 16> b = (local ? t.local_addr : t.remote_addr).v6().bytes;
  b[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  (local ? t.local_addr : t.remote_addr) = Ipv6Addr(b);
  return t;
}

TEST(FourTupleHash6, EveryAddressBitOfBothAddressesReachesTheHash) {
  const FourTupleHash h(0x1234567890abcdefull);
  const size_t base = h(tuple6());
  EXPECT_EQ(h(tuple6()), base);  // deterministic
  for (bool local : {true, false}) {
    for (size_t bit = 0; bit < 128; ++bit) {
      EXPECT_NE(h(flipped(local, bit)), base) << (local ? "local" : "remote") << " bit " << bit;
    }
  }
}

TEST(FourTupleHash6, FamilyPortsAndSeedAllCount) {
  const FourTupleHash h(7);
  // An IPv4 tuple and the tuple of its IPv4-mapped IPv6 addresses are different keys.
  const FourTuple v4{kLocal4, 80, kRemote4, 40000};
  const FourTuple mapped{Ipv6Addr::v4_mapped(kLocal4), 80, Ipv6Addr::v4_mapped(kRemote4), 40000};
  EXPECT_FALSE(v4 == mapped);
  EXPECT_NE(h(v4), h(mapped));
  for (int bit = 0; bit < 16; ++bit) {
    FourTuple p = tuple6();
    p.remote_port ^= static_cast<uint16_t>(1u << bit);
    EXPECT_NE(h(p), h(tuple6())) << "remote port bit " << bit;
    p = tuple6();
    p.local_port ^= static_cast<uint16_t>(1u << bit);
    EXPECT_NE(h(p), h(tuple6())) << "local port bit " << bit;
  }
  EXPECT_NE(FourTupleHash(8)(tuple6()), h(tuple6()));
}

// A peer choosing its address within one /64 and its port cannot pile tuples into a few
// buckets: 64k tuples spread over 4096 buckets about evenly.
TEST(FourTupleHash6, SpreadsPeerChosenTuplesOverBuckets) {
  const FourTupleHash h(0xfeedfacecafebeefull);
  std::vector<uint32_t> buckets(4096);
  for (uint32_t i = 0; i < 65536; ++i) {
    FourTuple t = tuple6();
    std::array<uint8_t, 16> b = t.remote_addr.v6().bytes;
    b[15] = static_cast<uint8_t>(i);
    b[14] = static_cast<uint8_t>(i >> 8);
    t.remote_addr = Ipv6Addr(b);
    t.remote_port = static_cast<uint16_t>(1024 + (i & 7));
    ++buckets[h(t) % buckets.size()];
  }
  const uint32_t worst = *std::max_element(buckets.begin(), buckets.end());
  EXPECT_LT(worst, 48u) << "mean is 16 per bucket";
}

TEST(IsnGenerator6, Rfc6528OverIpv6DependsOnEveryAddressByte) {
  const tcp::IsnGenerator isn(kSecret);
  const Instant t0{};
  const auto base = isn.isn(kLocal6, 80, kRemote6, 40000, t0);
  EXPECT_EQ(isn.isn(kLocal6, 80, kRemote6, 40000, t0), base);
  for (size_t byte = 0; byte < 16; ++byte) {
    const FourTuple l = flipped(true, byte * 8), r = flipped(false, byte * 8);
    EXPECT_NE(isn.isn(l.local_addr, 80, l.remote_addr, 40000, t0), base) << "local byte " << byte;
    EXPECT_NE(isn.isn(r.local_addr, 80, r.remote_addr, 40000, t0), base) << "remote byte " << byte;
  }
  // RFC 9293 §3.4.1: the clock M still advances the ISN (4 us ticks).
  EXPECT_EQ(isn.isn(kLocal6, 80, kRemote6, 40000, t0 + Duration(400)).raw(), base.raw() + 100);
  // The IPv4-mapped form of an IPv4 tuple does not give the IPv4 tuple's ISN.
  EXPECT_NE(isn.isn(Ipv6Addr::v4_mapped(kLocal4), 80, Ipv6Addr::v4_mapped(kRemote4), 40000, t0),
            isn.isn(kLocal4, 80, kRemote4, 40000, t0));
  // Another secret, another ISN.
  std::array<uint8_t, 16> other = kSecret;
  other[0] ^= 1;
  EXPECT_NE(tcp::IsnGenerator(other).isn(kLocal6, 80, kRemote6, 40000, t0), base);
}

TEST(PortAllocator6, Rfc6056OverIpv6InRangeDistinctAndPerDestination) {
  PortAllocator alloc(kSecret, {40000, 40009});
  std::set<uint16_t> used;
  for (int i = 0; i < 10; ++i) {
    auto p = alloc.allocate(kLocal6, kRemote6, 80, [&](uint16_t q) { return used.count(q) > 0; });
    ASSERT_TRUE(p);
    EXPECT_GE(*p, 40000);
    EXPECT_LE(*p, 40009);
    EXPECT_TRUE(used.insert(*p).second);
  }
  EXPECT_FALSE(
      alloc.allocate(kLocal6, kRemote6, 80, [&](uint16_t q) { return used.count(q) > 0; }));
  // RFC 6056 §3.3.4 (Algorithm 4): the starting offset is per destination, so distinct IPv6
  // peers start at different ports (with a large range, compare the first picks of many).
  PortAllocator wide(kSecret, {1024, 65535});
  std::set<uint16_t> firsts;
  for (uint16_t i = 0; i < 32; ++i) {
    std::array<uint8_t, 16> b = kRemote6.bytes;
    b[15] = static_cast<uint8_t>(i + 1);
    firsts.insert(*wide.allocate(kLocal6, Ipv6Addr(b), 80, [](uint16_t) { return false; }));
  }
  EXPECT_GT(firsts.size(), 28u);
}

TEST(SynCookies6, CookieForAnIpv6TupleChecksOnlyForThatTuple) {
  SynCookies cookies(kSecret);
  const Instant now{};
  const wire::SeqNum peer_isn(12345);
  const auto cookie = cookies.make(tuple6(), peer_isn, 1440, now);
  auto mss = cookies.check(tuple6(), peer_isn, cookie, now);
  ASSERT_TRUE(mss);
  EXPECT_EQ(*mss, 1440);
  // Any other remote address (here one bit of its low half) is refused.
  EXPECT_FALSE(cookies.check(flipped(false, 120), peer_isn, cookie, now));
  EXPECT_FALSE(cookies.check(flipped(true, 3), peer_isn, cookie, now));
}

}  // namespace
}  // namespace utcp::stack
