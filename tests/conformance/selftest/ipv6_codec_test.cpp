// SPDX-License-Identifier: BSD-2-Clause
// The runner's IPv6 side: ICMP lines in packetdrill's words for both families, the packets
// built for an IPv6 flow (valid headers and checksums over the IPv6 pseudo-header), outbound
// IPv6 segments decoded, and the --ip_version option.
#include <gtest/gtest.h>

#include "packet_codec.hpp"
#include "runner.hpp"
#include "script_parser.hpp"
#include "wire/checksum.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv6.hpp"

namespace utcp::drill {
namespace {

const Ipv6Addr kLocal(0xfd3d, 0xfa7b, 0xd17d, 0, 0, 0, 0, 0);
const Ipv6Addr kRemote(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);

PacketSpec packet_of(const std::string& line) {
  auto r = parse_script("0 " + line + "\n", "t.pkt");
  EXPECT_TRUE(r.script) << r.error;
  return r.script->events.at(0).packet;
}

Flow v6_flow() {
  Flow f;
  f.local_ip = kLocal;
  f.remote_ip = kRemote;
  f.local_port = 8080;
  f.remote_port = 40000;
  f.known = true;
  f.local_isn = 1000;
  return f;
}

TEST(Ipv6Codec, IcmpNamesOfBothFamilies) {
  const PacketSpec port = packet_of("< icmp unreachable port_unreachable [0:0(0)]");
  EXPECT_TRUE(port.icmp4 && port.icmp6);
  EXPECT_EQ(port.icmp_type, 3);
  EXPECT_EQ(port.icmp_code, 3);
  EXPECT_EQ(port.icmp6_type, 1);  // RFC 4443 §3.1
  EXPECT_EQ(port.icmp6_code, 4);
  const PacketSpec ptb = packet_of("< icmp packet_too_big mtu 1280 [1:1441(1440)]");
  EXPECT_FALSE(ptb.icmp4);
  EXPECT_EQ(ptb.icmp6_type, 2);  // §3.2
  EXPECT_EQ(*ptb.icmp_mtu, 1280u);
  const PacketSpec hop = packet_of("< icmp time_exceeded exceeded_hop_limit [1:101(100)]");
  EXPECT_EQ(hop.icmp6_type, 3);
  EXPECT_EQ(hop.icmp6_code, 0);
  const PacketSpec frag = packet_of("< icmp unreachable frag_needed mtu 1000 [1:101(100)]");
  EXPECT_TRUE(frag.icmp4);
  EXPECT_FALSE(frag.icmp6);  // IPv6 routers send Packet Too Big instead
  const PacketSpec param = packet_of("< icmp parameter_problem unknown_next_header [1:101(100)]");
  EXPECT_EQ(param.icmp6_type, 4);
  EXPECT_EQ(param.icmp6_code, 1);
  EXPECT_FALSE(parse_script("0 < icmp unreachable bogus [0:0(0)]\n", "t.pkt").script);
  EXPECT_FALSE(parse_script("0 < icmp bogus [0:0(0)]\n", "t.pkt").script);
}

TEST(Ipv6Codec, InboundTcpIsAValidIpv6Segment) {
  std::string error;
  const auto bytes = build_inbound(packet_of("< P. 1:101(100) ack 1 win 65535"), v6_flow(), error);
  ASSERT_FALSE(bytes.empty()) << error;
  auto ip = wire::Ipv6Packet::parse(bytes);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->src(), kRemote);
  EXPECT_EQ(ip->dst(), kLocal);
  EXPECT_EQ(ip->next_header(), 6);
  const auto tcp = tcp_of(bytes);  // verifies the checksum over the IPv6 pseudo-header
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp->payload().size(), 100u);
  EXPECT_EQ(tcp->ack().raw(), 1001u);  // script ack 1 + the stack's ISN
}

TEST(Ipv6Codec, InboundIcmpv6QuotesTheStacksSegment) {
  std::string error;
  const auto bytes =
      build_inbound(packet_of("< icmp packet_too_big mtu 1280 [1:1441(1440)]"), v6_flow(), error);
  ASSERT_FALSE(bytes.empty()) << error;
  auto ip = wire::Ipv6Packet::parse(bytes);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->next_header(), 58);
  auto icmp = wire::Icmpv6Packet::parse(ip->payload(), ip->src(), ip->dst());
  ASSERT_TRUE(icmp) << "ICMPv6 checksum over the pseudo-header (RFC 4443 §2.3)";
  EXPECT_EQ(icmp->type(), 2);
  const auto body = ip->payload();
  EXPECT_EQ(uint32_t{body[4]} << 24 | uint32_t{body[5]} << 16 | uint32_t{body[6]} << 8 | body[7],
            1280u);
  auto quoted = wire::Ipv6Packet::parse_quoted(body.subspan(8));
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted->src(), kLocal);
  EXPECT_EQ(quoted->dst(), kRemote);
  const auto t = quoted->payload();
  EXPECT_EQ(t[0] << 8 | t[1], 8080);
  EXPECT_EQ(uint32_t{t[4]} << 24 | uint32_t{t[5]} << 16 | uint32_t{t[6]} << 8 | t[7], 1001u);

  // IPv4's "fragmentation needed" has no IPv6 form; Packet Too Big no IPv4 one.
  EXPECT_TRUE(build_inbound(packet_of("< icmp unreachable frag_needed mtu 1000 [1:101(100)]"),
                            v6_flow(), error)
                  .empty());
  EXPECT_NE(error.find("no ICMPv6 form"), std::string::npos) << error;
  Flow v4;
  v4.local_ip = Ipv4Addr(192, 168, 0, 1);
  v4.remote_ip = Ipv4Addr(192, 0, 2, 1);
  EXPECT_TRUE(
      build_inbound(packet_of("< icmp packet_too_big mtu 1280 [1:101(100)]"), v4, error).empty());
}

TEST(Ipv6Codec, OutboundIpv6SegmentsDecode) {
  Flow flow = v6_flow();
  flow.local_isn.reset();
  // The stack's SYN-ACK, as the script's SYN would draw it.
  std::string error;
  Flow reverse = flow;
  std::swap(reverse.local_ip, reverse.remote_ip);
  std::swap(reverse.local_port, reverse.remote_port);
  const auto synack =
      build_inbound(packet_of("< S. 5000:5000(0) ack 1 win 65535 <mss 1440>"), reverse, error);
  ASSERT_FALSE(synack.empty()) << error;
  const auto o = decode_outbound(synack, flow, error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->src, IpAddr(kLocal));
  EXPECT_EQ(*flow.local_isn, 5000u);
  EXPECT_EQ(o->rel_seq, 0u);
  EXPECT_NE(format_packet(synack).find("fd3d:fa7b:d17d:: > 2001:db8::1"), std::string::npos)
      << format_packet(synack);
}

TEST(Ipv6Codec, IpVersionPicksTheAddresses) {
  RunConfig cfg;
  std::string error;
  EXPECT_EQ(cfg.local_ip(), IpAddr(Ipv4Addr(192, 168, 0, 1)));
  ASSERT_TRUE(apply_option(cfg, "ip_version", "ipv6", error)) << error;
  EXPECT_EQ(cfg.local_ip(), IpAddr(kLocal));
  EXPECT_EQ(cfg.remote_ip(), IpAddr(kRemote));
  ASSERT_TRUE(apply_option(cfg, "ip_version", "ipv4-mapped-ipv6", error)) << error;
  EXPECT_EQ(cfg.remote_ip(), IpAddr(Ipv4Addr(192, 0, 2, 1)));
  ASSERT_TRUE(apply_option(cfg, "local_ip", "fd00::5", error)) << error;
  EXPECT_EQ(cfg.local_ip(), IpAddr(Ipv6Addr(0xfd00, 0, 0, 0, 0, 0, 0, 5)));
  EXPECT_FALSE(apply_option(cfg, "ip_version", "ipv5", error));
  EXPECT_FALSE(apply_option(cfg, "local_ip", "fd00::g", error));
}

}  // namespace
}  // namespace utcp::drill
