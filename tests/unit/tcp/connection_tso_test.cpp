// SPDX-License-Identifier: BSD-2-Clause
// Segmentation offload on the sending side (Config::tso_max_bytes): the sender hands the
// device segments of several MSS, whole MSS only while data is in flight, so that the
// pieces the device cuts obey Nagle (RFC 9293 §3.7.4) exactly as MSS-sized segments would.
#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"

namespace utcp::test {
namespace {

std::vector<uint8_t> slice(const std::vector<uint8_t>& v, size_t from, size_t n) {
  return {v.begin() + static_cast<long>(from), v.begin() + static_cast<long>(from + n)};
}

tcp::Config tso_config() {
  tcp::Config c = plain_config();
  c.tso_max_bytes = 65535 - 80;
  return c;
}

TEST(ConnectionTso, OneLargeSegmentThenWholeMssWhileDataIsInFlight) {
  Harness h(tso_config());
  h.establish();
  const uint32_t mss = h.conn.effective_mss();
  const auto data = pattern(20000);
  // Nothing in flight: everything written goes at once, short tail included (Nagle allows).
  EXPECT_EQ(h.app_send_bytes(slice(data, 0, 5000)), 5000u);
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).psh().bytes(slice(data, 0, 5000)));
  h.expect_nothing();
  // With 5000 bytes unacknowledged, the congestion window (10 MSS) leaves room for several
  // MSS: they go as one segment of whole MSS; the short tail waits for an ACK.
  EXPECT_EQ(h.app_send_bytes(slice(data, 5000, 15000)), 15000u);
  const uint32_t room = 10 * mss - 5000;
  const uint32_t whole = room / mss * mss;
  ASSERT_GT(whole, mss);
  h.expect(seg().at(L(5001)).ack(R(1)).win(64000).bytes(slice(data, 5000, whole)));
  h.expect_nothing();
}

TEST(ConnectionTso, APathMtuBelowTheDevicesEndsTsoSegments) {
  // The device would cut a TSO segment at its own MTU (1500), too large for this path now:
  // after an ICMP "too big" lowered the path MTU, one MSS per segment.
  Harness h(tso_config());
  h.establish();
  h.conn.set_path_mtu(1280);
  const uint32_t mss = h.conn.effective_mss();
  ASSERT_LE(mss, 1280u - 40u);
  EXPECT_EQ(h.app_send_bytes(pattern(5000)), 5000u);
  for (int i = 0; i < 4; ++i) {
    auto s = h.pop();
    ASSERT_TRUE(s) << "segment " << i;
    EXPECT_LE(s->payload.size(), mss) << "segment " << i;
  }
}

TEST(ConnectionTso, OffByDefaultOneMssPerSegment) {
  Harness h;
  h.establish();
  const uint32_t mss = h.conn.effective_mss();
  const auto data = pattern(5000);
  EXPECT_EQ(h.app_send_bytes(data), 5000u);
  auto s = h.pop();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->payload.size(), mss);
}

}  // namespace
}  // namespace utcp::test
