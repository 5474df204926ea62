// SPDX-License-Identifier: BSD-2-Clause
// Two Stacks over the in-memory link: handshake through listeners and ephemeral ports,
// bulk transfer both ways with byte-exact checks, half-close, reset paths; then the same
// over a link that drops, duplicates, reorders and corrupts. Virtual time, fixed seeds.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "support/both_ways_transfer.hpp"
#include "support/sim_net.hpp"

namespace utcp::test {
namespace {

struct Pair {
  SocketId client = kNoSocket;
  SocketId server = kNoSocket;
};

Pair connect_pair(SimNet& net, uint16_t port) {
  SimPair p = establish(net, port);
  EXPECT_NE(p.server, kNoSocket) << "handshake did not complete";
  net.b().close(p.listener);
  return {p.client, p.server};
}

// A connected pair on port 5000 (listener closed at once), then the shared both-ways transfer.
void transfer_both_ways(SimNet& net, size_t bytes, uint64_t seed, Duration budget) {
  Pair p = connect_pair(net, 5000);
  ASSERT_NE(p.server, kNoSocket);
  exchange_both_ways(net, SimPair{.client = p.client, .server = p.server}, bytes, seed, budget);
}

TEST(StackTransfer, LosslessBothWays) {
  SimNet net;
  transfer_both_ways(net, 4 << 20, 1, std::chrono::seconds(60));
}

class StackTransferLossy : public ::testing::TestWithParam<uint64_t> {};

TEST_P(StackTransferLossy, FaultyLinkBothWaysByteExact) {
  const uint64_t seed = GetParam();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::printf("fault seed %llu\n", static_cast<unsigned long long>(seed));
  SimNetConfig cfg = faulty_link({.drop = 0.05,
                                  .duplicate = 0.02,
                                  .corrupt = 0.01,
                                  .reorder = 0.05,
                                  .delay = std::chrono::milliseconds(5),
                                  .jitter = std::chrono::milliseconds(2)},
                                 seed, seed * 7919 + 1);
  SimNet net(cfg);
  transfer_both_ways(net, 1 << 20, seed, std::chrono::seconds(1200));
  EXPECT_GT(net.faults_a()->tx_counters().dropped, 0u);
  EXPECT_GT(net.faults_a()->tx_counters().corrupted, 0u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, StackTransferLossy, ::testing::Values(1, 2, 3, 4, 5, 6, 7, 8));

// The long haul: 50 MB each way through 5% loss, reordering, duplication and corruption.
TEST(StackTransfer, FiftyMegabytesEachWayOverAFaultyLink) {
  const uint64_t seed = 42;
  std::printf("fault seed %llu\n", static_cast<unsigned long long>(seed));
  SimNetConfig cfg = faulty_link({.drop = 0.05,
                                  .duplicate = 0.01,
                                  .corrupt = 0.005,
                                  .reorder = 0.03,
                                  .delay = std::chrono::milliseconds(2)},
                                 seed, seed + 1);
  SimNet net(cfg);
  transfer_both_ways(net, 50 << 20, seed, std::chrono::seconds(36000));
}

TEST(StackTransfer, ConnectToClosedPortIsRefused) {
  SimNet net;
  std::error_code ec;
  SocketId c = net.a().connect(net.b().config().address, 4444, ec);
  ASSERT_FALSE(ec);
  ASSERT_TRUE(net.run_until([&] { return (net.a().readiness(c) & ready::kError) != 0; },
                            std::chrono::seconds(10)));
  EXPECT_EQ(net.a().error(c), std::make_error_code(std::errc::connection_refused));
  uint8_t buf[16];
  EXPECT_EQ(net.a().recv(c, buf, ec), 0u);
  EXPECT_EQ(ec, std::make_error_code(std::errc::connection_refused));
  net.a().close(c);
  net.advance(std::chrono::seconds(1));
  EXPECT_EQ(net.a().connection_count(), 0u);
}

TEST(StackTransfer, AbortResetsThePeer) {
  SimNet net;
  Pair p = connect_pair(net, 5001);
  ASSERT_NE(p.server, kNoSocket);
  net.a().abort(p.client);
  ASSERT_TRUE(net.run_until([&] { return (net.b().readiness(p.server) & ready::kError) != 0; },
                            std::chrono::seconds(5)));
  EXPECT_EQ(net.b().error(p.server), std::make_error_code(std::errc::connection_reset));
  net.b().close(p.server);
  net.advance(std::chrono::seconds(1));
  EXPECT_EQ(net.a().connection_count(), 0u);
  EXPECT_EQ(net.b().connection_count(), 0u);
}

TEST(StackTransfer, ManySequentialConnectionsUseDistinctPortsAndAllClose) {
  SimNet net;
  std::error_code ec;
  SocketId l = net.b().listen(7, ec);
  ASSERT_FALSE(ec);
  for (int i = 0; i < 50; ++i) {
    SocketId c = net.a().connect(net.b().config().address, 7, ec);
    ASSERT_FALSE(ec);
    SocketId s = kNoSocket;
    ASSERT_TRUE(net.run_until(
        [&] {
          if (s == kNoSocket) s = net.b().accept(l, ec);
          return s != kNoSocket && (net.a().readiness(c) & ready::kConnected);
        },
        std::chrono::seconds(10)));
    const uint8_t msg[] = {'h', 'i', static_cast<uint8_t>(i)};
    ASSERT_EQ(net.a().send(c, msg, ec), sizeof msg);
    uint8_t buf[8];
    size_t got = 0;
    ASSERT_TRUE(net.run_until(
        [&] {
          size_t n = net.b().recv(s, std::span(buf).subspan(got), ec);
          got += n;
          return got == sizeof msg;
        },
        std::chrono::seconds(10)));
    EXPECT_EQ(0, std::memcmp(buf, msg, sizeof msg));
    net.a().close(c);
    net.b().close(s);
  }
  EXPECT_TRUE(net.run_until(
      [&] { return net.a().connection_count() == 0 && net.b().connection_count() == 0; },
      std::chrono::seconds(200)));
}

}  // namespace
}  // namespace utcp::test
