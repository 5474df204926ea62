// SPDX-License-Identifier: BSD-2-Clause
// The demultiplexing verdict on its own: every combination of "a connection owns the 4-tuple",
// "a listener owns the port", TIME-WAIT reopenability and the TCP flags, against the rules of
// RFC 9293 §3.10.7.1 (CLOSED), §3.10.7.2 (LISTEN) and §3.6.1 / RFC 6191 (TIME-WAIT reuse).
#include <gtest/gtest.h>

#include "stack/tcp_demux.hpp"
#include "wire/tcp.hpp"

namespace utcp::stack {
namespace {

using namespace wire::tcp_flag;

DemuxVerdict verdict(bool connection, bool listener, uint8_t flags, bool reopenable = false) {
  DemuxFacts f;
  f.connection = connection;
  f.listener = listener;
  f.flags = flags;
  f.time_wait_reopenable = reopenable;
  return demux_tcp(f);
}

TEST(TcpDemux, AConnectionGetsEverySegmentOfItsTuple) {
  for (uint8_t flags : {uint8_t{0}, kAck, uint8_t(kAck | kPsh), kSyn, uint8_t(kSyn | kAck), kRst,
                        uint8_t(kFin | kAck)}) {
    EXPECT_EQ(verdict(true, false, flags), DemuxVerdict::kDeliver) << int(flags);
    EXPECT_EQ(verdict(true, true, flags), DemuxVerdict::kDeliver) << int(flags);
  }
}

TEST(TcpDemux, ReopenableTimeWaitSynGoesToTheListener) {
  EXPECT_EQ(verdict(true, true, kSyn, true), DemuxVerdict::kReopenTimeWait);
  // Without a listener there is nobody to take the new incarnation: TIME-WAIT answers it.
  EXPECT_EQ(verdict(true, false, kSyn, true), DemuxVerdict::kDeliver);
  // Not reopenable (an old duplicate may be): TIME-WAIT handles the SYN itself.
  EXPECT_EQ(verdict(true, true, kSyn, false), DemuxVerdict::kDeliver);
  // Only a SYN can reopen.
  EXPECT_EQ(verdict(true, true, kAck, true), DemuxVerdict::kDeliver);
}

TEST(TcpDemux, PureSynToAListeningPortOpens) {
  EXPECT_EQ(verdict(false, true, kSyn), DemuxVerdict::kToListener);
  EXPECT_EQ(verdict(false, true, uint8_t(kSyn | kEce | kCwr)), DemuxVerdict::kToListener);
}

TEST(TcpDemux, ListenStateRules) {
  // §3.10.7.2 first: a RST is ignored.
  EXPECT_EQ(verdict(false, true, kRst), DemuxVerdict::kDrop);
  EXPECT_EQ(verdict(false, true, uint8_t(kSyn | kRst)), DemuxVerdict::kDrop);
  // §3.10.7.2 second: an ACK is answered with <SEQ=SEG.ACK><CTL=RST>.
  EXPECT_EQ(verdict(false, true, kAck), DemuxVerdict::kReset);
  EXPECT_EQ(verdict(false, true, uint8_t(kSyn | kAck)), DemuxVerdict::kReset);
  // §3.10.7.2 fourth: other text or control is dropped.
  EXPECT_EQ(verdict(false, true, 0), DemuxVerdict::kDrop);
  EXPECT_EQ(verdict(false, true, kFin), DemuxVerdict::kDrop);
  EXPECT_EQ(verdict(false, true, kPsh), DemuxVerdict::kDrop);
}

TEST(TcpDemux, ClosedStateRules) {
  // §3.10.7.1: anything but a RST is answered with a RST; a RST is discarded.
  EXPECT_EQ(verdict(false, false, kSyn), DemuxVerdict::kReset);
  EXPECT_EQ(verdict(false, false, kAck), DemuxVerdict::kReset);
  EXPECT_EQ(verdict(false, false, 0), DemuxVerdict::kReset);
  EXPECT_EQ(verdict(false, false, kFin), DemuxVerdict::kReset);
  EXPECT_EQ(verdict(false, false, kRst), DemuxVerdict::kDrop);
  EXPECT_EQ(verdict(false, false, uint8_t(kRst | kAck)), DemuxVerdict::kDrop);
  // Reopenability means nothing without a connection.
  EXPECT_EQ(verdict(false, false, kSyn, true), DemuxVerdict::kReset);
}

DemuxVerdict forwarded(bool connection, bool pending, uint8_t flags) {
  DemuxFacts f;
  f.connection = connection;
  f.forwarded = true;
  f.pending = pending;
  f.flags = flags;
  return demux_tcp(f);
}

// Forwarding (issue 13): a pure SYN to a forwarded destination becomes a request; while it
// is pending, its SYN's retransmissions are absorbed, a RST cancels it, and anything else is
// dropped unanswered (nothing was sent that it could acknowledge).
TEST(TcpDemux, ForwardedDestinations) {
  EXPECT_EQ(forwarded(false, false, kSyn), DemuxVerdict::kForward);
  EXPECT_EQ(forwarded(false, false, uint8_t(kSyn | kEce | kCwr)), DemuxVerdict::kForward);
  EXPECT_EQ(forwarded(false, true, kSyn), DemuxVerdict::kAbsorbSyn);
  EXPECT_EQ(forwarded(false, true, kRst), DemuxVerdict::kCancelRequest);
  EXPECT_EQ(forwarded(false, true, uint8_t(kRst | kAck)), DemuxVerdict::kCancelRequest);
  EXPECT_EQ(forwarded(false, true, kAck), DemuxVerdict::kDrop);
  EXPECT_EQ(forwarded(false, true, uint8_t(kSyn | kAck)), DemuxVerdict::kDrop);
  // No request and no connection: as a closed port (RFC 9293 §3.10.7.1).
  EXPECT_EQ(forwarded(false, false, kAck), DemuxVerdict::kReset);
  EXPECT_EQ(forwarded(false, false, uint8_t(kSyn | kAck)), DemuxVerdict::kReset);
  EXPECT_EQ(forwarded(false, false, kRst), DemuxVerdict::kDrop);
  // An accepted forwarded connection owns its 4-tuple like any other.
  EXPECT_EQ(forwarded(true, false, kSyn), DemuxVerdict::kDeliver);
  EXPECT_EQ(forwarded(true, false, kAck), DemuxVerdict::kDeliver);
}

}  // namespace
}  // namespace utcp::stack
