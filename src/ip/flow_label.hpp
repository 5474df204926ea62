// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// IPv6 flow labels (RFC 6437) and fragment identifications (RFC 7739) from a keyed hash:
// stable for one flow, unpredictable to anyone without the key, cheap (one SipHash).
#include <array>
#include <cstdint>

#include "utcp/address.hpp"

namespace utcp::ip {

// RFC 6437 §3: a source labels each flow with a value that is uniformly distributed and
// hard to guess, computed statelessly from the 5-tuple and a secret; 20 bits, never 0
// (0 means "no label"). The Stack keeps one key and labels each connection with it.
uint32_t flow_label(const std::array<uint8_t, 16>& key, const wire::Ipv6Addr& src,
                    const wire::Ipv6Addr& dst, uint8_t protocol, uint16_t src_port,
                    uint16_t dst_port);

// RFC 7739 §5 (its hash-based algorithm): Fragment Identifications that are
// unpredictable across destinations (an off-path host learns nothing from the ones it
// receives) yet sequential per destination pair, so one pair's IDs do not repeat soon.
// id = F(src, dst) + counter[G(src, dst)], F and G keyed hashes, the counter bumped per use.
class Ipv6FragmentIds {
 public:
  explicit Ipv6FragmentIds(const std::array<uint8_t, 16>& key) : key_(key) {}
  uint32_t next(const wire::Ipv6Addr& src, const wire::Ipv6Addr& dst);

 private:
  static constexpr size_t kCounters = 256;
  std::array<uint8_t, 16> key_;
  std::array<uint32_t, kCounters> counters_{};
};

}  // namespace utcp::ip
