// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Helpers for wire tests: hand-built segments and headers with valid checksums, so each
// rejection test breaks exactly one rule.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <iterator>
#include <vector>

#include "support/test_stream.hpp"
#include "utcp/address.hpp"
#include "wire/checksum.hpp"

namespace utcp::wire::test {

using utcp::test::test_seed;

inline const Ipv4Addr kSrcAddr(10, 77, 0, 1);
inline const Ipv4Addr kDstAddr(10, 77, 0, 2);

// A TCP header (ports 1234 -> 80, seq 0x01020304, ack 0x0a0b0c0d, flags ACK, window
// 0x1000, urgent 0) with the given options area and payload. data_offset defaults to the
// real header size; the checksum is valid for kSrcAddr -> kDstAddr unless broken later.
inline std::vector<uint8_t> tcp_segment(std::vector<uint8_t> options = {},
                                        std::vector<uint8_t> payload = {},
                                        int data_offset_words = -1) {
  constexpr uint8_t kHeader[20] = {0x04, 0xd2, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b,
                                   0x0c, 0x0d, 0x00, 0x10, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00};
  // Sized once and copied into place: g++ 12 -O3 reports a false -Warray-bounds when a
  // vector built from the 20 header bytes grows by insert().
  std::vector<uint8_t> s(sizeof kHeader + options.size() + payload.size());
  auto end = std::copy(std::begin(kHeader), std::end(kHeader), s.begin());
  end = std::copy(options.begin(), options.end(), end);
  std::copy(payload.begin(), payload.end(), end);
  const size_t header_bytes = sizeof kHeader + options.size();
  const int words = data_offset_words >= 0 ? data_offset_words : static_cast<int>(header_bytes / 4);
  s[12] = static_cast<uint8_t>(words << 4);
  const uint16_t c =
      ipv4_pseudo_header(kSrcAddr.value, kDstAddr.value, 6, static_cast<uint16_t>(s.size()))
          .add(s)
          .finish();
  s[16] = static_cast<uint8_t>(c >> 8);
  s[17] = static_cast<uint8_t>(c);
  return s;
}

// Recomputes the IPv4 header checksum in place (header of `ihl_bytes`).
inline void fix_ipv4_checksum(std::vector<uint8_t>& p, size_t ihl_bytes) {
  p[10] = p[11] = 0;
  const uint16_t c = internet_checksum(std::span<const uint8_t>(p).first(ihl_bytes));
  p[10] = static_cast<uint8_t>(c >> 8);
  p[11] = static_cast<uint8_t>(c);
}

// Recomputes an ICMP checksum in place over the whole message.
inline void fix_icmp_checksum(std::vector<uint8_t>& m) {
  m[2] = m[3] = 0;
  const uint16_t c = internet_checksum(m);
  m[2] = static_cast<uint8_t>(c >> 8);
  m[3] = static_cast<uint8_t>(c);
}

}  // namespace utcp::wire::test
