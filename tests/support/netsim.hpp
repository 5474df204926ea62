// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Network-simulation harness: two Stacks over the memory link with a bottleneck (rate, queue),
// a round-trip delay, random loss and reordering on the data path, on virtual time with a
// seeded fault PRNG. One bulk transfer per run, checked byte for byte; goodput is bytes over
// virtual time from connect() until the receiver has everything.
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "support/sim_net.hpp"

namespace utcp::test {

struct NetsimPath {
  double rate_mbps = 10;
  Duration rtt{20'000};
  size_t queue_bytes = 64 * 1024;
  double loss = 0;         // data direction (A -> B)
  double reorder = 0;      // data direction
  double ack_loss = 0;     // B -> A
  unsigned ack_every = 0;  // B's ACKs stretched to one per this many (SimNetConfig::b_ack_every)
};

struct NetsimResult {
  bool complete = false;
  bool exact = false;
  double goodput_mbps = 0;
  double seconds = 0;
  uint64_t dropped = 0;      // random losses injected
  uint64_t queue_drops = 0;  // bottleneck overflow
};

inline std::vector<uint8_t> netsim_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t r = rng();
    for (size_t j = 0; j < 8 && i + j < n; ++j) v[i + j] = static_cast<uint8_t>(r >> (8 * j));
  }
  return v;
}

inline SimNetConfig netsim_config(const NetsimPath& p, std::string_view cc, uint64_t seed) {
  SimNetConfig cfg;
  cfg.link.queue_packets = 4096;
  dev::FaultInjectorConfig fa;
  fa.seed = seed;
  fa.tx.rate_mbps = p.rate_mbps;
  fa.tx.rate_queue_bytes = p.queue_bytes;
  fa.tx.delay = p.rtt / 2;
  fa.tx.drop = p.loss;
  fa.tx.reorder = p.reorder;
  fa.tx.reorder_hold = Duration(2'000);
  fa.tx.queue_packets = 8192;
  dev::FaultInjectorConfig fb;
  fb.seed = seed ^ 0x9e3779b97f4a7c15ull;
  fb.tx.delay = p.rtt / 2;
  fb.tx.drop = p.ack_loss;
  fb.tx.queue_packets = 8192;
  cfg.faults_a = fa;
  cfg.faults_b = fb;
  cfg.b_ack_every = p.ack_every;
  cfg.a.tcp.congestion_control = cc;
  cfg.b.tcp.congestion_control = cc;
  // Room for the path's bandwidth-delay product several times over.
  cfg.a.tcp.send_buffer = 1 << 20;
  cfg.b.tcp.recv_buffer = 1 << 20;
  return cfg;
}

// Sends `bytes` from A to B over `p` with controller `cc`; `budget` bounds virtual time.
inline NetsimResult run_netsim(const NetsimPath& p, std::string_view cc, uint64_t seed,
                               size_t bytes, Duration budget) {
  NetsimResult r;
  SimNet net(netsim_config(p, cc, seed));
  std::error_code ec;
  const SocketId l = net.b().listen(7000, ec);
  if (ec) return r;
  const Instant start = net.now();
  const SocketId c = net.a().connect(net.b().config().address, 7000, ec);
  if (ec) return r;
  SocketId s = kNoSocket;
  const auto data = netsim_bytes(bytes, seed * 7 + 1);
  std::vector<uint8_t> got;
  got.reserve(bytes);
  size_t written = 0;
  bool shut = false;
  std::vector<uint8_t> buf(64 * 1024);
  r.complete = net.run_until(
      [&] {
        if (s == kNoSocket) s = net.b().accept(l, ec);
        if (net.a().readiness(c) & ready::kConnected) {
          while (written < data.size()) {
            const size_t n = net.a().send(c, std::span(data).subspan(written), ec);
            if (n == 0) break;
            written += n;
          }
          if (written == data.size() && !shut) {
            net.a().shutdown_write(c, ec);
            shut = true;
          }
        }
        if (s != kNoSocket) {
          for (;;) {
            const size_t n = net.b().recv(s, buf, ec);
            if (n == 0) break;
            got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
          }
        }
        return got.size() >= bytes;
      },
      budget);
  r.seconds = static_cast<double>((net.now() - start).count()) / 1e6;
  r.exact = got == data;
  if (r.seconds > 0) r.goodput_mbps = static_cast<double>(got.size()) * 8 / r.seconds / 1e6;
  r.dropped = net.faults_a()->tx_counters().dropped;
  r.queue_drops = net.faults_a()->tx_counters().rate_dropped;
  return r;
}

}  // namespace utcp::test
