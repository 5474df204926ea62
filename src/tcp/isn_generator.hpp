// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Initial sequence numbers per RFC 6528 / RFC 9293 §3.4.1:
//   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
// M is a 4-microsecond timer, F is SipHash-2-4 keyed by a 128-bit secret the caller supplies
// (the stack picks it from a random source at start-up; the engine stays deterministic).
#include <array>
#include <cstdint>
#include <span>

#include "base/siphash.hpp"
#include "utcp/address.hpp"
#include "utcp/time.hpp"
#include "wire/seq_num.hpp"

namespace utcp::tcp {

class IsnGenerator {
 public:
  explicit IsnGenerator(const std::array<uint8_t, 16>& secret) : secret_(secret) {}

  wire::SeqNum isn(const wire::IpAddr& local, uint16_t local_port, const wire::IpAddr& remote,
                   uint16_t remote_port, Instant now) const;

 private:
  std::array<uint8_t, 16> secret_;
};

}  // namespace utcp::tcp
