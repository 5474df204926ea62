// SPDX-License-Identifier: BSD-2-Clause
// Options: window scale and timestamps (RFC 7323), MSS (RFC 9293 §3.7.1, RFC 6691), SACK not
// offered; urgent data (RFC 9293 §3.8.5, RFC 6093); sequence-number wraparound.
#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"
#include "tcp/options_negotiation.hpp"

namespace utcp::test {
namespace {

using tcp::Event;
using tcp::EventKind;
using tcp::State;

tcp::Config scaled_config() {
  tcp::Config c;  // defaults: 256 KiB buffers, scaling on
  c.timestamps = false;
  c.sack = false;
  c.recv_buffer_max = 0;  // no autotuning: the shift follows the 256 KiB buffer
  return c;
}

tcp::Config ts_config() {
  tcp::Config c = plain_config();
  c.timestamps = true;
  return c;
}

// Our timestamp clock in the harness: milliseconds of `now` plus the ISS as offset.
uint32_t our_ts(const Harness& h) {
  return static_cast<uint32_t>(to_us(h.now) / 1000) + kLocalIss.raw();
}

TEST(WindowScale, NegotiatedBothWays) {
  Harness h(scaled_config());
  h.conn.open_active(h.now, kLocalIss);
  // 256 KiB needs a shift of 3; the SYN's own window is never scaled (RFC 7323 §2.2).
  h.expect(seg().syn().at(L(0)).win(65535).mss(1460).wscale(3));
  h.send(seg().syn().at(R(0)).ack(L(1)).win(1000).mss(1460).wscale(2));
  EXPECT_EQ(h.conn.tcb().snd_wnd, 1000u);  // unscaled in the SYN-ACK
  h.expect(seg().at(L(1)).ack(R(1)).win(262144 >> 3));
  h.send(seg().at(R(1)).ack(L(1)).win(1000));
  EXPECT_EQ(h.conn.tcb().snd_wnd, 4000u);  // scaled from now on
}

TEST(WindowScale, NotUsedUnlessBothOffer) {
  Harness h(scaled_config());
  h.conn.open_active(h.now, kLocalIss);
  h.pop();
  h.send(seg().syn().at(R(0)).ack(L(1)).win(1000).mss(1460));
  h.expect(seg().at(L(1)).ack(R(1)).win(65535));  // capped, unscaled
  h.send(seg().at(R(1)).ack(L(1)).win(1000));
  EXPECT_EQ(h.conn.tcb().snd_wnd, 1000u);
}

TEST(WindowScale, PassiveEchoesOnlyWhenOfferedAndClampsShift) {
  Harness h(scaled_config());
  h.conn.listen(kLocalIss);
  h.send(seg().syn().at(R(0)).win(1000).mss(1460).wscale(15));
  h.expect(seg().syn().at(L(0)).ack(R(1)).win(65535).mss(1460).wscale(3));
  h.send(seg().at(R(1)).ack(L(1)).win(1));
  EXPECT_EQ(h.conn.tcb().snd_wscale, 14);  // RFC 7323 §2.3: 15 is treated as 14
  EXPECT_EQ(h.conn.tcb().snd_wnd, 1u << 14);

  Harness p(scaled_config());
  p.conn.listen(kLocalIss);
  p.send(seg().syn().at(R(0)).win(1000).mss(1460));
  p.expect(seg().syn().at(L(0)).ack(R(1)).win(65535).mss(1460));
}

TEST(WindowScale, ShiftForBufferSizes) {
  EXPECT_EQ(tcp::window_shift_for(65535), 0);
  EXPECT_EQ(tcp::window_shift_for(65536), 1);
  EXPECT_EQ(tcp::window_shift_for(256 * 1024), 3);
  EXPECT_EQ(tcp::window_shift_for(size_t{1} << 40), 14);
}

TEST(Sack, NotEchoedWhenDisabled) {
  // With SACK off (Config::sack = false) a SYN's SACK-permitted is not echoed (RFC 2018 §2).
  // SACK on is covered in unit_recovery (SackEngine.*).
  Harness h(scaled_config());
  h.conn.listen(kLocalIss);
  h.send(seg().syn().at(R(0)).win(1000).mss(1460).sack_permitted());
  h.expect(seg().syn().at(L(0)).ack(R(1)).win(65535).mss(1460));
}

TEST(Timestamps, NegotiatedEchoedAndUsedForRtt) {
  Harness h(ts_config());
  h.conn.open_active(h.now, kLocalIss);
  const uint32_t t0 = our_ts(h);
  h.expect(seg().syn().at(L(0)).win(64000).mss(1460).ts(t0, 0));
  h.advance(Duration(20'000));
  h.send(seg().syn().at(R(0)).ack(L(1)).win(64000).mss(1460).ts(5000, t0));
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).ts(t0 + 20, 5000));
  EXPECT_TRUE(h.conn.tcb().ts_enabled);
  EXPECT_EQ(h.conn.sender().rto().srtt(), Duration(20'000));  // from TSecr (RFC 7323 §4)
  EXPECT_EQ(h.conn.effective_mss(), 1460u - 12);              // RFC 6691
  // RTT from timestamps even for a retransmitted segment's ACK (no Karn ambiguity).
  h.app_send("x");
  const uint32_t t1 = our_ts(h);
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).psh().data("x").ts(t1, 5000));
  h.advance(Duration(40'000));
  h.send(seg().at(R(1)).ack(L(2)).win(64000).ts(5010, t1));
  EXPECT_EQ(h.conn.sender().rto().srtt(), Duration(20'000 * 7 / 8 + 40'000 / 8));
  EXPECT_EQ(h.conn.tcb().ts_recent, 5010u);
}

TEST(Timestamps, PawsRejectsOldTimestamp) {
  // RFC 7323 §5.3.
  Harness h(ts_config());
  h.conn.open_active(h.now, kLocalIss);
  const uint32_t t0 = our_ts(h);
  h.pop();
  h.send(seg().syn().at(R(0)).ack(L(1)).win(64000).mss(1460).ts(5000, t0));
  h.pop();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).data("new").ts(5005, t0));
  EXPECT_EQ(h.conn.recv_available(), 3u);
  h.advance(Duration(40'000));
  h.pop();
  // An old duplicate with a smaller TSval: dropped and acknowledged.
  h.send(seg().at(R(4)).ack(L(1)).win(64000).data("old").ts(4000, t0));
  h.expect(seg().at(L(1)).ack(R(4)).win(63997).ts(our_ts(h), 5005));
  EXPECT_EQ(h.conn.recv_available(), 3u);
  // A RST is not subject to PAWS.
  h.send(seg().rst().at(R(4)).ts(1, 0));
  h.expect_state(State::kClosed);
}

// RFC 7323 §5.3 R3 with RFC 9293 §3.10.7.4 / RFC 5961 §4.2, §5.2: a segment a later check
// drops does not become TS.Recent, so a blind in-window segment with a high TSval cannot make
// PAWS discard the peer's real data.
TEST(Timestamps, DroppedSegmentsDoNotUpdateTsRecent) {
  struct Case {
    const char* what;
    Seg bad;
  };
  const Case cases[] = {
      {"ack of unsent data", seg().at(R(1)).ack(L(5000)).win(64000).data("bad").ts(200000, 0)},
      {"in-window SYN", seg().syn().at(R(1)).win(64000).ts(200000, 0)},
      {"ack too old", seg().at(R(1)).ack(L(1) - 200000).win(64000).data("bad").ts(200000, 0)},
      {"no ACK bit", seg().at(R(1)).win(64000).data("bad").ts(200000, 0)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Harness h(ts_config());
    h.conn.open_active(h.now, kLocalIss);
    const uint32_t t0 = our_ts(h);
    h.pop();
    h.send(seg().syn().at(R(0)).ack(L(1)).win(64000).mss(1460).ts(5000, t0));
    h.pop();
    h.advance(Duration(10'000));
    h.send(c.bad);
    EXPECT_EQ(h.conn.tcb().ts_recent, 5000u);
    EXPECT_EQ(h.conn.recv_available(), 0u);
    // Whatever answer the bad segment drew echoes the old TS.Recent.
    while (auto out = h.pop()) {
      ASSERT_TRUE(out->options.timestamps);
      EXPECT_EQ(out->options.timestamps->tsecr, 5000u);
    }
    // The peer's real next segment passes PAWS, is delivered and becomes TS.Recent.
    h.send(seg().at(R(1)).ack(L(1)).win(64000).data("real").ts(5010, t0));
    EXPECT_EQ(h.conn.recv_available(), 4u);
    EXPECT_EQ(h.conn.tcb().ts_recent, 5010u);
  }
}

TEST(Timestamps, SegmentWithoutTimestampDroppedOnceNegotiated) {
  // RFC 7323 §3.2.
  Harness h(ts_config());
  h.conn.open_active(h.now, kLocalIss);
  const uint32_t t0 = our_ts(h);
  h.pop();
  h.send(seg().syn().at(R(0)).ack(L(1)).win(64000).mss(1460).ts(5000, t0));
  h.pop();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).data("nots"));
  h.expect_nothing();
  EXPECT_EQ(h.conn.recv_available(), 0u);
}

TEST(Timestamps, NotUsedWhenPeerDoesNotOffer) {
  Harness h(ts_config());
  h.conn.listen(kLocalIss);
  h.send(seg().syn().at(R(0)).win(8000).mss(1460));
  h.expect(seg().syn().at(L(0)).ack(R(1)).win(64000).mss(1460));
  h.send(seg().at(R(1)).ack(L(1)).win(8000));
  EXPECT_FALSE(h.conn.tcb().ts_enabled);
  EXPECT_EQ(h.conn.effective_mss(), 1460u);
}

TEST(Urgent, SendMarksUrgentPointerPastLastUrgentByte) {
  // RFC 9293 §3.8.5 (MUST-30/31), RFC 6093: the pointer is the offset of the byte after.
  Harness h;
  h.establish();
  h.app_send("ab");
  h.expect(seg().at(L(1)).ack(R(1)).win(64000).psh().data("ab"));
  EXPECT_EQ(h.conn.send_urgent(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("cd"), 2),
                               h.now),
            2u);
  h.flush();
  // Urgent data is not held back by Nagle.
  h.expect(seg().at(L(3)).ack(R(1)).win(64000).psh().urg(2).data("cd"));
  h.send(seg().at(R(1)).ack(L(5)).win(64000));
  h.app_send("e");
  h.expect(seg().at(L(5)).ack(R(1)).win(64000).psh().data("e"));  // mark acknowledged: no URG
}

TEST(Urgent, ReceiveReportsTheMarkAndDeliversInline) {
  // MUST-32/62: the application learns where urgent data ends; the bytes stay in the stream.
  Harness h;
  h.establish();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).urg(3).data("abcdef"));
  h.expect_events({Event{EventKind::kUrgent}, Event{EventKind::kReadable}});
  ASSERT_TRUE(h.conn.urgent_mark());
  EXPECT_EQ(*h.conn.urgent_mark(), 3u);
  EXPECT_EQ(h.app_recv(2), "ab");
  EXPECT_EQ(*h.conn.urgent_mark(), 1u);
  EXPECT_EQ(h.app_recv(1), "c");
  EXPECT_FALSE(h.conn.urgent_mark());
  EXPECT_EQ(h.app_recv(), "def");
}

TEST(Urgent, UrgentPointerAheadOfDataArrivesFirst) {
  Harness h;
  h.establish();
  h.send(seg().at(R(1)).ack(L(1)).win(64000).urg(500).data("x"));
  EXPECT_EQ(*h.conn.urgent_mark(), 500u);
  h.send(seg().at(R(2)).ack(L(1)).win(64000).urg(10).data("y"));  // 2 + 10 < 1 + 500: keep max
  EXPECT_EQ(*h.conn.urgent_mark(), 500u);
}

TEST(Wraparound, TransferAcrossSequenceWrapBothWays) {
  Harness h;
  const SeqNum liss(0xfffff000u), riss(0xffffff00u);
  h.conn.set_nodelay(true);
  h.conn.open_active(h.now, liss);
  h.pop();
  h.send(seg().syn().at(riss).ack(liss + 1).win(64000).mss(1000));
  h.pop();
  h.expect_state(State::kEstablished);
  const auto out = pattern(9000, 7);
  h.app_send_bytes(out);
  SeqNum expect_seq = liss + 1;
  size_t sent = 0;
  while (auto s = h.pop()) {
    EXPECT_EQ(s->seq, expect_seq);
    EXPECT_TRUE(std::equal(s->payload.begin(), s->payload.end(), out.begin() + sent));
    sent += s->payload.size();
    expect_seq += static_cast<uint32_t>(s->payload.size());
  }
  EXPECT_EQ(sent, 9000u);
  EXPECT_LT(expect_seq.raw(), liss.raw());  // it wrapped
  h.send(seg().at(riss + 1).ack(liss + 1 + 9000).win(64000));
  EXPECT_EQ(h.conn.send_queued(), 0u);
  // And the peer's data wraps too, arriving out of order across the wrap point.
  const auto in = pattern(600, 9);
  h.send(seg().at(riss + 301).ack(liss + 9001).win(64000).bytes({in.begin() + 300, in.end()}));
  h.send(seg().at(riss + 1).ack(liss + 9001).win(64000).bytes({in.begin(), in.begin() + 300}));
  std::vector<uint8_t> got(1000);
  ASSERT_EQ(h.conn.recv(got, h.now), 600u);
  got.resize(600);
  EXPECT_EQ(got, in);
  EXPECT_EQ(h.conn.tcb().rcv_nxt, riss + 601);
}

}  // namespace
}  // namespace utcp::test
