// SPDX-License-Identifier: BSD-2-Clause
#include "dev/fault_pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/plain_math.hpp"

namespace utcp::dev {

FaultPipeline::FaultPipeline(const FaultConfig& config, size_t max_len, uint64_t seed)
    : config_(config),
      rng_(seed),
      queue_(config.queue_packets, max_len),
      scratch_(max_len),
      held_(max_len) {}

void FaultPipeline::offer(std::span<const uint8_t> packet, Instant now) {
  ++counters_.seen;
  advance(now);
  if (packet.size() > scratch_.size() ||
      (config_.mtu_cap != 0 && packet.size() > config_.mtu_cap)) {
    ++counters_.mtu_dropped;
    return;
  }
  if (rng_.chance(config_.drop)) {
    ++counters_.dropped;
    return;
  }
  if (rng_.chance(config_.corrupt) && !packet.empty()) {
    std::memcpy(scratch_.data(), packet.data(), packet.size());
    const uint64_t bit = rng_.below(packet.size() * 8);
    scratch_[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    packet = {scratch_.data(), packet.size()};
    ++counters_.corrupted;
  }
  const int copies = rng_.chance(config_.duplicate) ? 2 : 1;
  if (copies == 2) ++counters_.duplicated;

  for (int i = 0; i < copies; ++i) {
    bool rate_dropped = false;
    Instant release = bottleneck_departure(packet.size(), now, rate_dropped);
    if (rate_dropped) {
      ++counters_.rate_dropped;
      continue;
    }
    release += config_.delay;
    if (config_.jitter.count() > 0) {
      release += Duration(static_cast<int64_t>(rng_.below(config_.jitter.count() + 1)));
    }
    if (!holding_ && rng_.chance(config_.reorder)) {
      std::memcpy(held_.data(), packet.data(), packet.size());
      held_len_ = packet.size();
      holding_ = true;
      held_until_ = release + config_.reorder_hold;
      ++counters_.reordered;
      continue;
    }
    enqueue(packet, release);
    if (holding_) {
      // The held packet leaves right behind this one: equal release times keep arrival order.
      holding_ = false;
      enqueue({held_.data(), held_len_}, release);
    }
  }
}

void FaultPipeline::advance(Instant now) {
  if (holding_ && held_until_ <= now) {
    holding_ = false;
    enqueue({held_.data(), held_len_}, held_until_);
  }
}

Instant FaultPipeline::next_deadline() const {
  return std::min(queue_.next_release(), holding_ ? held_until_ : kNever);
}

Instant FaultPipeline::bottleneck_departure(size_t len, Instant now, bool& dropped) {
  dropped = false;
  if (config_.rate_mbps <= 0) return now;
  // Mbit/s is bits per microsecond: a packet occupies the bottleneck len*8/rate µs.
  const double us_per_byte = 8.0 / config_.rate_mbps;
  const double now_us = static_cast<double>(to_us(now));
  const double tau_us = static_cast<double>(config_.rate_burst_bytes) * us_per_byte;
  const double depart_us = std::max(now_us, tat_us_ - tau_us);
  const double backlog_bytes = (depart_us - now_us) / us_per_byte;
  if (backlog_bytes > static_cast<double>(config_.rate_queue_bytes)) {
    dropped = true;
    return now;
  }
  const double new_tat_us = std::max(tat_us_, depart_us) + static_cast<double>(len) * us_per_byte;
  tat_us_ = new_tat_us;
  return instant_from_us(round_to_int64(depart_us));
}

void FaultPipeline::enqueue(std::span<const uint8_t> packet, Instant release) {
  if (!queue_.push(packet, release)) ++counters_.queue_dropped;
}

}  // namespace utcp::dev
