// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The long-path fixture of the sim tests that measure a bulk transfer's timing (pacing,
// slow start, send-buffer autotuning): two Stacks joined through fault injectors whose
// transmit side is `line` (a delay, and a bounded queue or a rate), each end with its own
// seed, and a link that never drops (the injector is the only bounded queue); and a one-way
// transfer from A to B checked byte for byte, with an observer called at every step.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "support/sim_net.hpp"

namespace utcp::test {

// A's injector gets `seed`, B's seed + 1.
inline SimNetConfig delay_line_config(const dev::FaultConfig& line, uint64_t seed) {
  SimNetConfig cfg;
  cfg.faults_a = dev::FaultInjectorConfig{.tx = line, .rx = {}, .seed = seed};
  cfg.faults_b = dev::FaultInjectorConfig{.tx = line, .rx = {}, .seed = seed + 1};
  // The injector releases what it holds at one virtual instant: the link queues it all.
  cfg.link.queue_packets = 1 << 16;
  return cfg;
}

// The stream's byte at position i: i * mul + add, so a misplaced byte shows.
struct BytePattern {
  size_t mul = 1;
  size_t add = 0;
  uint8_t at(size_t i) const { return static_cast<uint8_t>(i * mul + add); }
};

struct OneWayResult {
  bool done = false;  // all bytes arrived (or a byte differed: a test failure is recorded)
  size_t received = 0;
  Duration elapsed{0};
};

// Sends `bytes` of `pattern` from A's p.client to B's p.server as fast as the window allows
// (a 64 KiB chunk repeated), reads and checks every byte at B, and calls observe() after
// each step's reads, until all arrived or `budget` of virtual time passed.
template <class Observe>
OneWayResult one_way_transfer(SimNet& net, const SimPair& p, size_t bytes, BytePattern pattern,
                              Observe&& observe, Duration budget = std::chrono::seconds(120)) {
  std::vector<uint8_t> chunk(64 * 1024);
  for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = pattern.at(i);
  size_t written = 0;
  OneWayResult out;
  std::vector<uint8_t> buf(64 * 1024);
  const Instant start = net.now();
  out.done = net.run_until(
      [&] {
        std::error_code ec;
        while (written < bytes) {
          const size_t off = written % chunk.size();
          const size_t len = std::min(chunk.size() - off, bytes - written);
          const size_t n = net.a().send(p.client, std::span(chunk).subspan(off, len), ec);
          if (n == 0) break;
          written += n;
        }
        for (;;) {
          const size_t n = net.b().recv(p.server, buf, ec);
          if (n == 0) break;
          for (size_t i = 0; i < n; ++i) {
            if (buf[i] != pattern.at((out.received + i) % chunk.size())) {
              ADD_FAILURE() << "byte " << out.received + i << " differs";
              return true;
            }
          }
          out.received += n;
        }
        observe();
        return out.received == bytes;
      },
      budget);
  out.elapsed = net.now() - start;
  return out;
}

}  // namespace utcp::test
