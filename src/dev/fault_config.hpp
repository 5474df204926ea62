// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What the fault injector does to the packets of one direction, and what it counted.
#include <cstddef>
#include <cstdint>

#include "utcp/time.hpp"

namespace utcp::dev {

struct FaultConfig {
  double drop = 0;       // probability a packet is lost
  double duplicate = 0;  // probability a packet is delivered twice
  double corrupt = 0;    // probability one random bit of the packet is flipped
  double reorder = 0;    // probability a packet is held back and released after the next one
  Duration reorder_hold{10'000};         // ...or after this long if no next packet comes
  Duration delay{0};                     // fixed extra latency
  Duration jitter{0};                    // plus a uniform random extra in [0, jitter]
  double rate_mbps = 0;                  // bottleneck rate in Mbit/s (token bucket); 0: unlimited
  size_t rate_burst_bytes = 0;           // bytes that may pass back to back at full speed
  size_t rate_queue_bytes = 256 * 1024;  // bottleneck backlog beyond which packets drop
  size_t mtu_cap = 0;                    // packets larger than this are dropped; 0: no cap
  size_t queue_packets = 1024;           // packets held inside the injector at once
};

struct FaultCounters {
  uint64_t seen = 0;       // packets offered
  uint64_t delivered = 0;  // packets passed on (duplicates count twice)
  uint64_t dropped = 0;    // random loss
  uint64_t duplicated = 0;
  uint64_t corrupted = 0;
  uint64_t reordered = 0;      // packets held back
  uint64_t mtu_dropped = 0;    // over mtu_cap
  uint64_t rate_dropped = 0;   // bottleneck backlog full
  uint64_t queue_dropped = 0;  // injector queue full, or the inner device refused
};

}  // namespace utcp::dev
