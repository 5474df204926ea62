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
  // Optional placement (only for a device whose supports_placement() is true): the caller
  // asks for the packet's first bytes to land in `place`, and only what does not fit there to
  // go to `buf`, so that a payload can be read straight to where it will stay. The device sets
  // `placed` to the bytes written to `place`; the packet is then place[0, placed) followed by
  // buf[0, len - placed), and `len` counts both parts.
  std::span<uint8_t> place;
  size_t placed = 0;

  std::span<uint8_t> data() const { return buf.first(len); }
};

class Device {
 public:
  virtual ~Device() = default;

  // A file descriptor that becomes readable when receive() has something; -1 when the
  // device lives in memory (the caller then relies on next_deadline() and its own calls).
  virtual int fd() const { return -1; }

  // Largest IPv4 packet the device carries.
  virtual size_t mtu() const = 0;

  // Non-blocking. Fills up to slots.size() caller-owned buffers with received packets and
  // returns how many were filled (0: nothing now). A packet larger than its slot's buffer is
  // dropped (and counted by the device), never truncated.
  virtual size_t receive(std::span<PacketSlot> slots, Instant now) = 0;

  // Sends whole IPv4 packets; returns how many were accepted (the rest may be retried).
  // "Accepted" includes packets a lossy device deliberately drops, as a real network would.
  virtual size_t transmit(std::span<const std::span<const uint8_t>> packets, Instant now) = 0;

  // Whether receive() honours PacketSlot::place (a scatter read); others ignore it.
  virtual bool supports_placement() const { return false; }

  // When a packet held back for delay becomes deliverable (kNever if none): the caller
  // should call receive() (or transmit()) again no later than this.
  virtual Instant next_deadline() const { return kNever; }

  // Convenience for a single packet.
  bool transmit_one(std::span<const uint8_t> packet, Instant now) {
    return transmit(std::span<const std::span<const uint8_t>>(&packet, 1), now) == 1;
  }
};

}  // namespace utcp::dev
