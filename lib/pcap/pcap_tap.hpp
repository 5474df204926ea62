// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Wraps a Device and records every packet it receives or transmits to a pcap file with
// link type LINKTYPE_RAW (bare IPv4 or IPv6, told apart by the version nibble), stamped with the
// caller's `now`, so that `tshark -r file` or Wireshark can decode a run packet by packet.
#include <cstdint>
#include <string>

#include "utcp/device.hpp"

namespace utcp::dev {

class PcapTap final : public Device {
 public:
  // Creates (truncates) the file; throws std::runtime_error naming the path on failure.
  PcapTap(Device& inner, const std::string& path, uint32_t snaplen = 65535);
  ~PcapTap() override;
  PcapTap(const PcapTap&) = delete;
  PcapTap& operator=(const PcapTap&) = delete;

  int fd() const override { return inner_.fd(); }
  size_t mtu() const override { return inner_.mtu(); }
  // The inner device's, but no scatter read (a record needs the packet in one piece).
  DeviceCapabilities capabilities() const override {
    DeviceCapabilities c = inner_.capabilities();
    c.scatter_receive = false;
    return c;
  }
  size_t receive(std::span<PacketSlot> slots, Instant now) override;
  size_t transmit(std::span<const std::span<const uint8_t>> packets, Instant now) override;
  Instant next_deadline() const override { return inner_.next_deadline(); }

  // Pushes buffered records to the file (the destructor does it too).
  void flush();
  uint64_t packets_written() const { return written_; }

 private:
  void record(std::span<const uint8_t> packet, Instant now);

  Device& inner_;
  void* pcap_;    // pcap_t*, opaque here so users need no libpcap headers
  void* dumper_;  // pcap_dumper_t*
  uint32_t snaplen_;
  uint64_t written_ = 0;
};

}  // namespace utcp::dev
