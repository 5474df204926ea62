// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Direct placement, owned in one place: reading a bulk segment from a scattering device
// (TUN) straight into its connection's receive ring at RCV.NXT, so the payload is never
// copied out of a slot. Two parts:
//  - the predictor: the connection that last got a bulk segment (kMinPayload or more), the
//    IP+TCP header length and payload size it had; its next segment is likely the same shape;
//  - the lease on that connection's receive ring, taken for one read. The device writes the
//    packet's headers into the `headroom` bytes just before RCV.NXT (they may be unread data:
//    the lease saved them and puts them back exactly, whatever the prediction becomes in the
//    meantime) and its payload at RCV.NXT. While the lease is held the ring's storage cannot
//    move (tcp::Connection::hold_receive_storage), so nothing stored can reallocate the ring
//    under the placed bytes. A packet is used in place only when the wire views show it is
//    the predicted connection's next in-order segment with the predicted headers, wholly
//    inside the room offered; anything else is gathered back into the slot and released
//    first, and then takes the usual path.
// Contract with the device: dev::PacketSlot::place / placed (dev/device.hpp); with the ring:
// tcp::ReassemblyQueue::placement / hold_storage.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/socket_table.hpp"
#include "tcp/reassembly_queue.hpp"
#include "utcp/device.hpp"

namespace utcp::stack {

class DirectPlacement {
 public:
  // Segments at least this large make their connection the target.
  static constexpr size_t kMinPayload = 16 * 1024;
  // Most header bytes a lease can put in front of RCV.NXT.
  static constexpr size_t kMaxHeaders = tcp::ReassemblyQueue::kPlacementHeadroom;

  // One read's hold on a receive ring. Not copyable; releasing twice is harmless.
  class Lease {
   public:
    Lease() = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { release(); }

    explicit operator bool() const { return conn_ != nullptr; }
    // Where the device may write the packet: the headroom, then the room at RCV.NXT.
    std::span<uint8_t> area() const { return area_; }
    // Whether the `placed` bytes (at the start of area()) are, by the wire views, the
    // predicted connection's next in-order segment with the predicted header length.
    bool as_predicted(std::span<const uint8_t> placed) const;
    bool as_predicted6(std::span<const uint8_t> placed) const;  // the IPv6 half
    // Puts the saved headroom bytes back and lets the ring move again.
    void release();

   private:
    friend class DirectPlacement;
    tcp::Connection* conn_ = nullptr;
    FourTuple tuple_;  // a copy: the socket table may grow (move) while the lease is held
    std::span<uint8_t> area_;
    size_t headroom_ = 0;  // fixed at acquisition: the prediction may change while held
    std::array<uint8_t, kMaxHeaders> saved_{};
  };

  // Only a device that scatters reads (dev::Device capabilities) is ever offered a ring.
  explicit DirectPlacement(bool device_scatters) : enabled_(device_scatters) {}

  // Predictor: connection `index` was just given a segment of `payload` bytes that sat
  // `headers` bytes into its packet (0: not in one packet, e.g. reassembled from fragments).
  void observe(uint32_t index, size_t headers, size_t payload) {
    if (!enabled_ || payload < kMinPayload || headers == 0) return;
    index_ = index;
    headers_ = headers;
    payload_ = payload;
  }

  // Takes a lease on the predicted connection's ring for the next read into `lease`, or
  // leaves it empty (no prediction, the connection is gone, or its ring offers no room now).
  void acquire(SocketTable& sockets, Lease& lease);

 private:
  bool enabled_;
  uint32_t index_ = kNoIndex;
  size_t headers_ = 0;
  size_t payload_ = 0;
};

}  // namespace utcp::stack
