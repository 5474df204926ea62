// SPDX-License-Identifier: BSD-2-Clause
// Two Stacks over the in-memory link: handshake through listeners and ephemeral ports,
// bulk transfer both ways with byte-exact checks, half-close, reset paths; then the same
// over a link that drops, duplicates, reorders and corrupts. Virtual time, fixed seeds.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "support/sim_net.hpp"

namespace utcp::test {
namespace {

std::vector<uint8_t> random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// One direction of a transfer: writes `data` into `from` as the window allows and reads
// everything arriving at `to`; shuts down the sender's side once all is written.
struct Pump {
  Stack& from;
  SocketId from_sock;
  Stack& to;
  SocketId to_sock;
  const std::vector<uint8_t>& data;
  size_t written = 0;
  std::vector<uint8_t> received;
  bool shut = false;
  bool eof = false;

  void run() {
    std::error_code ec;
    while (written < data.size()) {
      size_t n = from.send(from_sock, std::span(data).subspan(written), ec);
      if (n == 0) break;
      written += n;
    }
    if (written == data.size() && !shut) {
      from.shutdown_write(from_sock, ec);
      shut = true;
    }
    uint8_t buf[16384];
    for (;;) {
      size_t n = to.recv(to_sock, buf, ec);
      if (n == 0) {
        if (!ec) eof = true;
        break;
      }
      received.insert(received.end(), buf, buf + n);
    }
  }
};

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

void transfer_both_ways(SimNet& net, size_t bytes, uint64_t seed, Duration budget) {
  Pair p = connect_pair(net, 5000);
  ASSERT_NE(p.server, kNoSocket);
  auto up = random_bytes(bytes, seed);
  auto down = random_bytes(bytes, seed + 1);
  Pump a2b{net.a(), p.client, net.b(), p.server, up};
  Pump b2a{net.b(), p.server, net.a(), p.client, down};
  bool done = net.run_until(
      [&] {
        a2b.run();
        b2a.run();
        return a2b.eof && b2a.eof;
      },
      budget);
  ASSERT_TRUE(done) << "transfer stalled: a->b " << a2b.received.size() << "/" << bytes << ", b->a "
                    << b2a.received.size() << "/" << bytes << " at t=" << to_us(net.now()) << "us";
  EXPECT_TRUE(a2b.received == up) << "a->b bytes differ";
  EXPECT_TRUE(b2a.received == down) << "b->a bytes differ";
  net.a().close(p.client);
  net.b().close(p.server);
  // Both sides closed after both FINs: after TIME-WAIT (2*MSL = 60 s) nothing is left.
  EXPECT_TRUE(net.run_until(
      [&] { return net.a().connection_count() == 0 && net.b().connection_count() == 0; },
      std::chrono::seconds(200)))
      << "connections left: a=" << net.a().connection_count()
      << " b=" << net.b().connection_count();
}

// Both directions damaged the same way, each end's injector with its own seed.
SimNetConfig faulty_link(const dev::FaultConfig& faults, uint64_t seed_a, uint64_t seed_b) {
  SimNetConfig cfg;
  cfg.faults_a = dev::FaultInjectorConfig{.tx = faults, .rx = {}, .seed = seed_a};
  cfg.faults_b = dev::FaultInjectorConfig{.tx = faults, .rx = {}, .seed = seed_b};
  return cfg;
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
