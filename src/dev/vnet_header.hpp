// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The virtio-net header a TUN device with IFF_VNET_HDR puts before every packet (10 bytes,
// host byte order on a little-endian machine). It carries checksum and segmentation
// offload metadata: "the checksum is partial, finish it" or "this frame holds many
// MSS-sized TCP segments" (the kernel's GSO).
// <linux/virtio_net.h> does not compile as C++ (a field named `class`), so the few
// constants are restated here with the kernel's values.
#include <cstdint>

namespace utcp::dev {

inline constexpr uint8_t VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
inline constexpr uint8_t VIRTIO_NET_HDR_F_DATA_VALID = 2;
inline constexpr uint8_t VIRTIO_NET_HDR_GSO_NONE = 0;
inline constexpr uint8_t VIRTIO_NET_HDR_GSO_TCPV4 = 1;
inline constexpr uint8_t VIRTIO_NET_HDR_GSO_TCPV6 = 4;

struct VnetHeader {
  uint8_t flags = 0;         // VIRTIO_NET_HDR_F_NEEDS_CSUM / _DATA_VALID
  uint8_t gso_type = 0;      // VIRTIO_NET_HDR_GSO_NONE / _TCPV4 / ...
  uint16_t hdr_len = 0;      // IP + TCP header bytes of a GSO frame
  uint16_t gso_size = 0;     // payload bytes per segment
  uint16_t csum_start = 0;   // where the partial checksum starts (the TCP header)
  uint16_t csum_offset = 0;  // where inside it the checksum field sits

  // The kernel vouches for the payload: either it verified the checksum, or it left the
  // checksum partial because the packet never crossed a wire (local TCP with TUN_F_CSUM).
  bool checksum_trusted() const {
    return (flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) != 0;
  }
  bool is_gso() const { return gso_type != VIRTIO_NET_HDR_GSO_NONE; }
};
static_assert(sizeof(VnetHeader) == 10);  // struct virtio_net_hdr

}  // namespace utcp::dev
