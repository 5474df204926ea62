// SPDX-License-Identifier: BSD-2-Clause
// A passive half-open connection gives up after Config::synack_retries SYN-ACK retransmissions
// (Linux's tcp_synack_retries, 5 by default: 63 s), so a spoofed SYN does not hold its SYN
// queue slot for the active open's 243 s (RFC 4987 §3.2).
#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"

namespace utcp::test {
namespace {

using tcp::ErrorReason;
using tcp::Event;
using tcp::EventKind;
using tcp::State;

TEST(SynAckRetries, DefaultIsFiveLikeLinux) {
  EXPECT_EQ(tcp::Config{}.synack_retries, 5u);
}

TEST(SynAckRetries, HalfOpenGivesUpAfterFiveRetransmissionsInSixtyThreeSeconds) {
  tcp::Config cfg = plain_config();
  Harness h(cfg);
  const Instant start = h.now;
  h.conn.listen(kLocalIss);
  h.send(seg().syn().at(R(0)).win(8000).mss(1000));
  const Seg synack = seg().syn().at(L(0)).ack(R(1)).win(64000).mss(1460);
  h.expect(synack);
  for (int64_t wait_s : {1, 2, 4, 8, 16}) {
    EXPECT_EQ(h.advance_to_next_deadline(), Duration(wait_s * 1'000'000));
    h.expect(synack);
    h.expect_nothing();
  }
  EXPECT_EQ(h.advance_to_next_deadline(), Duration(32'000'000));
  h.expect_nothing();
  h.expect_state(State::kClosed);
  EXPECT_EQ(h.now - start, std::chrono::seconds(63));
  EXPECT_EQ(h.conn.error(), ErrorReason::kTimedOut);
}

TEST(SynAckRetries, Configurable) {
  tcp::Config cfg = plain_config();
  cfg.synack_retries = 1;
  Harness h(cfg);
  h.conn.listen(kLocalIss);
  h.send(seg().syn().at(R(0)).win(8000).mss(1000));
  h.pop();
  EXPECT_EQ(h.advance_to_next_deadline(), Duration(1'000'000));
  h.pop();
  EXPECT_EQ(h.advance_to_next_deadline(), Duration(2'000'000));
  h.expect_nothing();
  h.expect_state(State::kClosed);
}

TEST(SynAckRetries, ActiveOpenKeepsItsOwnLimit) {
  // The SYN of an active open still follows syn_retries (RFC 9293 MUST-23, 3 minutes).
  tcp::Config cfg = plain_config();
  cfg.synack_retries = 1;
  cfg.syn_retries = 3;
  Harness h(cfg);
  h.conn.open_active(h.now, kLocalIss);
  h.pop();
  for (int i = 0; i < 3; ++i) {
    h.advance_to_next_deadline();
    h.pop();
    h.expect_state(State::kSynSent);
  }
  h.advance_to_next_deadline();
  h.expect_state(State::kClosed);
}

}  // namespace
}  // namespace utcp::test
