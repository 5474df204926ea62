// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The bulk-transfer fixture of the two-Stack sim tests (stack_transfer_test over IPv4,
// stack_ipv6_test over IPv6): seeded random data pumped both ways at once through a connected
// pair, checked byte for byte, then both ends closed and left to leave TIME-WAIT; and the
// faulty link both directions share.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

#include "support/sim_net.hpp"

namespace utcp::test {

inline std::vector<uint8_t> random_bytes(size_t n, uint64_t seed) {
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
      const size_t n = from.send(from_sock, std::span(data).subspan(written), ec);
      if (n == 0) break;
      written += n;
    }
    if (written == data.size() && !shut) {
      from.shutdown_write(from_sock, ec);
      shut = true;
    }
    uint8_t buf[16384];
    for (;;) {
      const size_t n = to.recv(to_sock, buf, ec);
      if (n == 0) {
        if (!ec) eof = true;
        break;
      }
      received.insert(received.end(), buf, buf + n);
    }
  }
};

// Both directions damaged the same way, each end's injector with its own seed.
inline SimNetConfig faulty_link(const dev::FaultConfig& faults, uint64_t seed_a, uint64_t seed_b) {
  SimNetConfig cfg;
  cfg.faults_a = dev::FaultInjectorConfig{.tx = faults, .rx = {}, .seed = seed_a};
  cfg.faults_b = dev::FaultInjectorConfig{.tx = faults, .rx = {}, .seed = seed_b};
  return cfg;
}

// Over the connected pair p (client at A, server at B): `bytes` of random data each way (seed
// up, seed + 1 down), both directions at once, each ending with a FIN; every byte checked.
// Then both sockets and p.listener (if any) are closed, and after TIME-WAIT (2*MSL = 60 s)
// no connection may be left on either side.
inline void exchange_both_ways(SimNet& net, const SimPair& p, size_t bytes, uint64_t seed,
                               Duration budget) {
  const auto up = random_bytes(bytes, seed);
  const auto down = random_bytes(bytes, seed + 1);
  Pump a2b{net.a(), p.client, net.b(), p.server, up};
  Pump b2a{net.b(), p.server, net.a(), p.client, down};
  const bool done = net.run_until(
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
  if (p.listener != kNoSocket) net.b().close(p.listener);
  EXPECT_TRUE(net.run_until(
      [&] { return net.a().connection_count() == 0 && net.b().connection_count() == 0; },
      std::chrono::seconds(200)))
      << "connections left: a=" << net.a().connection_count()
      << " b=" << net.b().connection_count();
}

}  // namespace utcp::test
