// SPDX-License-Identifier: BSD-2-Clause
// Ipv6Addr and IpAddr: RFC 4291 §2.2 text input, RFC 5952 canonical output, IPv4-mapped
// addresses, ordering and hashing.
#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

#include "utcp/address.hpp"

namespace utcp {
namespace {

std::string canon(std::string_view text) {
  auto a = Ipv6Addr::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a ? a->to_string() : std::string("<invalid>");
}

TEST(Ipv6Addr, ParsesEveryRfc4291TextForm) {
  const Ipv6Addr want(0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a);
  EXPECT_EQ(Ipv6Addr::parse("2001:DB8:0:0:8:800:200C:417A"), want);
  EXPECT_EQ(Ipv6Addr::parse("2001:db8::8:800:200c:417a"), want);
  EXPECT_EQ(Ipv6Addr::parse("::"), Ipv6Addr());
  EXPECT_EQ(Ipv6Addr::parse("::1"), Ipv6Addr(0, 0, 0, 0, 0, 0, 0, 1));
  EXPECT_EQ(Ipv6Addr::parse("ff01::101"), Ipv6Addr(0xff01, 0, 0, 0, 0, 0, 0, 0x101));
  EXPECT_EQ(Ipv6Addr::parse("fd77::"), Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 0));
  EXPECT_EQ(Ipv6Addr::parse("0:0:0:0:0:0:13.1.68.3"), Ipv6Addr(0, 0, 0, 0, 0, 0, 0x0d01, 0x4403));
  EXPECT_EQ(Ipv6Addr::parse("::FFFF:129.144.52.38"),
            Ipv6Addr::v4_mapped(Ipv4Addr(129, 144, 52, 38)));
  // "::" may stand for a single zero group on input (RFC 5952 only forbids it on output).
  EXPECT_EQ(Ipv6Addr::parse("1::3:4:5:6:7:8"), Ipv6Addr(1, 0, 3, 4, 5, 6, 7, 8));
}

// RFC 5952 §4: the examples of each rule, and §2's "all of these are the same address".
TEST(Ipv6Addr, ToStringIsTheRfc5952CanonicalForm) {
  for (const char* same :
       {"2001:db8:0:0:1:0:0:1", "2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", "2001:db8::0:1:0:0:1",
        "2001:0db8::1:0:0:1", "2001:db8:0:0:1::1", "2001:db8:0000:0:1::1", "2001:DB8:0:0:1::1"}) {
    EXPECT_EQ(canon(same), "2001:db8::1:0:0:1") << same;  // §4.2.3: the first longest run
  }
  EXPECT_EQ(canon("2001:0db8::0001"), "2001:db8::1");                // §4.1 leading zeros
  EXPECT_EQ(canon("2001:db8:0:0:0:0:2:1"), "2001:db8::2:1");         // §4.2.1 longest
  EXPECT_EQ(canon("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");  // §4.2.2 not one group
  EXPECT_EQ(canon("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");           // §4.2.3 longest run
  EXPECT_EQ(canon("2001:DB8::AAAA"), "2001:db8::aaaa");              // §4.3 lower case
  EXPECT_EQ(canon("0:0:0:0:0:0:0:0"), "::");
  EXPECT_EQ(canon("0:0:0:0:0:0:0:1"), "::1");
  EXPECT_EQ(canon("1:0:0:0:0:0:0:0"), "1::");
  EXPECT_EQ(canon("fd77:0:0:0:0:0:0:2"), "fd77::2");
  EXPECT_EQ(canon("0:0:0:0:0:ffff:c000:0280"), "::ffff:192.0.2.128");  // §5 IPv4-mapped
}

TEST(Ipv6Addr, RejectsMalformedText) {
  for (const char* bad : {"",
                          ":",
                          ":::",
                          "1:::2",
                          "1::2::3",
                          "1:2:3:4:5:6:7",
                          "1:2:3:4:5:6:7:8:9",
                          "12345::",
                          "g::1",
                          "1:2:3:4:5:6:7:8::",
                          "::1:2:3:4:5:6:7:8",
                          ":1:2:3:4:5:6:7:8",
                          "1:2:3:4:5:6:7:8:",
                          "1:2:3:4:5:6:7::8",
                          "fe80::1%eth0",
                          "[::1]",
                          "::1.2.3",
                          "::1.2.3.256",
                          "1.2.3.4::",
                          "1:2:3:4:5:6:7:1.2.3.4",
                          " ::1",
                          "::1 ",
                          "-1::",
                          "0x1::",
                          "1.2.3.4",
                          "::ffff:1.2.3.4:5"}) {
    EXPECT_FALSE(Ipv6Addr::parse(bad).has_value()) << '"' << bad << '"';
  }
}

TEST(Ipv6Addr, Ipv4MappedDetectionAndClassification) {
  const auto mapped = Ipv6Addr::v4_mapped(Ipv4Addr(10, 77, 0, 2));
  EXPECT_TRUE(mapped.is_v4_mapped());
  EXPECT_EQ(mapped.to_v4_mapped(), Ipv4Addr(10, 77, 0, 2));
  EXPECT_FALSE(Ipv6Addr(0, 0, 0, 0, 0, 0xfffe, 0x0a4d, 2).is_v4_mapped());
  EXPECT_FALSE(Ipv6Addr(0, 0, 0, 0, 0, 0, 0x0a4d, 2).is_v4_mapped());  // IPv4-compatible
  EXPECT_FALSE(Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 2).to_v4_mapped().has_value());
  EXPECT_TRUE(Ipv6Addr::parse("ff02::1")->is_multicast());
  EXPECT_FALSE(Ipv6Addr::parse("fd77::1")->is_multicast());
  EXPECT_TRUE(Ipv6Addr::parse("fe80::1")->is_link_local());
  EXPECT_TRUE(Ipv6Addr::parse("::1")->is_loopback());
  EXPECT_TRUE(Ipv6Addr().is_unspecified());
}

TEST(IpAddr, HoldsEitherFamily) {
  const IpAddr v4 = Ipv4Addr(10, 77, 0, 2);
  const IpAddr v6 = *Ipv6Addr::parse("fd77::2");
  EXPECT_TRUE(v4.is_v4());
  EXPECT_FALSE(v4.is_v6());
  EXPECT_EQ(v4.v4(), Ipv4Addr(10, 77, 0, 2));
  EXPECT_TRUE(v6.is_v6());
  EXPECT_EQ(v6.v6(), Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 2));
  EXPECT_EQ(v4.to_string(), "10.77.0.2");
  EXPECT_EQ(v6.to_string(), "fd77::2");
  EXPECT_EQ(IpAddr::parse("10.77.0.2"), v4);
  EXPECT_EQ(IpAddr::parse("FD77:0::2"), v6);
  EXPECT_FALSE(IpAddr::parse("10.77.0").has_value());
  EXPECT_FALSE(IpAddr::parse("fd77::2::").has_value());
  EXPECT_FALSE(IpAddr::parse("[fd77::2]").has_value());
  EXPECT_TRUE(IpAddr().is_v4());
  EXPECT_TRUE(IpAddr().is_unspecified());
  EXPECT_TRUE(IpAddr(Ipv6Addr()).is_unspecified());
}

TEST(IpAddr, FamilyIsPartOfTheValue) {
  const IpAddr v4 = Ipv4Addr(192, 0, 2, 1);
  const IpAddr mapped = Ipv6Addr::v4_mapped(Ipv4Addr(192, 0, 2, 1));
  EXPECT_NE(v4, mapped);
  EXPECT_EQ(mapped.to_string(), "::ffff:192.0.2.1");
  EXPECT_LT(IpAddr(Ipv4Addr(255, 255, 255, 255)), IpAddr(Ipv6Addr()));  // v4 before v6
  EXPECT_LT(IpAddr(Ipv4Addr(1, 0, 0, 0)), IpAddr(Ipv4Addr(2, 0, 0, 0)));
  EXPECT_LT(IpAddr(*Ipv6Addr::parse("fd77::1")), IpAddr(*Ipv6Addr::parse("fd77::2")));
}

TEST(IpAddr, HashesAsAnUnorderedKey) {
  std::unordered_set<IpAddr> set;
  set.insert(Ipv4Addr(192, 0, 2, 1));
  set.insert(Ipv6Addr::v4_mapped(Ipv4Addr(192, 0, 2, 1)));
  set.insert(*Ipv6Addr::parse("fd77::1"));
  set.insert(*IpAddr::parse("fd77:0:0::1"));  // the same as the one before
  EXPECT_EQ(set.size(), 3u);
  EXPECT_TRUE(set.count(*IpAddr::parse("192.0.2.1")));
  EXPECT_FALSE(set.count(*IpAddr::parse("fd77::2")));
  EXPECT_NE(std::hash<Ipv6Addr>()(*Ipv6Addr::parse("fd77::1")),
            std::hash<Ipv6Addr>()(*Ipv6Addr::parse("fd77::2")));
}

}  // namespace
}  // namespace utcp
