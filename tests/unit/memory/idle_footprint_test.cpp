// What an established connection keeps on the heap while it is idle (issue #7 target: an idle
// connection <= 4 KiB). Counted through the replaced operator new of heap_counter.cpp, so the
// bounds are bytes held, not a timing or RSS measurement. Both ends live in one process: every
// figure is per socket, that is per connection end.
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "heap_counter.hpp"
#include "support/sim_net.hpp"

namespace utcp::test {
namespace {

constexpr uint16_t kPort = 7000;

struct Opened {
  std::vector<SocketId> clients, servers;
};

// Opens n connections from A to B's listener and runs until B accepted them all.
Opened open_connections(SimNet& net, SocketId listener, size_t n) {
  std::error_code ec;
  Opened o;
  for (size_t i = 0; i < n; ++i) {
    SocketId c = net.a().connect(net.b().config().address, kPort, ec);
    EXPECT_FALSE(ec) << ec.message();
    o.clients.push_back(c);
  }
  net.run_until(
      [&] {
        for (SocketId s; (s = net.b().accept(listener, ec)) != kNoSocket;) o.servers.push_back(s);
        return o.servers.size() == n;
      },
      std::chrono::seconds(30));
  EXPECT_EQ(o.servers.size(), n);
  return o;
}

TEST(IdleFootprint, EstablishedConnectionsHoldUnderTwoKibEach) {
  SimNetConfig cfg;
  cfg.b.accept_backlog = 1024;
  cfg.b.syn_backlog = 1024;
  SimNet net(cfg);
  std::error_code ec;
  SocketId listener = net.b().listen(kPort, ec, 1024);
  ASSERT_FALSE(ec);
  constexpr size_t kConns = 256;
  // A first batch the same size, so one-time structures (link queues, accept queue, tables)
  // have already grown to what a burst of kConns handshakes needs.
  open_connections(net, listener, kConns);

  const size_t before = heap_live_bytes();
  const Opened o = open_connections(net, listener, kConns);
  ASSERT_EQ(net.a().connection_count(), 2 * kConns);
  ASSERT_EQ(net.b().connection_count(), 2 * kConns);
  const size_t per_socket = (heap_live_bytes() - before) / (2 * kConns);
  std::printf("heap per established idle socket: %zu bytes\n", per_socket);
  // The connection object, its congestion controller, the 4-tuple table entry and a share of
  // the stack's per-socket vectors. Before the lazy allocation of the loss-recovery logs and
  // of listener-only state it was about 4.4 KiB.
  EXPECT_LE(per_socket, 2048u);
  EXPECT_GE(per_socket, sizeof(void*));  // the counter does see the connections
}

}  // namespace
}  // namespace utcp::test
