// SPDX-License-Identifier: BSD-2-Clause
// Soft errors: problems reported to the application without closing the connection. Soft ICMP
// errors (RFC 9293 §3.9.2.2 SHLD-25, RFC 1122 §4.2.3.9), the R1 retransmission threshold
// (RFC 9293 §3.8.3 SHLD-9/10, RFC 1122 §4.2.3.5), and R2's default (SHLD-11).
#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"

namespace utcp::test {
namespace {

using tcp::ErrorReason;
using tcp::Event;
using tcp::EventKind;
using tcp::IcmpError;
using tcp::SoftError;
using tcp::State;

constexpr Duration ms(int64_t n) {
  return Duration(n * 1000);
}

const Event kSoft{EventKind::kSoftError};

// SHLD-25: Destination Unreachable codes 0, 1 and 5 are told to the application at once, and
// the connection goes on retransmitting.
TEST(SoftError, UnreachableCodesZeroOneFiveAreReportedAndTheConnectionGoesOn) {
  for (IcmpError e :
       {IcmpError::kNetUnreachable, IcmpError::kHostUnreachable, IcmpError::kSourceRouteFailed}) {
    Harness h;
    h.establish();
    h.app_send("x");
    const Seg x = seg().at(L(1)).ack(R(1)).win(64000).psh().data("x");
    h.expect(x);
    h.conn.on_icmp_error(e, h.now);
    h.expect_events({kSoft});
    ASSERT_TRUE(h.conn.soft_error());
    EXPECT_EQ(*h.conn.soft_error(), (SoftError{SoftError::Kind::kIcmp, e}));
    h.expect_state(State::kEstablished);
    EXPECT_EQ(h.advance_to_next_deadline(), ms(200));  // the retransmission timer still runs
    h.expect(x);
    h.expect_state(State::kEstablished);
    h.send(seg().at(R(1)).ack(L(2)).win(64000));
    h.expect_state(State::kEstablished);
  }
}

TEST(SoftError, TakingItClearsIt) {
  Harness h;
  h.establish();
  h.conn.on_icmp_error(IcmpError::kNetUnreachable, h.now);
  auto e = h.conn.take_soft_error();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->icmp, IcmpError::kNetUnreachable);
  EXPECT_FALSE(h.conn.soft_error());
  EXPECT_FALSE(h.conn.take_soft_error());
}

// As in Linux: once the peer acknowledges new data something worked, and the advice is stale.
TEST(SoftError, AnAckOfNewDataClearsIt) {
  Harness h;
  h.establish();
  h.app_send("x");
  h.pop();
  h.conn.on_icmp_error(IcmpError::kHostUnreachable, h.now);
  h.send(seg().at(R(1)).ack(L(1)).win(64000));  // a duplicate ACK is no progress
  EXPECT_TRUE(h.conn.soft_error());
  h.send(seg().at(R(1)).ack(L(2)).win(64000));
  EXPECT_FALSE(h.conn.soft_error());
}

// A smaller path MTU is handled by the engine itself (RFC 1191): nothing to tell.
TEST(SoftError, FragmentationNeededIsNotReported) {
  Harness h;
  h.establish();
  h.conn.set_path_mtu(1000);
  h.conn.on_icmp_error(IcmpError::kFragmentationNeeded, h.now);
  EXPECT_FALSE(h.conn.soft_error());
  h.expect_events({});
}

// SHLD-9/10: the default R1 is 3 retransmissions (RFC 1122 §4.2.3.5); reaching it is told once,
// and the connection keeps retransmitting towards R2.
TEST(SoftError, R1DefaultsToThreeRetransmissionsAndIsToldOnce) {
  Harness h;
  EXPECT_EQ(h.conn.config().r1_retransmits, 3u);
  h.establish();
  h.app_send("x");
  const Seg x = seg().at(L(1)).ack(R(1)).win(64000).psh().data("x");
  h.expect(x);
  for (int64_t d : {200, 400}) {
    EXPECT_EQ(h.advance_to_next_deadline(), ms(d));
    h.expect(x);
    h.expect_events({});
    EXPECT_FALSE(h.conn.soft_error());
  }
  EXPECT_EQ(h.advance_to_next_deadline(), ms(800));  // the third retransmission: R1
  h.expect(x);
  h.expect_events({kSoft});
  ASSERT_TRUE(h.conn.soft_error());
  EXPECT_EQ(h.conn.soft_error()->kind, SoftError::Kind::kRetransmitThreshold);
  h.expect_state(State::kEstablished);
  EXPECT_EQ(h.advance_to_next_deadline(), ms(1600));  // the fourth: no second report
  h.expect(x);
  h.expect_events({});
  h.expect_state(State::kEstablished);
  h.send(seg().at(R(1)).ack(L(2)).win(64000));  // delivered after all: the advice is gone
  EXPECT_FALSE(h.conn.soft_error());
}

TEST(SoftError, R1IsConfigurableAndZeroTurnsItOff) {
  for (uint32_t r1 : {1u, 5u, 0u}) {
    tcp::Config cfg = plain_config();
    cfg.r1_retransmits = r1;
    cfg.max_retransmits = 6;
    Harness h(cfg);
    h.establish();
    h.app_send("x");
    h.pop();
    uint32_t reported_at = 0;
    for (uint32_t n = 1; n <= 6; ++n) {
      h.advance_to_next_deadline();
      for (const Event& e : h.events()) {
        if (e == kSoft) {
          EXPECT_EQ(reported_at, 0u) << "reported twice, R1 = " << r1;
          reported_at = n;
        }
      }
    }
    h.expect_state(State::kEstablished);
    EXPECT_EQ(reported_at, r1) << "R1 = " << r1;
  }
}

// SHLD-11: R2 SHOULD correspond to at least 100 s. The default (15 retransmissions, with the
// default RTO bounds of 200 ms to 60 s) gives up only after that.
TEST(SoftError, DefaultR2GivesUpNoSoonerThanOneHundredSeconds) {
  tcp::Config cfg;  // every default: timestamps, SACK, RACK-TLP, CUBIC
  EXPECT_EQ(cfg.max_retransmits, 15u);
  Harness h(cfg);
  h.conn.open_active(h.now, kLocalIss);
  h.flush();
  auto syn = h.pop();
  ASSERT_TRUE(syn);
  h.send(seg().syn().at(kRemoteIss).ack(kLocalIss + 1).win(64000).mss(1460).ts(1, 0));
  h.expect_state(State::kEstablished);
  h.outbox.clear();
  h.events();
  h.app_send("x");
  const Instant start = h.now;
  for (int i = 0; i < 100 && h.conn.state() != State::kClosed; ++i) {
    h.advance_to_next_deadline();
  }
  h.expect_state(State::kClosed);
  EXPECT_EQ(h.conn.error(), ErrorReason::kTimedOut);
  EXPECT_GE(h.now - start, std::chrono::seconds(100));
  EXPECT_EQ(h.conn.sender().rto_count(), 16u);  // 15 retransmissions, then the 16th timeout
}

}  // namespace
}  // namespace utcp::test
