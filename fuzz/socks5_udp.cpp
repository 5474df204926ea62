// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer target for the SOCKS5 UDP request header codec (tools/proxy/socks5_udp.hpp,
// RFC 1928 §7), which reads every datagram a SOCKS5 server's relay sends utcp-proxy. Any bytes
// as a datagram. Invariants: a decoded datagram's payload lies inside the input and ends with
// it; FRAG != 0 and RSV != 0 are never accepted; encoding the decoded address and payload again
// gives the input back (a name of length 0 aside, which has no encoding).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_check.hpp"
#include "socks5_udp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace utcp::proxy;
  const std::span<const uint8_t> in(data, size);
  Socks5UdpError error = Socks5UdpError::kNone;
  const auto d = decode_socks5_udp(in, error);
  check(d.has_value() == (error == Socks5UdpError::kNone));
  if (!d) return 0;
  check(size >= 4 && data[0] == 0 && data[1] == 0 && data[2] == 0);
  check(d->payload.data() >= data && d->payload.data() + d->payload.size() == data + size);
  const bool empty_name = data[3] == 3 && d->address.domain.empty();
  if (!empty_name) {
    std::vector<uint8_t> again;
    check(encode_socks5_udp(d->address, d->payload, again));
    check(again.size() == size && std::equal(again.begin(), again.end(), data));
  }
  return 0;
}
