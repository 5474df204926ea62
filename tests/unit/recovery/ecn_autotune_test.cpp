// SPDX-License-Identifier: BSD-2-Clause
// ECN (RFC 3168 §6.1) state and receive-buffer autotuning.
#include <gtest/gtest.h>

#include "tcp/ecn.hpp"
#include "tcp/rcv_autotune.hpp"
#include "wire/tcp.hpp"

namespace utcp::tcp {
namespace {

namespace flag = wire::tcp_flag;
using wire::SeqNum;

TEST(Ecn, NegotiationActiveAndPassive) {
  EcnState client(true), server(true);
  EXPECT_EQ(client.syn_flags(), flag::kEce | flag::kCwr);
  server.on_syn_received(flag::kSyn | client.syn_flags());
  EXPECT_TRUE(server.negotiated());
  EXPECT_EQ(server.syn_ack_flags(), flag::kEce);
  client.on_syn_ack_received(flag::kSyn | flag::kAck | server.syn_ack_flags());
  EXPECT_TRUE(client.negotiated());
}

TEST(Ecn, NoNegotiationWhenEitherSideDisabledOrMalformed) {
  EcnState off(false), on(true);
  EXPECT_EQ(off.syn_flags(), 0);
  on.on_syn_received(flag::kSyn);  // plain SYN
  EXPECT_FALSE(on.negotiated());
  EXPECT_EQ(on.syn_ack_flags(), 0);
  off.on_syn_received(flag::kSyn | flag::kEce | flag::kCwr);
  EXPECT_FALSE(off.negotiated());
  EcnState c(true);
  c.on_syn_ack_received(flag::kSyn | flag::kAck | flag::kEce | flag::kCwr);  // not ECN-setup
  EXPECT_FALSE(c.negotiated());
  EcnState d(true);
  d.on_syn_ack_received(flag::kSyn | flag::kAck);
  EXPECT_FALSE(d.negotiated());
}

EcnState negotiated() {
  EcnState e(true);
  e.on_syn_ack_received(flag::kSyn | flag::kAck | flag::kEce);
  return e;
}

TEST(Ecn, CodepointOnlyOnNewData) {
  EcnState e = negotiated();
  EXPECT_EQ(e.codepoint(true, false, false), EcnCodepoint::kEct0);
  EXPECT_EQ(e.codepoint(false, false, false), EcnCodepoint::kNotEct);  // pure ACK §6.1.4
  EXPECT_EQ(e.codepoint(true, true, false), EcnCodepoint::kNotEct);    // retransmission §6.1.5
  EXPECT_EQ(e.codepoint(true, false, true), EcnCodepoint::kNotEct);    // window probe §6.1.6
  EcnState off(false);
  EXPECT_EQ(off.codepoint(true, false, false), EcnCodepoint::kNotEct);
}

TEST(Ecn, ReceiverEchoesCeUntilCwr) {
  EcnState e = negotiated();
  e.on_data_received(EcnCodepoint::kEct0, 0);
  EXPECT_FALSE(e.ece_pending());
  e.on_data_received(EcnCodepoint::kCe, 0);
  EXPECT_TRUE(e.ece_pending());
  e.on_data_received(EcnCodepoint::kEct0, 0);
  EXPECT_TRUE(e.ece_pending());  // keeps echoing on later ACKs
  e.on_data_received(EcnCodepoint::kEct0, flag::kCwr);
  EXPECT_FALSE(e.ece_pending());
  e.on_data_received(EcnCodepoint::kCe, flag::kCwr);  // CE in the CWR segment: echo again
  EXPECT_TRUE(e.ece_pending());
  EXPECT_EQ(e.ce_received(), 2u);
}

TEST(Ecn, SenderReactsOncePerWindowAndSetsCwr) {
  EcnState e = negotiated();
  const SeqNum una(100), max(10100);
  EXPECT_TRUE(e.on_ece_received(una, max));
  EXPECT_TRUE(e.cwr_pending());
  e.commit_cwr();
  EXPECT_FALSE(e.cwr_pending());
  // More ECE in the same window: no second reduction.
  EXPECT_FALSE(e.on_ece_received(una + 5000, max + 2000));
  // Once SND.UNA reaches the window's end, a new ECE reduces again.
  EXPECT_TRUE(e.on_ece_received(max, max + 8000));
  EXPECT_EQ(e.ece_reactions(), 2u);
  // A loss reduction counts as the window's reaction too.
  EcnState f = negotiated();
  f.on_window_reduced(max);
  EXPECT_TRUE(f.cwr_pending());
  EXPECT_FALSE(f.on_ece_received(una, max));
}

TEST(RcvAutotune, GrowsWithRateTimesRttUpToMax) {
  RcvAutotune a(64 * 1024, 1 << 20);
  const Duration rtt(10'000);
  // 100 KB delivered per 10 ms round: grows to 2 * 100 KB + 4 MSS.
  std::optional<size_t> grown;
  int64_t t = 0;
  for (int i = 0; i <= 10; ++i) {
    auto g = a.on_delivered(10'000, instant_from_us(t), rtt, 1000);
    if (g) grown = g;
    t += 1000;
  }
  ASSERT_TRUE(grown);
  EXPECT_EQ(*grown, 2 * 110'000u + 4000u);
  EXPECT_EQ(a.capacity(), *grown);
  // A faster rate is bounded by the maximum.
  for (int i = 0; i <= 20; ++i) {
    a.on_delivered(100'000, instant_from_us(t), rtt, 1000);
    t += 1000;
  }
  EXPECT_EQ(a.capacity(), size_t{1} << 20);
}

TEST(RcvAutotune, SlowReaderDoesNotShrinkOrGrow) {
  RcvAutotune a(64 * 1024, 1 << 20);
  for (int i = 0; i < 50; ++i) {
    EXPECT_FALSE(a.on_delivered(100, instant_from_us(i * 1000), Duration(10'000), 1000));
  }
  EXPECT_EQ(a.capacity(), 64u * 1024);
}

}  // namespace
}  // namespace utcp::tcp
