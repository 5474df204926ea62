// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A pass-through device that shows each outgoing IPv4 TCP segment to on_tcp() before handing
// the packet to the device below, so sim tests can record what a stack sent.
#include <span>

#include "utcp/device.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace utcp::test {

class TcpTapDevice : public dev::Device {
 public:
  explicit TcpTapDevice(dev::Device& inner) : inner_(inner) {}

  size_t mtu() const override { return inner_.mtu(); }
  size_t receive(std::span<dev::PacketSlot> slots, Instant now) override {
    return inner_.receive(slots, now);
  }
  size_t transmit(std::span<const std::span<const uint8_t>> packets, Instant now) override {
    for (auto p : packets) {
      auto ip = wire::Ipv4Packet::parse(p);
      if (!ip.ok()) continue;
      auto tcp = wire::TcpPacket::parse(ip->payload(), ip->src(), ip->dst());
      if (tcp.ok()) on_tcp(*tcp);
      inner_.transmit_one(p, now);
    }
    return packets.size();
  }
  Instant next_deadline() const override { return inner_.next_deadline(); }

 protected:
  virtual void on_tcp(const wire::TcpPacket& seg) = 0;

 private:
  dev::Device& inner_;
};

}  // namespace utcp::test
