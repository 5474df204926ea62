// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The faults of one direction: each offered packet is capped, dropped, corrupted,
// duplicated, rate limited, delayed and possibly held back, then waits in a timed queue
// until its release time. Deterministic given the seed and the sequence of (packet, now).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/prng.hpp"
#include "dev/fault_config.hpp"
#include "dev/timed_packet_queue.hpp"

namespace utcp::dev {

class FaultPipeline {
 public:
  FaultPipeline(const FaultConfig& config, size_t max_len, uint64_t seed);

  // Runs one packet through the faults; survivors are queued.
  void offer(std::span<const uint8_t> packet, Instant now);

  // Moves a held-back packet whose hold expired into the queue.
  void advance(Instant now);

  // Released packets: drain with due()/front()/pop().
  bool due(Instant now) const { return queue_.due(now); }
  std::span<const uint8_t> front() const { return queue_.front(); }
  void pop() {
    queue_.pop();
    ++counters_.delivered;
  }
  // Drops the front packet because the next stage refused it.
  void pop_refused() {
    queue_.pop();
    ++counters_.queue_dropped;
  }

  size_t room() const { return queue_.capacity() - queue_.size(); }
  Instant next_deadline() const;
  const FaultCounters& counters() const { return counters_; }
  const FaultConfig& config() const { return config_; }

 private:
  Instant bottleneck_departure(size_t len, Instant now, bool& dropped);
  void enqueue(std::span<const uint8_t> packet, Instant release);

  FaultConfig config_;
  Prng rng_;
  TimedPacketQueue queue_;
  FaultCounters counters_;
  std::vector<uint8_t> scratch_;  // a copy to corrupt

  // Token bucket as a virtual schedule (GCRA): the bottleneck is busy until tat_.
  double tat_us_ = 0;

  // At most one packet held back for reordering.
  std::vector<uint8_t> held_;
  size_t held_len_ = 0;
  bool holding_ = false;
  Instant held_until_{};
};

}  // namespace utcp::dev
