// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A device wrapper that turns a receiver's ACKs into stretch ACKs, the way a receiver behind
// GRO/LRO acknowledges one coalesced burst at a time: of the pure ACKs that only move the
// cumulative acknowledgement forward, one in `every` is passed on (the latest, which covers
// the others), and one held longer than `hold` goes anyway (the end of a burst). ACKs that
// carry SACK blocks, repeat an acknowledgement or carry data or control flags pass at once,
// after any ACK held before them, so loss signals are never delayed or reordered.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "utcp/device.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace utcp::test_support {

class StretchAckDevice final : public dev::Device {
 public:
  StretchAckDevice(dev::Device& inner, unsigned every, Duration hold)
      : inner_(inner), every_(std::max(every, 1u)), hold_(hold) {}

  size_t mtu() const override { return inner_.mtu(); }
  Instant next_deadline() const override {
    return std::min(inner_.next_deadline(), holding_ ? held_at_ + hold_ : kNever);
  }
  size_t receive(std::span<dev::PacketSlot> slots, Instant now) override {
    release_if_due(now);
    return inner_.receive(slots, now);
  }
  size_t transmit(std::span<const std::span<const uint8_t>> packets, Instant now) override {
    release_if_due(now);
    size_t taken = 0;
    for (const auto& p : packets) {
      wire::SeqNum ack;
      if (!thinnable(p, ack)) {
        release(now);
        if (!inner_.transmit_one(p, now)) break;
        ++taken;
        continue;
      }
      if (!holding_) held_at_ = now;
      held_.assign(p.begin(), p.end());
      holding_ = true;
      last_ack_ = ack;
      ++thinned;
      if (++count_ >= every_) release(now);
      ++taken;
    }
    return taken;
  }

  uint64_t thinned = 0;  // pure ACKs seen that could be stretched
  uint64_t passed = 0;   // of those, passed on

 private:
  // A pure ACK (no data, only the ACK flag, no SACK blocks) that advances the cumulative ACK.
  bool thinnable(std::span<const uint8_t> p, wire::SeqNum& ack) {
    auto ip = wire::Ipv4Packet::parse(p);
    if (!ip.ok() || ip->protocol() != 6 || ip->is_fragment()) return false;
    auto tcp = wire::TcpPacket::parse(ip->payload(), ip->src(), ip->dst(), false);
    if (!tcp.ok()) return false;
    const wire::TcpRepr r = tcp->repr();
    if (r.flags != wire::tcp_flag::kAck || !r.payload.empty() || r.options.sack_count > 0) {
      return false;
    }
    if (have_ack_ && !(r.ack > last_ack_)) return false;
    ack = r.ack;
    have_ack_ = true;
    return true;
  }
  void release_if_due(Instant now) {
    if (holding_ && now >= held_at_ + hold_) release(now);
  }
  void release(Instant now) {
    if (!holding_) return;
    holding_ = false;
    count_ = 0;
    ++passed;
    inner_.transmit_one(held_, now);
  }

  dev::Device& inner_;
  unsigned every_;
  Duration hold_;
  std::vector<uint8_t> held_;
  Instant held_at_{};
  wire::SeqNum last_ack_;
  unsigned count_ = 0;
  bool holding_ = false;
  bool have_ack_ = false;
};

}  // namespace utcp::test_support
