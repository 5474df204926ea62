// SPDX-License-Identifier: BSD-2-Clause
// Linux's TCP_CORK and MSG_MORE in the engine: whole segments go, a short tail waits for more
// data, the cork ceiling (200 ms with nothing in flight), a FIN or a plain write releases it;
// with segmentation offload the tail is cut off the planned burst.
#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"

namespace utcp::test {
namespace {

std::vector<uint8_t> slice(const std::vector<uint8_t>& v, size_t from, size_t n) {
  return {v.begin() + static_cast<long>(from), v.begin() + static_cast<long>(from + n)};
}

TEST(Cork, WholeSegmentsGoTheTailWaitsUntilUncorked) {
  Harness h;
  h.establish();
  h.conn.set_cork(true);
  const auto data = pattern(3000);
  h.app_send_bytes(data);
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).bytes(slice(data, 0, 1460)));
  h.expect(seg().at(L(1461)).ack(R(1)).win(64000).bytes(slice(data, 1460, 1460)));
  h.expect_nothing();
  h.send(seg().at(R(1)).ack(L(2921)).win(64000));
  h.expect_nothing();  // everything acknowledged, the 80-byte tail still corked
  h.conn.set_cork(false);
  h.flush();
  h.expect(seg().at(L(2921)).ack(R(1)).win(64000).psh().bytes(slice(data, 2920, 80)));
}

TEST(Cork, CeilingSendsTheTailAfter200msWithNothingInFlight) {
  Harness h;
  h.establish();
  h.conn.set_cork(true);
  h.app_send("abc");
  h.expect_nothing();
  h.advance(Duration(199'000));
  h.expect_nothing();
  h.advance(Duration(1'000));
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).psh().data("abc"));
  // The ceiling is not a zero-window probe: nothing is counted against the connection.
  EXPECT_EQ(h.conn.sender().probes_unanswered(), 0u);
  EXPECT_EQ(h.conn.sender().persist_backoff(), 0u);
}

TEST(Cork, MoreHoldsUntilAPlainWriteAndAFinIsNeverHeld) {
  Harness h;
  h.establish();
  h.conn.send(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("ab"), 2), h.now);
  h.conn.set_more();  // that write had MSG_MORE
  h.flush();
  h.expect_nothing();
  h.app_send("cd");  // no MSG_MORE: everything goes
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).psh().data("abcd"));
  h.send(seg().at(R(1)).ack(L(5)).win(64000));
  h.conn.set_cork(true);
  h.app_send("ef");
  h.expect_nothing();
  h.app_shutdown();  // the FIN takes the corked bytes with it
  h.expect(seg().at(L(5)).ack(R(1)).win(64000).psh().fin().data("ef"));
}

TEST(Cork, WithOffloadTheTailIsCutOffTheBurst) {
  tcp::Config cfg = plain_config();
  cfg.tso_max_bytes = 65535 - 80;
  Harness h(cfg);
  h.establish();
  h.conn.set_cork(true);
  const auto data = pattern(5000);
  h.app_send_bytes(data);
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).bytes(slice(data, 0, 3 * 1460)));
  h.expect_nothing();
  h.conn.set_cork(false);
  h.flush();
  // Uncorked, Nagle decides: with Minshall's refinement the tail goes, as no other short
  // segment is unacknowledged.
  h.expect(seg().at(L(1 + 3 * 1460)).ack(R(1)).win(64000).psh().bytes(slice(data, 3 * 1460, 620)));
}

}  // namespace
}  // namespace utcp::test
