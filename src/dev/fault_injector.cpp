// SPDX-License-Identifier: BSD-2-Clause
#include "dev/fault_injector.hpp"

#include <algorithm>
#include <cstring>

namespace utcp::dev {

namespace {
// Distinct streams per direction, so tx faults do not depend on how rx traffic interleaves.
constexpr uint64_t kRxStream = 0x5851f42d4c957f2dULL;
}  // namespace

FaultInjector::FaultInjector(Device& inner, const FaultInjectorConfig& config)
    : inner_(inner),
      seed_(config.seed),
      tx_(config.tx, inner.mtu(), config.seed),
      rx_(config.rx, inner.mtu(), config.seed ^ kRxStream),
      pull_storage_(kPullBatch * inner.mtu()) {
  for (size_t i = 0; i < kPullBatch; ++i) {
    pull_slots_[i].buf = std::span<uint8_t>(pull_storage_).subspan(i * inner.mtu(), inner.mtu());
  }
}

size_t FaultInjector::transmit(std::span<const std::span<const uint8_t>> packets, Instant now) {
  for (const auto& packet : packets) tx_.offer(packet, now);
  flush(now);
  return packets.size();
}

void FaultInjector::flush(Instant now) {
  tx_.advance(now);
  while (tx_.due(now)) {
    if (inner_.transmit_one(tx_.front(), now)) {
      tx_.pop();
    } else {
      tx_.pop_refused();
    }
  }
}

void FaultInjector::pull_inner(Instant now) {
  // Each offered packet may become two (duplicate) plus a released held one.
  for (;;) {
    const size_t batch = std::min(kPullBatch, rx_.room() / 3);
    if (batch == 0) break;
    const size_t n = inner_.receive(std::span(pull_slots_).first(batch), now);
    for (size_t i = 0; i < n; ++i) rx_.offer(pull_slots_[i].data(), now);
    if (n < batch) break;
  }
}

size_t FaultInjector::receive(std::span<PacketSlot> slots, Instant now) {
  flush(now);
  pull_inner(now);
  rx_.advance(now);
  size_t filled = 0;
  while (filled < slots.size() && rx_.due(now)) {
    const auto packet = rx_.front();
    PacketSlot& slot = slots[filled];
    if (packet.size() > slot.buf.size()) {
      rx_.pop_refused();
      continue;
    }
    std::memcpy(slot.buf.data(), packet.data(), packet.size());
    slot.len = packet.size();
    rx_.pop();
    ++filled;
  }
  return filled;
}

Instant FaultInjector::next_deadline() const {
  return std::min({tx_.next_deadline(), rx_.next_deadline(), inner_.next_deadline()});
}

}  // namespace utcp::dev
