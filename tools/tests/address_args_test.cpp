// SPDX-License-Identifier: BSD-2-Clause
// The tools' address arguments: HOST in either family (brackets allowed), HOST:PORT with
// an IPv6 HOST in brackets, endpoints printed as RFC 5952 §6 writes them, and the IPv6
// setup resolved from the flags.
#include <gtest/gtest.h>

#include "common_options.hpp"

namespace utcp::tools {
namespace {

const Ipv6Addr kFd77_1(0xfd77, 0, 0, 0, 0, 0, 0, 1);

TEST(AddressArgs, HostTakesEitherFamilyAndBrackets) {
  EXPECT_EQ(parse_host("10.77.0.1"), IpAddr(Ipv4Addr(10, 77, 0, 1)));
  EXPECT_EQ(parse_host("fd77::1"), IpAddr(kFd77_1));
  EXPECT_EQ(parse_host("[fd77::1]"), IpAddr(kFd77_1));
  EXPECT_EQ(parse_host("::ffff:10.77.0.1"), IpAddr(Ipv6Addr::v4_mapped(Ipv4Addr(10, 77, 0, 1))));
  for (const char* bad : {"", "[]", "[10.77.0.1]", "[fd77::1", "fd77::1]", "fd77::1%eth0",
                          "fd77:::1", "host", "10.77.0.256"}) {
    EXPECT_FALSE(parse_host(bad)) << bad;
  }
}

TEST(AddressArgs, HostPortNeedsBracketsAroundIpv6) {
  using HostPort = std::optional<std::pair<IpAddr, uint16_t>>;
  EXPECT_EQ(parse_host_port("10.77.0.1:5001"), HostPort({Ipv4Addr(10, 77, 0, 1), 5001}));
  EXPECT_EQ(parse_host_port("[fd77::1]:5001"), HostPort({kFd77_1, 5001}));
  EXPECT_EQ(parse_host_port("[::ffff:10.77.0.1]:80"),
            HostPort({Ipv6Addr::v4_mapped(Ipv4Addr(10, 77, 0, 1)), 80}));
  // fd77::1:5001 is itself a valid address: without brackets there is no telling.
  for (const char* bad :
       {"fd77::1:5001", "[fd77::1]", "[fd77::1]:", "[fd77::1]:0", "[fd77::1]:65536", "10.77.0.1",
        "10.77.0.1:", ":80", "10.77.0.1:http", "[fd77::1]5001", "10.77.0.1:+80"}) {
    EXPECT_FALSE(parse_host_port(bad)) << bad;
  }
}

TEST(AddressArgs, EndpointsPrintInBracketsForIpv6) {
  EXPECT_EQ(format_endpoint(Ipv4Addr(10, 77, 0, 2), 7), "10.77.0.2:7");
  EXPECT_EQ(format_endpoint(Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 2), 8080), "[fd77::2]:8080");
}

TEST(AddressArgs, Ipv6SetupFollowsTheFlags) {
  CommonOptions o;
  Ipv6Setup v6 = resolve_ipv6(o);
  if (!v6.enabled) GTEST_SKIP() << v6.off_why;  // a kernel without IPv6
  EXPECT_EQ(v6.addr, Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 2));
  EXPECT_EQ(v6.host, kFd77_1);
  EXPECT_EQ(v6.prefix, 64);

  o.host_addr6 = "fd77:1::1/48";
  v6 = resolve_ipv6(o);
  EXPECT_EQ(v6.prefix, 48);

  o.no_ipv6 = true;
  EXPECT_FALSE(resolve_ipv6(o).enabled);

  // Below IPv6's minimum MTU: off by itself, an error when IPv6 was asked for by name.
  o = CommonOptions{};
  o.mtu = 576;
  v6 = resolve_ipv6(o);
  EXPECT_FALSE(v6.enabled);
  EXPECT_NE(v6.off_why.find("1280"), std::string::npos) << v6.off_why;
  o.ipv6_given = true;
  EXPECT_THROW(resolve_ipv6(o), UsageError);

  o = CommonOptions{};
  o.addr6 = "fd77::1";
  EXPECT_THROW(resolve_ipv6(o), UsageError);  // the same as the kernel's
}

}  // namespace
}  // namespace utcp::tools
