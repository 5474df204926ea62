// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Turns a run of back-to-back TCP segments of one connection into one GSO frame for a TUN
// device with TSO: a merged IPv4+TCP or IPv6+TCP header and a virtio-net header (GSO_TCPV4 or
// GSO_TCPV6) telling the kernel to
// cut the payload into gso_size pieces again (and to compute every checksum). Payloads are
// not copied: the caller writes header + each segment's payload with one writev().
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "dev/vnet_header.hpp"

namespace utcp::dev {

class TcpSegmentMerger {
 public:
  static constexpr size_t kMaxFrame = 65535;  // the IPv4 total length field

  // How many packets from the start of `packets` form one mergeable run (1 when the first
  // cannot be merged with the next; 0 for an empty span). A run: IPv4 without options or
  // fragmentation, or IPv6 without extension headers, TCP, same addresses/ports/ack/window/options,
  // contiguous sequence numbers, every segment but the last exactly as long as the first and
  // carrying only ACK, and the whole frame within kMaxFrame.
  static size_t run_length(std::span<const std::span<const uint8_t>> packets);

  // The piece size for one TCP packet larger than the link MTU (a TSO segment from the
  // sender: it must be cut to fit), or 0 when it fits or cannot be cut (not plain IPv4/TCP
  // or IPv6/TCP,
  // or SYN, RST, URG or ECN flags).
  static uint16_t oversized_piece(std::span<const uint8_t> packet, size_t mtu);

  // Builds the merged header of packets[0..count) (a run as above, or one oversized packet
  // with its piece size as gso_size) into header() and the virtio header for it.
  void merge(std::span<const std::span<const uint8_t>> packets, size_t count,
             uint16_t gso_size = 0);

  std::span<const uint8_t> header() const { return {header_.data(), header_len_}; }
  const VnetHeader& vnet() const { return vnet_; }
  // The payload of one packet of the run (the bytes after its IP and TCP headers).
  static std::span<const uint8_t> payload(std::span<const uint8_t> packet);

 private:
  std::array<uint8_t, 120> header_{};  // 60 bytes of IPv4 (or 40 of IPv6) + 60 of TCP at most
  size_t header_len_ = 0;
  VnetHeader vnet_;
};

}  // namespace utcp::dev
