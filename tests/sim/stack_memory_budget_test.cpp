// SPDX-License-Identifier: BSD-2-Clause
// The stack-wide buffer budget (StackConfig::buffer_memory_limit, tcp::MemoryBudget) between
// two Stacks on a virtual clock, 2 % loss and 1 % reordering each way (seeded, printed): 32
// connections each send 150 KB one way and 60 KB back against a budget of 512 KiB per stack
// (the receive rings alone would want 32 x 150 KB without it), while the receiving
// application reads nothing for the first 3 s. The budget is never exceeded by more than the
// guaranteed first 4 KiB of each ring, both stacks report pressure, every byte arrives in
// order, and once all is closed the budget holds nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <vector>

#include "support/counters.hpp"
#include "support/sim_net.hpp"
#include "support/test_stream.hpp"

namespace utcp::test {
namespace {

constexpr uint16_t kPort = 7100;
constexpr size_t kConns = 32;
constexpr size_t kUp = 150'000;   // client -> server, per connection
constexpr size_t kDown = 60'000;  // server -> client
constexpr size_t kLimit = 512 * 1024;
// Each ring may always take its first 4 KiB, budget or not (two rings per connection).
constexpr size_t kSlack = 2 * kConns * 4096;

struct Flow {
  SocketId client = kNoSocket;
  SocketId server = kNoSocket;
  size_t up_sent = 0, up_got = 0, down_sent = 0, down_got = 0;
  bool up_fin = false;
};

// Writes as much of [pos, total) of the test stream as the socket takes.
void send_some(Stack& st, SocketId s, size_t& pos, size_t total) {
  std::error_code ec;
  while (pos < total) {
    const auto chunk = stream(pos, std::min<size_t>(16384, total - pos));
    const size_t n = st.send(s, chunk, ec);
    if (n == 0) return;
    pos += n;
  }
}

// Reads what is there, checking each byte against the stream. False on a wrong byte.
bool recv_some(Stack& st, SocketId s, size_t& pos) {
  std::error_code ec;
  std::vector<uint8_t> buf(16384);
  for (;;) {
    const size_t n = st.recv(s, buf, ec);
    if (n == 0) return true;
    if (!std::equal(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(n), stream(pos, n).begin())) {
      return false;
    }
    pos += n;
  }
}

TEST(StackMemoryBudget, ManyConnectionsStayWithinASmallBudgetAndDeliverEveryByte) {
  const uint32_t seed = test_seed("memory budget faults");
  SimNetConfig cfg;
  const dev::FaultConfig faults{
      .drop = 0.02, .reorder = 0.01, .delay = std::chrono::milliseconds(5)};
  cfg.faults_a = dev::FaultInjectorConfig{.tx = faults, .rx = {}, .seed = seed};
  cfg.faults_b = dev::FaultInjectorConfig{.tx = faults, .rx = {}, .seed = seed + 1};
  cfg.link.queue_packets = 1 << 14;
  for (StackConfig* c : {&cfg.a, &cfg.b}) {
    c->buffer_memory_limit = kLimit;
    c->accept_backlog = 2 * kConns;
    c->syn_backlog = 2 * kConns;
  }
  SimNet net(cfg);
  std::error_code ec;
  const SocketId listener = net.b().listen(kPort, ec);
  ASSERT_FALSE(ec);
  std::vector<Flow> flows(kConns);
  for (Flow& f : flows) {
    f.client = net.a().connect(net.b().config().address, kPort, ec);
    ASSERT_FALSE(ec);
  }
  size_t accepted = 0;
  ASSERT_TRUE(net.run_until(
      [&] {
        for (SocketId s; (s = net.b().accept(listener, ec)) != kNoSocket;) {
          flows[accepted++].server = s;  // accept order need not match: only pairs matter
        }
        return accepted == kConns;
      },
      std::chrono::seconds(60)));
  // Pair each server socket with its client by the client's port.
  std::vector<Flow> paired(kConns);
  for (size_t i = 0; i < kConns; ++i) {
    const uint16_t port = net.b().remote_endpoint(flows[i].server).port;
    for (const Flow& f : flows) {
      if (net.a().local_endpoint(f.client).port == port) paired[i].client = f.client;
    }
    paired[i].server = flows[i].server;
    ASSERT_NE(paired[i].client, kNoSocket);
  }

  const Instant read_start = net.now() + std::chrono::seconds(3);
  size_t peak_a = 0, peak_b = 0;
  bool bytes_ok = true;
  const bool done = net.run_until(
      [&] {
        size_t complete = 0;
        for (Flow& f : paired) {
          send_some(net.a(), f.client, f.up_sent, kUp);
          if (f.up_sent == kUp && !f.up_fin) {
            net.a().shutdown_write(f.client, ec);
            f.up_fin = true;
          }
          if (net.now() >= read_start) bytes_ok &= recv_some(net.b(), f.server, f.up_got);
          send_some(net.b(), f.server, f.down_sent, kDown);
          bytes_ok &= recv_some(net.a(), f.client, f.down_got);
          if (f.up_got == kUp && f.down_got == kDown) ++complete;
        }
        peak_a = std::max<size_t>(peak_a, counter(net.a(), "tcp.mem.bytes"));
        peak_b = std::max<size_t>(peak_b, counter(net.b(), "tcp.mem.bytes"));
        return complete == kConns || !bytes_ok;
      },
      std::chrono::seconds(600));
  ASSERT_TRUE(bytes_ok) << "a byte arrived wrong (seed " << seed << ")";
  ASSERT_TRUE(done) << "transfers unfinished after 600 s virtual (seed " << seed << ")";
  std::printf("held at most: A %zu B %zu bytes (limit %zu); pressure events A %llu B %llu\n",
              peak_a, peak_b, kLimit,
              static_cast<unsigned long long>(counter(net.a(), "tcp.mem.pressure-events")),
              static_cast<unsigned long long>(counter(net.b(), "tcp.mem.pressure-events")));
  EXPECT_LE(peak_a, kLimit + kSlack);
  EXPECT_LE(peak_b, kLimit + kSlack);
  EXPECT_LE(counter(net.b(), "tcp.mem.peak-bytes"), kLimit + kSlack);
  EXPECT_GT(counter(net.b(), "tcp.mem.pressure-events"), 0u);
  EXPECT_GT(counter(net.a(), "tcp.mem.pressure-events"), 0u);

  // Everything closed: every ring given back.
  for (Flow& f : paired) {
    net.b().close(f.server);
    net.a().close(f.client);
  }
  ASSERT_TRUE(net.run_until(
      [&] { return net.a().connection_count() == 0 && net.b().connection_count() == 0; },
      std::chrono::seconds(300)));
  EXPECT_EQ(counter(net.a(), "tcp.mem.bytes"), 0u);
  EXPECT_EQ(counter(net.b(), "tcp.mem.bytes"), 0u);
}

}  // namespace
}  // namespace utcp::test
