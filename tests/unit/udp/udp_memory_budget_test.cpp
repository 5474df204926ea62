// SPDX-License-Identifier: BSD-2-Clause
// UDP receive queues in the stack-wide buffer budget (StackConfig::buffer_memory_limit, shared
// with the TCP rings): a reader that never reads cannot hold more than the budget; past it the
// datagrams are dropped and counted (udp.drop.memory), another socket still gets its
// guaranteed first 4 KiB, and closing the socket gives the memory back. Two stacks over the
// in-memory link on a virtual clock, fixed secrets (SimNetConfig).
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "support/counters.hpp"
#include "support/sim_net.hpp"

namespace utcp::test {
namespace {

TEST(UdpMemoryBudget, QueuesPastTheStackBudgetDropAndCount) {
  SimNetConfig cfg;
  cfg.b.buffer_memory_limit = 32768;
  SimNet net(cfg);
  std::error_code ec;
  const SocketId b = net.b().udp_bind(Endpoint{IpAddr(), 9000}, ec);
  ASSERT_FALSE(ec);
  const SocketId a = net.a().udp_bind(Endpoint{IpAddr(), 7000}, ec);
  ASSERT_FALSE(ec);
  const Endpoint to{net.b().config().address, 9000};
  const std::vector<uint8_t> payload(1000, 0x5a);
  for (int i = 0; i < 100; ++i) {
    net.a().send_to(a, payload, &to, ec);
    ASSERT_FALSE(ec);
    if (i % 10 == 9) net.advance(std::chrono::milliseconds(1));
  }
  const uint64_t dropped = counter(net.b(), "udp.drop.memory");
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(counter(net.b(), "udp.drop.queue-full"), 0u);  // the socket's own limit is 208 KiB
  EXPECT_LE(counter(net.b(), "tcp.mem.bytes"), 32768u);
  size_t got = 0;
  uint8_t buf[1500];
  while (net.b().recv_from(b, buf, ec) == payload.size()) ++got;
  EXPECT_EQ(got + dropped, 100u);
  EXPECT_LE(got * payload.size(), 32768u);
  // The budget is spent (the ring stays grown), but a new socket's first 4 KiB are its right.
  const SocketId b2 = net.b().udp_bind(Endpoint{IpAddr(), 9001}, ec);
  ASSERT_FALSE(ec);
  const Endpoint to2{net.b().config().address, 9001};
  net.a().send_to(a, payload, &to2, ec);
  net.advance(std::chrono::milliseconds(1));
  EXPECT_EQ(net.b().recv_from(b2, buf, ec), payload.size());
  net.b().close(b);
  net.b().close(b2);
  EXPECT_EQ(counter(net.b(), "tcp.mem.bytes"), 0u);
}

}  // namespace
}  // namespace utcp::test
