// SPDX-License-Identifier: BSD-2-Clause
// ICMP and ICMPv6 errors as a connected UDP socket sees them (Linux's errno values).
#include <gtest/gtest.h>

#include "udp/udp_icmp.hpp"

namespace utcp::udp {
namespace {

TEST(UdpIcmp, Ipv4Mapping) {
  EXPECT_EQ(udp_error_from_icmp(3, 3), std::errc::connection_refused);
  EXPECT_EQ(udp_error_from_icmp(3, 0), std::errc::network_unreachable);
  EXPECT_EQ(udp_error_from_icmp(3, 1), std::errc::host_unreachable);
  EXPECT_EQ(udp_error_from_icmp(3, 2), std::errc::no_protocol_option);
  EXPECT_EQ(udp_error_from_icmp(3, 13), std::errc::host_unreachable);
  EXPECT_EQ(udp_error_from_icmp(11, 0), std::errc::host_unreachable);
  EXPECT_EQ(udp_error_from_icmp(12, 0), std::errc::protocol_error);
  EXPECT_FALSE(udp_error_from_icmp(3, 4).has_value());  // fragmentation needed: PMTU
  EXPECT_FALSE(udp_error_from_icmp(4, 0).has_value());  // source quench (RFC 6633)
  EXPECT_FALSE(udp_error_from_icmp(0, 0).has_value());  // echo reply
}

TEST(UdpIcmp, Ipv6Mapping) {
  EXPECT_EQ(udp_error_from_icmpv6(1, 4), std::errc::connection_refused);
  EXPECT_EQ(udp_error_from_icmpv6(1, 0), std::errc::network_unreachable);
  EXPECT_EQ(udp_error_from_icmpv6(1, 1), std::errc::permission_denied);
  EXPECT_EQ(udp_error_from_icmpv6(1, 3), std::errc::host_unreachable);
  EXPECT_EQ(udp_error_from_icmpv6(3, 0), std::errc::host_unreachable);
  EXPECT_EQ(udp_error_from_icmpv6(4, 1), std::errc::protocol_error);
  EXPECT_FALSE(udp_error_from_icmpv6(2, 0).has_value());  // packet too big: PMTU
  EXPECT_FALSE(udp_error_from_icmpv6(128, 0).has_value());
}

}  // namespace
}  // namespace utcp::udp
