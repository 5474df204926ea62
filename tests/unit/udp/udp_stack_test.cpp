// SPDX-License-Identifier: BSD-2-Clause
// UDP through whole Stacks: two push-style stacks, the test carrying every packet by hand on
// a virtual clock. Datagrams both ways with their addressing, readiness, port unreachable
// from a closed port turned into connection_refused on the connected sender, fragmentation
// and reassembly of a datagram larger than the MTU, the receive queue bound, and UDP and TCP
// handles kept apart.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "support/counters.hpp"
#include "utcp/stack.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/udp.hpp"

namespace utcp {
namespace {

using test::counter;

const Ipv4Addr kA(10, 0, 0, 1);
const Ipv4Addr kB(10, 0, 0, 2);
const Ipv6Addr kA6(0xfd77, 0, 0, 0, 0, 0, 0, 1);
const Ipv6Addr kB6(0xfd77, 0, 0, 0, 0, 0, 0, 2);

uint32_t test_seed() {
  static const uint32_t seed = [] {
    const uint32_t s = std::random_device{}();
    std::printf("seed %u\n", s);
    return s;
  }();
  return seed;
}

StackConfig config_for(Ipv4Addr addr, const Ipv6Addr& addr6, uint32_t seed) {
  StackConfig c;
  c.address = addr;
  c.address6 = addr6;
  for (size_t i = 0; i < c.secret.size(); ++i)
    c.secret[i] = static_cast<uint8_t>(seed >> (i % 4 * 8));
  return c;
}

dev::DeviceCapabilities link_caps(size_t mtu) {
  dev::DeviceCapabilities c;
  c.mtu = mtu;
  return c;
}

struct Pair {
  explicit Pair(size_t mtu = 1500)
      : a(link_caps(mtu), config_for(kA, kA6, test_seed())),
        b(link_caps(mtu), config_for(kB, kB6, test_seed() + 1)),
        buf(65535) {
    a.process(now);
    b.process(now);
  }
  // Carries everything either side has to send; returns the packets carried.
  size_t carry() {
    size_t moved = 0;
    for (bool again = true; again;) {
      again = false;
      for (auto [from, to] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
        from->flush(now);
        while (const size_t n = from->poll_transmit(buf)) {
          again = true;
          ++moved;
          packets.emplace_back(buf.begin(), buf.begin() + static_cast<long>(n));
          to->input(std::span(buf).first(n), now);
        }
      }
    }
    return moved;
  }
  Instant now{};
  Stack a, b;
  std::vector<uint8_t> buf;
  std::vector<std::vector<uint8_t>> packets;  // everything carried, in order
};

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string recv_text(Stack& s, SocketId id, std::error_code& ec, Endpoint* from = nullptr,
                      DatagramInfo* info = nullptr) {
  std::vector<uint8_t> out(70000);
  const size_t n = s.recv_from(id, out, ec, from, info);
  return std::string(out.begin(), out.begin() + static_cast<long>(n));
}

TEST(UdpStack, DatagramsBothWaysWithAddressingAndReadiness) {
  Pair p;
  std::error_code ec;
  const SocketId server = p.b.udp_bind({Ipv4Addr(), 7}, ec);
  ASSERT_FALSE(ec) << ec.message();
  std::map<SocketId, uint32_t> seen;
  p.b.set_readiness_callback([&](SocketId id, uint32_t bits) { seen[id] = bits; });
  const SocketId client = p.a.udp_connect({kB, 7}, ec);
  ASSERT_FALSE(ec) << ec.message();
  const Endpoint client_ep = p.a.udp_local_endpoint(client);
  EXPECT_EQ(client_ep.addr, kA);
  EXPECT_NE(client_ep.port, 0);
  EXPECT_EQ(p.a.udp_remote_endpoint(client), (Endpoint{kB, 7}));
  EXPECT_EQ(p.a.readiness(client), ready::kWritable);

  EXPECT_EQ(p.a.send_to(client, bytes("hello"), nullptr, ec), 5u);
  ASSERT_FALSE(ec);
  EXPECT_EQ(p.carry(), 1u);
  // What went on the wire: IPv4 with DF (it fits), protocol 17, a valid UDP checksum.
  auto ip = wire::Ipv4Packet::parse(p.packets.at(0));
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->protocol(), 17);
  EXPECT_TRUE(ip->df());
  EXPECT_EQ(ip->src(), kA);
  auto udp = wire::UdpPacket::parse(ip->payload(), ip->src(), ip->dst());
  ASSERT_TRUE(udp.ok());
  EXPECT_NE(udp->checksum(), 0);
  EXPECT_EQ(udp->src_port(), client_ep.port);
  EXPECT_EQ(udp->dst_port(), 7);

  EXPECT_EQ(seen[server] & ready::kReadable, ready::kReadable);
  EXPECT_EQ(p.b.readiness(server), ready::kReadable | ready::kWritable);
  Endpoint from;
  DatagramInfo info;
  EXPECT_EQ(recv_text(p.b, server, ec, &from, &info), "hello");
  EXPECT_EQ(from, client_ep);
  EXPECT_EQ(info.dst, (Endpoint{kB, 7}));
  EXPECT_EQ(info.datagram_len, 5u);
  EXPECT_EQ(p.b.readiness(server), ready::kWritable);
  EXPECT_EQ(recv_text(p.b, server, ec), "");
  EXPECT_EQ(ec, std::errc::operation_would_block);

  EXPECT_EQ(p.b.send_to(server, bytes("HELLO"), &from, ec), 5u);
  p.carry();
  EXPECT_EQ(recv_text(p.a, client, ec), "HELLO");
  EXPECT_EQ(counter(p.b, "udp.in.delivered"), 1u);
  EXPECT_EQ(counter(p.a, "udp.out"), 1u);
  EXPECT_EQ(counter(p.b, "ip.in.udp"), 1u);
}

// RFC 1122 §4.1.3.1 and §4.1.3.3: a closed port answers with port unreachable, and the
// connected sender's next call fails with connection_refused (Linux's ECONNREFUSED).
TEST(UdpStack, ClosedPortIsRefusedOnTheConnectedSender) {
  Pair p;
  std::error_code ec;
  const SocketId client = p.a.udp_connect({kB, 9}, ec);
  ASSERT_FALSE(ec);
  const SocketId loose = p.a.udp_bind({Ipv4Addr(), 0}, ec);
  ASSERT_FALSE(ec);
  p.a.send_to(client, bytes("anyone?"), nullptr, ec);
  const Endpoint to{kB, 10};
  p.a.send_to(loose, bytes("anyone?"), &to, ec);
  EXPECT_EQ(p.carry(), 4u);  // two datagrams, two port unreachables
  EXPECT_EQ(counter(p.b, "icmp.out.port-unreachable"), 2u);
  EXPECT_EQ(counter(p.b, "udp.in.no-port"), 2u);
  EXPECT_EQ(p.a.readiness(client), ready::kReadable | ready::kWritable | ready::kError);
  EXPECT_EQ(recv_text(p.a, client, ec), "");
  EXPECT_EQ(ec, std::errc::connection_refused);
  EXPECT_EQ(p.a.readiness(client), ready::kWritable);  // reported once
  // The unconnected socket is not told (it could not tell which send failed).
  EXPECT_EQ(p.a.readiness(loose), ready::kWritable);
  EXPECT_EQ(counter(p.a, "udp.icmp.error-reported"), 1u);
  EXPECT_EQ(counter(p.a, "udp.icmp.error-ignored"), 1u);
}

// RFC 791 §3.2 on output, RFC 1122 §3.3.2 on input: 8000 bytes over a 1500-byte MTU.
TEST(UdpStack, LargeDatagramIsFragmentedAndReassembled) {
  Pair p(1500);
  std::error_code ec;
  const SocketId server = p.b.udp_bind({kB, 5000}, ec);
  const SocketId client = p.a.udp_bind({Ipv4Addr(), 0}, ec);
  std::mt19937 rng(test_seed());
  std::string data(8000, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  const Endpoint to{kB, 5000};
  ASSERT_EQ(p.a.send_to(client, bytes(data), &to, ec), data.size()) << ec.message();
  EXPECT_EQ(p.carry(), 6u);  // ceil(8008 / 1480) fragments
  for (const auto& pkt : p.packets) {
    EXPECT_LE(pkt.size(), 1500u);
    EXPECT_FALSE(wire::Ipv4Packet::parse(pkt)->df());
  }
  EXPECT_EQ(recv_text(p.b, server, ec), data);
  EXPECT_EQ(counter(p.b, "ip.frag.reassembled"), 1u);
  // The largest datagram IPv4 carries goes through too; one byte more is refused.
  std::string max(65507, 'm');
  EXPECT_EQ(p.a.send_to(client, bytes(max), &to, ec), max.size()) << ec.message();
  p.carry();
  EXPECT_EQ(recv_text(p.b, server, ec), max);
  max.push_back('!');
  EXPECT_EQ(p.a.send_to(client, bytes(max), &to, ec), 0u);
  EXPECT_EQ(ec, std::errc::message_size);
}

TEST(UdpStack, ReceiveQueueIsBoundedAndDropsAreCounted) {
  Pair p;
  std::error_code ec;
  const SocketId server = p.b.udp_bind({kB, 5001}, ec);
  p.b.set_udp_recv_queue(server, 4000, 100);
  const SocketId client = p.a.udp_connect({kB, 5001}, ec);
  const std::string kilo(1000, 'k');
  for (int i = 0; i < 10; ++i) p.a.send_to(client, bytes(kilo), nullptr, ec);
  p.carry();
  EXPECT_EQ(counter(p.b, "udp.drop.queue-full"), 6u);
  int got = 0;
  while (recv_text(p.b, server, ec) == kilo) ++got;
  EXPECT_EQ(got, 4);
  EXPECT_EQ(ec, std::errc::operation_would_block);
}

TEST(UdpStack, UdpAndTcpHandlesAreKeptApart) {
  Pair p;
  std::error_code ec;
  const SocketId u = p.b.udp_bind({kB, 80}, ec);
  ASSERT_FALSE(ec);
  const SocketId l = p.b.listen(80, ec);  // TCP port 80 is another port space
  ASSERT_FALSE(ec);
  std::vector<uint8_t> buf(10);
  EXPECT_EQ(p.b.recv(u, buf, ec), 0u);
  EXPECT_EQ(ec, std::errc::bad_file_descriptor);
  EXPECT_EQ(p.b.recv_from(l, buf, ec), 0u);
  EXPECT_EQ(ec, std::errc::bad_file_descriptor);
  EXPECT_EQ(p.b.state(u), tcp::State::kClosed);
  p.b.abort(u);  // ignored
  // A second bind of the port fails until the first socket closes.
  EXPECT_EQ(p.b.udp_bind({Ipv4Addr(), 80}, ec), kNoSocket);
  EXPECT_EQ(ec, std::errc::address_in_use);
  EXPECT_EQ(p.b.udp_bind({Ipv4Addr(192, 0, 2, 1), 81}, ec), kNoSocket);
  EXPECT_EQ(ec, std::errc::address_not_available);
  p.b.close(u);
  EXPECT_EQ(p.b.readiness(u), ready::kError);  // a stale handle
  const SocketId again = p.b.udp_bind({Ipv4Addr(), 80}, ec);
  EXPECT_FALSE(ec);
  EXPECT_NE(again, u);
  EXPECT_EQ(p.b.send_to(again, bytes("x"), nullptr, ec), 0u);
  EXPECT_EQ(ec, std::errc::destination_address_required);
}

// The same over IPv6 (RFC 8200 §8.1 checksums, RFC 4443 §3.1 code 4, RFC 8200 §4.5).
TEST(UdpStack, Ipv6DatagramsPortUnreachableAndFragments) {
  Pair p(1500);
  std::error_code ec;
  const SocketId server = p.b.udp_bind({Ipv6Addr(), 53}, ec);
  ASSERT_FALSE(ec) << ec.message();
  const SocketId v4_only = p.b.udp_bind({Ipv4Addr(), 53}, ec);  // its own port space
  ASSERT_FALSE(ec) << ec.message();
  const SocketId client = p.a.udp_connect({kB6, 53}, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(p.a.udp_local_endpoint(client).addr, IpAddr(kA6));
  EXPECT_EQ(p.a.send_to(client, bytes("query6"), nullptr, ec), 6u) << ec.message();
  EXPECT_EQ(p.carry(), 1u);
  auto ip = wire::Ipv6Packet::parse(p.packets.at(0));
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->next_header(), 17);
  EXPECT_NE(ip->flow_label(), 0u);  // RFC 6437
  auto udp = wire::UdpPacket::parse(ip->payload(), IpAddr(ip->src()), IpAddr(ip->dst()));
  ASSERT_TRUE(udp.ok());
  EXPECT_NE(udp->checksum(), 0);  // mandatory over IPv6
  Endpoint from;
  DatagramInfo info;
  EXPECT_EQ(recv_text(p.b, server, ec, &from, &info), "query6");
  EXPECT_EQ(from, p.a.udp_local_endpoint(client));
  EXPECT_EQ(info.dst, (Endpoint{kB6, 53}));
  EXPECT_EQ(p.b.readiness(v4_only), ready::kWritable);  // an IPv6 datagram is not its
  // A large answer: fragmented by the source, reassembled by the receiver.
  std::mt19937 rng(test_seed());
  std::string big(8000, '\0');
  for (auto& c : big) c = static_cast<char>(rng());
  EXPECT_EQ(p.b.send_to(server, bytes(big), &from, ec), big.size()) << ec.message();
  EXPECT_EQ(p.carry(), 6u);
  EXPECT_EQ(recv_text(p.a, client, ec), big);
  // A closed port: ICMPv6 port unreachable, connection_refused on the connected sender.
  const SocketId lost = p.a.udp_connect({kB6, 54}, ec);
  p.a.send_to(lost, bytes("?"), nullptr, ec);
  EXPECT_EQ(p.carry(), 2u);
  EXPECT_EQ(recv_text(p.a, lost, ec), "");
  EXPECT_EQ(ec, std::errc::connection_refused);
  EXPECT_EQ(counter(p.a, "udp.icmp.error-reported"), 1u);
}

}  // namespace
}  // namespace utcp
