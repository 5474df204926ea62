// SPDX-License-Identifier: BSD-2-Clause
// The SOCKS5 UDP request header (tools/proxy/socks5_udp.hpp, RFC 1928 §7): each address type
// encoded byte by byte and decoded back; fragments, reserved bits, unknown address types and
// every truncation rejected.
#include <gtest/gtest.h>

#include <vector>

#include "socks5_udp.hpp"

namespace utcp::proxy {
namespace {

using Bytes = std::vector<uint8_t>;
const Bytes kPayload = {'h', 'i'};

TEST(Socks5Udp, EncodesEachAddressType) {
  Bytes out;
  ASSERT_TRUE(encode_socks5_udp(Target{Ipv4Addr(10, 1, 2, 3), "", 53}, kPayload, out));
  EXPECT_EQ(out, (Bytes{0, 0, 0, 1, 10, 1, 2, 3, 0, 53, 'h', 'i'}));
  ASSERT_TRUE(encode_socks5_udp(Target{{}, "ex.com", 443}, kPayload, out));
  EXPECT_EQ(out, (Bytes{0, 0, 0, 3, 6, 'e', 'x', '.', 'c', 'o', 'm', 1, 187, 'h', 'i'}));
  ASSERT_TRUE(encode_socks5_udp(Target{*IpAddr::parse("2001:db8::1"), "", 5353}, kPayload, out));
  EXPECT_EQ(out, (Bytes{0, 0, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0,    0,    0,   0,
                        0, 0, 0, 0, 0,    0,    0,    1,    0x14, 0xe9, 'h', 'i'}));
  EXPECT_FALSE(encode_socks5_udp(Target{{}, std::string(256, 'a'), 1}, kPayload, out));
}

TEST(Socks5Udp, DecodesWhatItEncodes) {
  for (const Target& t : {Target{Ipv4Addr(192, 0, 2, 9), "", 1}, Target{{}, "a.b", 2},
                          Target{*IpAddr::parse("fd00::9"), "", 65535}}) {
    Bytes out;
    ASSERT_TRUE(encode_socks5_udp(t, kPayload, out));
    Socks5UdpError e;
    const auto d = decode_socks5_udp(out, e);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->address.addr, t.addr);
    EXPECT_EQ(d->address.domain, t.domain);
    EXPECT_EQ(d->address.port, t.port);
    EXPECT_EQ(Bytes(d->payload.begin(), d->payload.end()), kPayload);
    // Every shorter prefix that cuts into the header is rejected as truncated.
    const size_t header = out.size() - kPayload.size();
    for (size_t n = 0; n < header; ++n) {
      EXPECT_FALSE(decode_socks5_udp(std::span(out).first(n), e)) << n;
      EXPECT_EQ(e, Socks5UdpError::kTruncated) << n;
    }
  }
}

TEST(Socks5Udp, DropsFragmentsAndRejectsBadHeaders) {
  Socks5UdpError e;
  // RFC 1928 §7: FRAG != 0 is dropped by an implementation without reassembly.
  EXPECT_FALSE(decode_socks5_udp(Bytes{0, 0, 1, 1, 10, 0, 0, 1, 0, 53, 'x'}, e));
  EXPECT_EQ(e, Socks5UdpError::kFragmented);
  EXPECT_FALSE(decode_socks5_udp(Bytes{0, 0, 0x81, 1, 10, 0, 0, 1, 0, 53}, e));
  EXPECT_EQ(e, Socks5UdpError::kFragmented);
  EXPECT_FALSE(decode_socks5_udp(Bytes{0, 1, 0, 1, 10, 0, 0, 1, 0, 53}, e));
  EXPECT_EQ(e, Socks5UdpError::kReserved);
  EXPECT_FALSE(decode_socks5_udp(Bytes{0, 0, 0, 2, 10, 0, 0, 1, 0, 53}, e));
  EXPECT_EQ(e, Socks5UdpError::kAddressType);
  // An empty payload is a valid datagram.
  const auto d = decode_socks5_udp(Bytes{0, 0, 0, 1, 10, 0, 0, 1, 0, 53}, e);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->payload.empty());
}

}  // namespace
}  // namespace utcp::proxy
