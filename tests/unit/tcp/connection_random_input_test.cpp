// SPDX-License-Identifier: BSD-2-Clause
// Robustness: random segments (near and far from the real sequence numbers, any flags, options
// and sizes) fed to a connection in every state never crash it, every segment it emits parses,
// and its sequence variables stay ordered. Seeded; the seed is printed.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "support/tcp_harness.hpp"

namespace utcp::test {
namespace {

using tcp::State;

TEST(RandomInput, NeverBreaksInvariantsInAnyState) {
  const uint64_t seed = 20240611;
  std::printf("seed=%llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const State states[] = {State::kListen,      State::kSynSent,  State::kSynReceived,
                          State::kEstablished, State::kFinWait1, State::kFinWait2,
                          State::kCloseWait,   State::kClosing,  State::kLastAck,
                          State::kTimeWait};
  for (int round = 0; round < 200; ++round) {
    tcp::Config cfg = plain_config();
    cfg.timestamps = rng() % 2;
    cfg.window_scaling = rng() % 2;
    Harness h(cfg);
    h.goto_state(states[rng() % std::size(states)]);
    for (int i = 0; i < 100; ++i) {
      Seg s;
      s.flags = static_cast<uint8_t>(rng() & 0x3f);
      // Mostly near the live sequence numbers, sometimes anywhere.
      const auto near = [&](SeqNum base) {
        return rng() % 4 == 0 ? SeqNum(static_cast<uint32_t>(rng()))
                              : base + static_cast<uint32_t>(rng() % 4000) - 2000;
      };
      s.seq = near(h.conn.tcb().rcv_nxt);
      s.ack_no = near(h.conn.tcb().snd_nxt);
      s.window = static_cast<uint16_t>(rng());
      s.urgent = static_cast<uint16_t>(rng() % 3000);
      if (rng() % 3 == 0)
        s.options.timestamps = wire::TcpTimestamps{uint32_t(rng()), uint32_t(rng())};
      if (rng() % 8 == 0) s.options.mss = static_cast<uint16_t>(rng());
      if (rng() % 8 == 0) s.options.window_scale = static_cast<uint8_t>(rng() % 20);
      s.payload = pattern(rng() % 3 == 0 ? rng() % 1600 : 0, static_cast<uint32_t>(i));
      h.send(s);
      if (rng() % 5 == 0) h.advance(Duration(static_cast<int64_t>(rng() % 3'000'000)));
      if (rng() % 7 == 0) h.app_send("abc");
      if (rng() % 7 == 0) h.app_recv(100);
      if (rng() % 50 == 0) h.app_close();
      const tcp::Tcb& t = h.conn.tcb();
      if (h.conn.state() != State::kClosed && h.conn.state() != State::kListen) {
        ASSERT_LE(t.snd_una, t.snd_nxt) << "round " << round << " step " << i;
        ASSERT_LE(t.snd_nxt, t.snd_max) << "round " << round << " step " << i;
        ASSERT_LE(t.rcv_nxt, t.rcv_adv) << "round " << round << " step " << i;
      }
      h.outbox.clear();
      h.times.clear();
      h.events();
    }
  }
}

}  // namespace
}  // namespace utcp::test
