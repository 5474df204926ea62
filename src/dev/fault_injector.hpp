// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Wraps any Device and damages its traffic on purpose: loss, duplication, reordering,
// corruption, delay with jitter, a rate-limited bottleneck and an MTU cap, independently
// for packets sent (tx) and received (rx). Driven by a seeded PRNG per direction, so a run
// replays exactly from its seed; counts everything it did.
//
// Delayed tx packets reach the inner device on a later call to receive() or transmit();
// next_deadline() says when one is due.
#include <array>
#include <cstdint>
#include <vector>

#include "dev/fault_config.hpp"
#include "dev/fault_pipeline.hpp"
#include "utcp/device.hpp"

namespace utcp::dev {

struct FaultInjectorConfig {
  FaultConfig tx;  // packets this side transmits, before they reach the inner device
  FaultConfig rx;  // packets received from the inner device, before the caller sees them
  uint64_t seed = 1;
};

class FaultInjector final : public Device {
 public:
  FaultInjector(Device& inner, const FaultInjectorConfig& config);
  FaultInjector(const FaultInjector&) = delete;  // pull_slots_ point into this object
  FaultInjector& operator=(const FaultInjector&) = delete;

  int fd() const override { return inner_.fd(); }
  size_t mtu() const override { return inner_.mtu(); }
  // The MTU only: packets are copied, delayed and corrupted here, so no offload metadata
  // (checksums vouched for, TSO) and no scatter read survive.
  DeviceCapabilities capabilities() const override {
    DeviceCapabilities c;
    c.mtu = inner_.mtu();
    c.medium = inner_.capabilities().medium;
    return c;
  }
  size_t receive(std::span<PacketSlot> slots, Instant now) override;
  size_t transmit(std::span<const std::span<const uint8_t>> packets, Instant now) override;
  Instant next_deadline() const override;

  // Releases due tx packets to the inner device (receive() and transmit() do this too).
  void flush(Instant now);

  const FaultCounters& tx_counters() const { return tx_.counters(); }
  const FaultCounters& rx_counters() const { return rx_.counters(); }
  uint64_t seed() const { return seed_; }

 private:
  void pull_inner(Instant now);

  static constexpr size_t kPullBatch = 16;

  Device& inner_;
  uint64_t seed_;
  FaultPipeline tx_;
  FaultPipeline rx_;
  std::vector<uint8_t> pull_storage_;  // kPullBatch buffers of inner MTU, allocated once
  std::array<PacketSlot, kPullBatch> pull_slots_;
};

}  // namespace utcp::dev
