// SPDX-License-Identifier: BSD-2-Clause
// RFC 9293 §3.9.1.1 and §3.10.7.4 rules that belong to the Stack rather than to one
// connection: OPEN calls and how queued input is processed. Two stacks on virtual time.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "support/sim_net.hpp"
#include "utcp/memory_link.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace utcp::test {
namespace {

bool connected(Stack& s, SocketId id) {
  return (s.readiness(id) & ready::kConnected) != 0;
}

// MUST-46: an OPEN to an invalid remote address is an error, and creates nothing.
TEST(StackOpen, RejectsBroadcastMulticastAndUnspecifiedDestinations) {
  SimNet net;
  for (auto addr : {wire::Ipv4Addr(0, 0, 0, 0), wire::Ipv4Addr(255, 255, 255, 255),
                    wire::Ipv4Addr(224, 0, 0, 1), wire::Ipv4Addr(239, 1, 2, 3),
                    wire::Ipv4Addr(240, 0, 0, 1), net.a().config().address}) {
    std::error_code ec;
    EXPECT_EQ(net.a().connect(addr, 80, ec), kNoSocket) << addr.to_string();
    EXPECT_EQ(ec, std::make_error_code(std::errc::network_unreachable)) << addr.to_string();
  }
  EXPECT_EQ(net.a().connection_count(), 0u);
}

// MUST-42: LISTEN on a port while a connection with that local port is still opening.
TEST(StackOpen, ListenOnAPortWhoseConnectionIsInSynSent) {
  SimNet net;
  std::error_code ec;
  // B has no listener on 9: A's SYN will be refused later, but A is in SYN-SENT first.
  SocketId c = net.a().connect(net.b().config().address, 9, ec, 4000);
  ASSERT_FALSE(ec);
  EXPECT_EQ(net.a().state(c), tcp::State::kSynSent);
  SocketId l = net.a().listen(4000, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(net.a().state(l), tcp::State::kListen);
  // And the listener works: B connects to it.
  SocketId bc = net.b().connect(net.a().config().address, 4000, ec);
  ASSERT_FALSE(ec);
  SocketId accepted = kNoSocket;
  ASSERT_TRUE(net.run_until(
      [&] {
        if (accepted == kNoSocket) accepted = net.a().accept(l, ec);
        return accepted != kNoSocket && connected(net.b(), bc);
      },
      std::chrono::seconds(5)));
}

// MUST-41: a passive OPEN creates a listener or fails; it never disturbs existing connections.
TEST(StackOpen, PassiveOpenLeavesExistingConnectionsAlone) {
  SimNet net;
  std::error_code ec;
  const SimPair pair = establish(net, 80);
  const SocketId c = pair.client, s = pair.server;
  ASSERT_NE(s, kNoSocket);
  EXPECT_EQ(net.b().listen(80, ec), kNoSocket);  // the port has a listener: an error ...
  EXPECT_EQ(ec, std::make_error_code(std::errc::address_in_use));
  net.b().close(pair.listener);
  SocketId l2 = net.b().listen(80, ec);  // ... and a new one after closing the old
  ASSERT_FALSE(ec);
  EXPECT_NE(l2, kNoSocket);
  // The established connection is untouched and still carries data.
  const uint8_t msg[] = "still here";
  ASSERT_EQ(net.a().send(c, msg, ec), sizeof msg);
  uint8_t buf[32];
  size_t got = 0;
  ASSERT_TRUE(net.run_until(
      [&] {
        got += net.b().recv(s, std::span(buf).subspan(got), ec);
        return got == sizeof msg;
      },
      std::chrono::seconds(5)));
  EXPECT_EQ(0, std::memcmp(buf, msg, sizeof msg));
  EXPECT_EQ(net.b().state(s), tcp::State::kEstablished);
}

// MUST-59: segments queued together are all processed before any ACK is sent, so a burst of
// four full segments draws one cumulative ACK rather than one per segment.
TEST(StackInput, ProcessesAQueuedBurstBeforeAcking) {
  SimNet net;
  std::error_code ec;
  const SimPair pair = establish(net, 80);
  const SocketId c = pair.client, s = pair.server;
  ASSERT_NE(s, kNoSocket);
  net.advance(std::chrono::seconds(1));  // let every handshake ACK settle
  std::vector<std::string> b_out;
  net.b().set_trace([&](char dir, std::string_view line) {
    if (dir == '>') b_out.emplace_back(line);
  });
  std::vector<uint8_t> data(4 * 1448, 0x5a);
  ASSERT_EQ(net.a().send(c, data, ec), data.size());
  net.a().process(net.now());  // A puts all four segments on the link at once
  net.b().process(net.now());  // B reads them in one batch
  ASSERT_EQ(b_out.size(), 1u) << "B answered the burst with " << b_out.size() << " segments";
  EXPECT_NE(b_out[0].find("[.]"), std::string::npos) << b_out[0];
  EXPECT_EQ(net.b().recv_available(s), data.size());
}

// Reads the first packet a Stack put on its end of a bare MemoryLink.
std::vector<uint8_t> first_packet(dev::MemoryLink& link) {
  std::vector<uint8_t> buf(2048);
  dev::PacketSlot slot{buf, 0};
  if (link.b().receive(std::span(&slot, 1), Instant{}) != 1) return {};
  buf.resize(slot.len);
  return buf;
}

// MUST-49: the TTL is configurable.
TEST(StackOutput, TtlComesFromTheConfiguration) {
  dev::MemoryLink link;
  StackConfig cfg;
  cfg.ttl = 7;
  cfg.secret[0] = 1;
  Stack a(link.a(), cfg);
  std::error_code ec;
  a.connect(wire::Ipv4Addr(10, 77, 0, 1), 80, ec);
  ASSERT_FALSE(ec);
  a.process(Instant{});
  auto packet = first_packet(link);
  auto ip = wire::Ipv4Packet::parse(packet);
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->ttl(), 7);
  EXPECT_TRUE(ip->df());
}

// MUST-9: with no secret configured the stack draws one, so two stacks opening the same
// 4-tuple at the same instant choose different ISNs.
TEST(StackOutput, UnsetSecretIsDrawnAtRandom) {
  uint32_t isn[2];
  for (int i = 0; i < 2; ++i) {
    dev::MemoryLink link;
    Stack a(link.a(), StackConfig{});
    std::error_code ec;
    a.connect(wire::Ipv4Addr(10, 77, 0, 1), 80, ec, 40000);
    a.process(Instant{});
    auto packet = first_packet(link);
    auto ip = wire::Ipv4Packet::parse(packet);
    ASSERT_TRUE(ip.ok());
    auto seg = wire::TcpPacket::parse(ip->payload(), ip->src(), ip->dst());
    ASSERT_TRUE(seg.ok());
    ASSERT_TRUE(seg->syn());
    isn[i] = seg->seq().raw();
  }
  EXPECT_NE(isn[0], isn[1]);
}

// MUST-32/33: the application learns that urgent data is pending and where it ends.
TEST(StackUrgent, MarkAndReadinessReachTheApplication) {
  SimNet net;
  std::error_code ec;
  const SimPair pair = establish(net, 80);
  const SocketId c = pair.client, s = pair.server;
  ASSERT_NE(s, kNoSocket);
  const uint8_t normal[] = {'a', 'b', 'c'};
  const uint8_t urgent[] = {'!'};
  ASSERT_EQ(net.a().send(c, normal, ec), 3u);
  ASSERT_EQ(net.a().send_urgent(c, urgent, ec), 1u);
  ASSERT_TRUE(
      net.run_until([&] { return net.b().recv_available(s) == 4; }, std::chrono::seconds(5)));
  EXPECT_TRUE(net.b().readiness(s) & ready::kUrgent);
  ASSERT_TRUE(net.b().urgent_mark(s).has_value());
  EXPECT_EQ(*net.b().urgent_mark(s), 4u);  // the urgent byte is the 4th from here (inline)
  uint8_t buf[4];
  ASSERT_EQ(net.b().recv(s, buf, ec), 4u);
  EXPECT_EQ(buf[3], '!');
  EXPECT_FALSE(net.b().urgent_mark(s).has_value());
  EXPECT_FALSE(net.b().readiness(s) & ready::kUrgent);
}

}  // namespace
}  // namespace utcp::test
