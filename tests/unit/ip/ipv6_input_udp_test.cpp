// SPDX-License-Identifier: BSD-2-Clause
// IPv6 input and UDP: datagrams delivered (with the whole packet, for a port unreachable),
// the kernel's ICMPv6 port unreachable about our datagram decoded for UDP, and the answer
// to a datagram no socket takes (RFC 4443 §3.1 code 4, rate-limited per §2.4(f)).
#include <gtest/gtest.h>

#include <vector>

#include "ip/ipv6_input.hpp"
#include "unit/wire/hex_vectors.hpp"
#include "wire/icmpv6.hpp"
#include "wire/udp.hpp"

namespace utcp::ip {
namespace {

const wire::Ipv6Addr kKernel(0xfd77, 0, 0, 0, 0, 0, 0, 1);
const wire::Ipv6Addr kStack(0xfd77, 0, 0, 0, 0, 0, 0, 2);

TEST(Ipv6InputUdp, KernelDatagramIsDelivered) {
  Ipv6Output output;
  Ipv6Input input({.local_addresses = {kStack}}, output);
  std::vector<uint8_t> reply(1500);
  const auto packet = wire::load_hex("kernel6-udp");
  const Ipv6InputResult r = input.input(packet, instant_from_us(0), reply);
  ASSERT_EQ(r.action, InputAction::kUdp);
  EXPECT_EQ(r.src, kKernel);
  EXPECT_EQ(r.dst, kStack);
  EXPECT_EQ(r.datagram.size(), packet.size());
  auto udp = wire::UdpPacket::parse(r.payload, IpAddr(r.src), IpAddr(r.dst));
  ASSERT_TRUE(udp.ok());
  EXPECT_EQ(udp->dst_port(), 5353);
  // No socket: ICMPv6 destination unreachable, port (code 4), quoting the packet.
  const auto answer = input.make_error(r.datagram, wire::icmpv6_type::kDestUnreachable,
                                       wire::icmpv6_unreach::kPort, 0, instant_from_us(0), reply);
  ASSERT_FALSE(answer.empty());
  auto ip = wire::Ipv6Packet::parse(answer);
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->dst(), kKernel);
  auto icmp = wire::Icmpv6Packet::parse(ip->payload(), ip->src(), ip->dst());
  ASSERT_TRUE(icmp.ok());
  EXPECT_EQ(icmp->type(), 1);
  EXPECT_EQ(icmp->code(), 4);
  EXPECT_EQ(std::vector<uint8_t>(icmp->data().begin(), icmp->data().end()), packet);
}

// tests/data/kernel6-port-unreach.hex: the kernel answering our [fd77::2]:40102 ->
// [fd77::1]:6002 datagram.
TEST(Ipv6InputUdp, KernelPortUnreachableIsAUdpIcmpError) {
  Ipv6Output output;
  Ipv6Input input({.local_addresses = {kStack}}, output);
  std::vector<uint8_t> reply(1500);
  const Ipv6InputResult r =
      input.input(wire::load_hex("kernel6-port-unreach"), instant_from_us(0), reply);
  ASSERT_EQ(r.action, InputAction::kUdpIcmpError);
  EXPECT_EQ(r.icmp_error->protocol, wire::ipv6_next::kUdp);
  EXPECT_TRUE(r.icmp_error->is_v6());
  EXPECT_EQ(r.icmp_error->type, 1);
  EXPECT_EQ(r.icmp_error->code, 4);
  EXPECT_EQ(r.icmp_error->local_addr, IpAddr(kStack));
  EXPECT_EQ(r.icmp_error->local_port, 40102);
  EXPECT_EQ(r.icmp_error->remote_addr, IpAddr(kKernel));
  EXPECT_EQ(r.icmp_error->remote_port, 6002);
}

}  // namespace
}  // namespace utcp::ip
