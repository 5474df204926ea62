// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The one interface every packet device implements: TUN, the in-memory link, and the
// wrappers (fault injector, pcap tap). Devices carry whole IPv4 packets, nothing more.
// Buffers are owned by the caller, so a device never allocates per packet.
#include <cstddef>
#include <cstdint>
#include <span>

#include "utcp/time.hpp"

namespace utcp::dev {

// One caller-owned receive buffer. receive() writes a packet into `buf` and sets `len`.
struct PacketSlot {
  std::span<uint8_t> buf;
  size_t len = 0;
  // Set by a device whose hardware (or kernel) already vouched for the transport checksum,
  // e.g. a TUN with checksum offload; the stack then skips verifying it.
  bool checksum_verified = false;
  // Optional placement (only for a device whose capabilities() say scatter_receive): the caller
  // asks for the packet's first bytes to land in `place`, and only what does not fit there to
  // go to `buf`, so that a payload can be read straight to where it will stay. The device sets
  // `placed` to the bytes written to `place`; the packet is then place[0, placed) followed by
  // buf[0, len - placed), and `len` counts both parts.
  std::span<uint8_t> place;
  size_t placed = 0;

  std::span<uint8_t> data() const { return buf.first(len); }
};

// What a link carries (IP packets now; Ethernet frames later).
enum class Medium : uint8_t { kIp };

// What a device states about itself; the Stack derives its MSS, its TSO segment size and
// which checksums it computes from this, so no caller has to.
struct DeviceCapabilities {
  size_t mtu = 1500;  // largest IPv4 packet the link carries (the MSS is this minus 40)
  Medium medium = Medium::kIp;
  // receive() may set PacketSlot::checksum_verified (the kernel or hardware vouched for the
  // TCP checksum); the stack then skips summing those payloads.
  bool rx_checksum_offload = false;
  // TSO/GSO: transmit() accepts a TCP segment larger than `mtu`, up to this many bytes of
  // IPv4 packet, and cuts it into MTU-sized packets itself. 0: every packet fits the MTU.
  size_t tso_max_bytes = 0;
  // With TSO: transmit() computes the TCP checksums of the pieces of such a segment (only
  // ACK, PSH and FIN set, as a segment TCP's TSO sender makes), so the stack leaves that
  // segment's checksum field undone instead of summing 64 KB the device throws away.
  bool tso_checksum_offload = false;
  // receive() honours PacketSlot::place (a scatter read): direct placement (stack/).
  bool scatter_receive = false;
};

class Device {
 public:
  virtual ~Device() = default;

  // A file descriptor that becomes readable when receive() has something; -1 when the
  // device lives in memory (the caller then relies on next_deadline() and its own calls).
  virtual int fd() const { return -1; }

  // Largest IPv4 packet the device carries.
  virtual size_t mtu() const = 0;

  // What the device supports beyond plain packets of mtu() bytes (none by default). A wrapper
  // that copies or alters packets (fault injector, pcap tap) states only what survives it.
  virtual DeviceCapabilities capabilities() const {
    DeviceCapabilities c;
    c.mtu = mtu();
    return c;
  }

  // Non-blocking. Fills up to slots.size() caller-owned buffers with received packets and
  // returns how many were filled (0: nothing now). A packet larger than its slot's buffer is
  // dropped (and counted by the device), never truncated.
  virtual size_t receive(std::span<PacketSlot> slots, Instant now) = 0;

  // Sends whole IPv4 packets; returns how many were accepted (the rest may be retried).
  // "Accepted" includes packets a lossy device deliberately drops, as a real network would.
  virtual size_t transmit(std::span<const std::span<const uint8_t>> packets, Instant now) = 0;

  // When a packet held back for delay becomes deliverable (kNever if none): the caller
  // should call receive() (or transmit()) again no later than this.
  virtual Instant next_deadline() const { return kNever; }

  // Convenience for a single packet.
  bool transmit_one(std::span<const uint8_t> packet, Instant now) {
    return transmit(std::span<const std::span<const uint8_t>>(&packet, 1), now) == 1;
  }
};

}  // namespace utcp::dev
