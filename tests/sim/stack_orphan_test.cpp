// SPDX-License-Identifier: BSD-2-Clause
// Orphaned connections (closed by the application, still ending) are bounded in number
// (StackConfig::max_orphans, as Linux's tcp_max_orphans) and in time
// (StackConfig::orphan_timeout): the excess or the expired is reset and counted. The stuck
// orphan here is the hard case: the peer never reads, so its window stays zero, it answers
// every persist probe, and without the bound A would stay in FIN-WAIT-1 forever.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "support/counters.hpp"
#include "support/sim_net.hpp"

namespace utcp::test {
namespace {

using std::chrono::seconds;

// Fills the path from A's `client` to B's `server`, which never reads, until A can send no
// more; then A closes: the FIN waits behind data B's zero window will not take.
void stuff_and_close(SimNet& net, SocketId client) {
  const std::vector<uint8_t> chunk(64 * 1024, 0x5a);
  for (int i = 0; i < 200; ++i) {
    std::error_code ec;
    net.a().send(client, chunk, ec);
    net.advance(std::chrono::milliseconds(50));
  }
  net.a().close(client);
  net.advance(std::chrono::milliseconds(10));
}

SimNetConfig small_buffers(uint32_t max_orphans, Duration orphan_timeout) {
  SimNetConfig cfg;
  cfg.a.max_orphans = max_orphans;
  cfg.a.orphan_timeout = orphan_timeout;
  cfg.b.tcp.recv_buffer = cfg.b.tcp.recv_buffer_max = 32 * 1024;
  cfg.a.tcp.send_buffer = 64 * 1024;
  return cfg;
}

TEST(StackOrphans, OverTheLimitTheOldestOrphanIsReset) {
  SimNet net(small_buffers(2, Duration{0}));
  std::vector<SimPair> pairs;
  for (uint16_t port = 8001; port <= 8003; ++port) {
    pairs.push_back(establish(net, port));
    ASSERT_NE(pairs.back().server, kNoSocket);
  }
  stuff_and_close(net, pairs[0].client);
  stuff_and_close(net, pairs[1].client);
  net.advance(seconds(1));
  EXPECT_EQ(net.a().connection_count(), 3u);  // two orphans and one open connection
  EXPECT_EQ(counter(net.a(), "tcp.orphan.reset-overflow"), 0u);
  stuff_and_close(net, pairs[2].client);
  net.advance(seconds(1));
  EXPECT_EQ(counter(net.a(), "tcp.orphan.reset-overflow"), 1u);
  EXPECT_EQ(counter(net.a(), "tcp.orphan.reset-timeout"), 0u);
  EXPECT_EQ(net.a().connection_count(), 2u);  // the two younger orphans, still ending
  // The oldest was the one reset: the younger two still answer B (B's window opens when it
  // reads, and their data flows again), the oldest does not.
  std::vector<uint8_t> buf(256 * 1024);
  std::error_code ec;
  for (const auto& p : pairs) net.b().recv(p.server, buf, ec);
  const uint64_t rst_before = counter(net.a(), "tcp.rst-for-unmatched");
  net.advance(seconds(5));
  EXPECT_GE(counter(net.a(), "tcp.rst-for-unmatched"), rst_before + 1);
  const auto reset = std::make_error_code(std::errc::connection_reset);
  EXPECT_EQ(net.b().error(pairs[0].server), reset);  // A answered its window update with RST
  EXPECT_NE(net.b().error(pairs[1].server), reset);
  EXPECT_NE(net.b().error(pairs[2].server), reset);
  // With no time bound they would stay: ten minutes later they are still there.
  net.advance(seconds(600));
  EXPECT_EQ(net.a().connection_count(), 2u);
}

TEST(StackOrphans, AnOrphanOlderThanTheTimeoutIsReset) {
  SimNet net(small_buffers(16, seconds(30)));
  const SimPair p = establish(net, 8080);
  ASSERT_NE(p.server, kNoSocket);
  stuff_and_close(net, p.client);
  const Instant closed_at = net.now();
  net.advance(seconds(25));
  EXPECT_EQ(net.a().connection_count(), 1u);  // probing the zero window, answered each time
  EXPECT_EQ(counter(net.a(), "tcp.orphan.reset-timeout"), 0u);
  // Step by step (SimNet::run_until may jump the clock to its budget when idle).
  while (counter(net.a(), "tcp.orphan.reset-timeout") == 0 && net.now() - closed_at < seconds(40)) {
    net.advance(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(counter(net.a(), "tcp.orphan.reset-timeout"), 1u);
  EXPECT_GE(net.now() - closed_at, seconds(30));
  EXPECT_LE(net.now() - closed_at, seconds(30) + std::chrono::milliseconds(200));
  EXPECT_EQ(counter(net.a(), "tcp.orphan.reset-overflow"), 0u);
  net.advance(seconds(1));
  EXPECT_EQ(net.a().connection_count(), 0u);
}

// Orphans that end normally leave the count: closing many in turn never trips a bound of 1.
TEST(StackOrphans, OrphansThatFinishAreNotCounted) {
  SimNet net(small_buffers(1, seconds(30)));
  for (uint16_t port = 9001; port <= 9005; ++port) {
    const SimPair p = establish(net, port);
    ASSERT_NE(p.server, kNoSocket);
    std::error_code ec;
    const std::vector<uint8_t> data(1000, 1);
    EXPECT_EQ(net.a().send(p.client, data, ec), data.size());
    net.a().close(p.client);
    // B reads everything and closes too: A's orphan goes through FIN-WAIT-2 to TIME-WAIT.
    std::vector<uint8_t> buf(4096);
    ASSERT_TRUE(net.run_until(
        [&] {
          net.b().recv(p.server, buf, ec);
          return (net.b().readiness(p.server) & ready::kHangup) != 0;
        },
        seconds(5)));
    net.b().close(p.server);
    net.advance(seconds(1));
  }
  net.advance(seconds(120));
  EXPECT_EQ(counter(net.a(), "tcp.orphan.reset-overflow"), 0u);
  EXPECT_EQ(counter(net.a(), "tcp.orphan.reset-timeout"), 0u);
}

}  // namespace
}  // namespace utcp::test
