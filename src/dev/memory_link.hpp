#pragma once
// Two Device endpoints joined in memory, for two stacks in one process (simulation tests).
// Each direction is a bounded FIFO; a packet arriving at a full queue is dropped and
// counted, like a router's tail drop. An optional fixed one-way delay uses the caller's
// (virtual) time: a packet sent at t is receivable from t + delay.
#include <cstddef>
#include <cstdint>

#include "dev/device.hpp"
#include "dev/timed_packet_queue.hpp"

namespace utcp::dev {

struct MemoryLinkConfig {
  size_t mtu = 1500;
  size_t queue_packets = 256;  // per direction
  Duration delay{0};           // one way
};

struct MemoryLinkCounters {
  uint64_t sent = 0;             // accepted into the queue
  uint64_t delivered = 0;        // handed to the receiver
  uint64_t dropped_full = 0;     // queue was full
  uint64_t dropped_too_big = 0;  // larger than the MTU
  uint64_t dropped_no_room = 0;  // receiver's slot buffer too small
};

class MemoryLink {
 public:
  explicit MemoryLink(MemoryLinkConfig config = {});
  MemoryLink(const MemoryLink&) = delete;
  MemoryLink& operator=(const MemoryLink&) = delete;

  Device& a() { return a_; }
  Device& b() { return b_; }
  const MemoryLinkCounters& a_to_b() const { return ab_counters_; }
  const MemoryLinkCounters& b_to_a() const { return ba_counters_; }

 private:
  class Endpoint final : public Device {
   public:
    Endpoint(const MemoryLinkConfig& config, TimedPacketQueue& in, MemoryLinkCounters& in_counters,
             TimedPacketQueue& out, MemoryLinkCounters& out_counters)
        : config_(config),
          in_(in),
          in_counters_(in_counters),
          out_(out),
          out_counters_(out_counters) {}
    size_t mtu() const override { return config_.mtu; }
    size_t receive(std::span<PacketSlot> slots, Instant now) override;
    size_t transmit(std::span<const std::span<const uint8_t>> packets, Instant now) override;
    Instant next_deadline() const override { return in_.next_release(); }

   private:
    const MemoryLinkConfig& config_;
    TimedPacketQueue& in_;
    MemoryLinkCounters& in_counters_;
    TimedPacketQueue& out_;
    MemoryLinkCounters& out_counters_;
  };

  MemoryLinkConfig config_;
  TimedPacketQueue ab_;
  TimedPacketQueue ba_;
  MemoryLinkCounters ab_counters_;
  MemoryLinkCounters ba_counters_;
  Endpoint a_;
  Endpoint b_;
};

}  // namespace utcp::dev
