// SPDX-License-Identifier: BSD-2-Clause
#include "ip/fragment_reassembler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "ip/ipv4_input.hpp"
#include "unit/ip/ip_test_packets.hpp"
#include "wire/checksum.hpp"

namespace utcp::ip {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace)

// Splits payload into fragments of at most `chunk` bytes (a multiple of 8).
std::vector<std::vector<uint8_t>> fragment(const std::vector<uint8_t>& payload, size_t chunk,
                                           IpFields f = {}) {
  std::vector<std::vector<uint8_t>> out;
  for (size_t off = 0; off < payload.size(); off += chunk) {
    const size_t len = std::min(chunk, payload.size() - off);
    f.frag_offset = static_cast<uint16_t>(off);
    f.mf = off + len < payload.size();
    out.push_back(ip_packet(f, std::span(payload).subspan(off, len)));
  }
  return out;
}

wire::Ipv4Packet view(const std::vector<uint8_t>& p) {
  return *wire::Ipv4Packet::parse(p);
}

struct ReassemblerTest : ::testing::Test {
  FragmentOutcome add(const std::vector<uint8_t>& p, int64_t at_us = 0) {
    return reasm.add(view(p), instant_from_us(at_us));
  }
  FragmentReassembler reasm;
};

void expect_datagram(std::span<const uint8_t> got, const std::vector<uint8_t>& payload,
                     uint16_t id) {
  ASSERT_EQ(got.size(), 20 + payload.size());
  EXPECT_TRUE(wire::checksum_ok(got.first(20)));
  EXPECT_EQ(get16(got, 2), 20 + payload.size());
  EXPECT_EQ(get16(got, 4), id);
  EXPECT_EQ(get16(got, 6), 0);  // no MF, offset 0
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), got.begin() + 20));
}

TEST_F(ReassemblerTest, InOrder) {
  const auto payload = pattern(3000);
  const auto frags = fragment(payload, 1480, {.id = 7});
  ASSERT_EQ(frags.size(), 3u);
  EXPECT_EQ(add(frags[0]).result, FragmentResult::kHeld);
  EXPECT_EQ(add(frags[1]).result, FragmentResult::kHeld);
  EXPECT_EQ(reasm.trains(), 1u);
  EXPECT_GT(reasm.bytes_held(), 3000u);
  const auto out = add(frags[2]);
  ASSERT_EQ(out.result, FragmentResult::kComplete);
  expect_datagram(out.datagram, payload, 7);
  EXPECT_EQ(reasm.trains(), 0u);
  EXPECT_EQ(reasm.bytes_held(), 0u);
}

TEST_F(ReassemblerTest, ReversedAndShuffledOrders) {
  const auto payload = pattern(5000, 3);
  auto frags = fragment(payload, 504, {.id = 9});
  std::reverse(frags.begin(), frags.end());
  for (size_t i = 0; i + 1 < frags.size(); ++i)
    ASSERT_EQ(add(frags[i]).result, FragmentResult::kHeld);
  auto out = add(frags.back());
  ASSERT_EQ(out.result, FragmentResult::kComplete);
  expect_datagram(out.datagram, payload, 9);

  // Last fragment first, then the rest interleaved.
  frags = fragment(payload, 1000, {.id = 10});
  const std::vector<size_t> order = {4, 0, 3, 1, 2};
  ASSERT_EQ(frags.size(), order.size());
  for (size_t i = 0; i + 1 < order.size(); ++i) {
    ASSERT_EQ(add(frags[order[i]]).result, FragmentResult::kHeld);
  }
  out = add(frags[order.back()]);
  ASSERT_EQ(out.result, FragmentResult::kComplete);
  expect_datagram(out.datagram, payload, 10);
}

TEST_F(ReassemblerTest, InterleavedTrainsStaySeparate) {
  const auto p1 = pattern(2000, 1), p2 = pattern(2000, 2);
  const auto f1 = fragment(p1, 1024, {.id = 1});
  const auto f2 = fragment(p2, 1024, {.id = 2});
  EXPECT_EQ(add(f1[0]).result, FragmentResult::kHeld);
  EXPECT_EQ(add(f2[1]).result, FragmentResult::kHeld);
  EXPECT_EQ(add(f2[0]).result, FragmentResult::kComplete);
  const auto out = add(f1[1]);
  ASSERT_EQ(out.result, FragmentResult::kComplete);
  expect_datagram(out.datagram, p1, 1);
}

TEST_F(ReassemblerTest, DuplicateIsAnOverlapAndDropsTheWholeTrain) {
  const auto payload = pattern(3000);
  const auto frags = fragment(payload, 1480, {.id = 3});
  EXPECT_EQ(add(frags[0]).result, FragmentResult::kHeld);
  EXPECT_EQ(add(frags[0]).result, FragmentResult::kOverlap);
  EXPECT_EQ(reasm.bytes_held(), 0u);  // the train's memory is gone at once
  // The rest of the train is refused until it expires.
  EXPECT_EQ(add(frags[1]).result, FragmentResult::kDeadTrain);
  EXPECT_EQ(add(frags[2]).result, FragmentResult::kDeadTrain);
  // After the timeout the same key starts afresh.
  const int64_t later = 30'000'001;
  EXPECT_EQ(add(frags[0], later).result, FragmentResult::kHeld);
  EXPECT_EQ(add(frags[1], later).result, FragmentResult::kHeld);
  EXPECT_EQ(add(frags[2], later).result, FragmentResult::kComplete);
}

TEST_F(ReassemblerTest, PartialOverlapDropsTheTrain) {
  const auto payload = pattern(64);
  EXPECT_EQ(add(ip_packet({.id = 4, .mf = true}, std::span(payload).first(32))).result,
            FragmentResult::kHeld);
  // Starts at 24, inside the first fragment's 0..32.
  EXPECT_EQ(add(ip_packet({.id = 4, .frag_offset = 24}, std::span(payload).subspan(24))).result,
            FragmentResult::kOverlap);
}

TEST_F(ReassemblerTest, TimeoutFreesMemory) {
  const auto frags = fragment(pattern(3000), 1480, {.id = 5});
  EXPECT_EQ(add(frags[0], 1'000'000).result, FragmentResult::kHeld);
  EXPECT_GT(reasm.bytes_held(), 0u);
  EXPECT_EQ(reasm.next_deadline(), instant_from_us(31'000'000));
  EXPECT_EQ(reasm.expire(instant_from_us(30'999'999)), 0u);
  EXPECT_EQ(reasm.trains(), 1u);
  EXPECT_EQ(reasm.expire(instant_from_us(31'000'000)), 1u);
  EXPECT_EQ(reasm.trains(), 0u);
  EXPECT_EQ(reasm.bytes_held(), 0u);
  EXPECT_EQ(reasm.next_deadline(), kNever);
  // Late fragments start a new train that cannot complete without the first.
  EXPECT_EQ(add(frags[1], 31'000'001).result, FragmentResult::kHeld);
  EXPECT_EQ(add(frags[2], 31'000'001).result, FragmentResult::kHeld);
}

// A full table evicts its oldest train instead of refusing the new one, so first fragments
// that never complete (a spoofed flood) cannot lock legitimate datagrams out until timeout.
TEST(Reassembler, FullTableEvictsTheOldestTrain) {
  FragmentReassembler reasm({.max_trains = 4});
  const auto payload = pattern(100);
  const auto train = [&](uint16_t id) { return fragment(payload, 56, {.id = id}); };
  for (uint16_t id = 0; id < 4; ++id) {
    const auto out = reasm.add(view(train(id)[0]), instant_from_us(id));
    EXPECT_EQ(out.result, FragmentResult::kHeld);
    EXPECT_EQ(out.evicted, 0u);
  }
  const auto fifth = reasm.add(view(train(4)[0]), instant_from_us(10));
  EXPECT_EQ(fifth.result, FragmentResult::kHeld);
  EXPECT_EQ(fifth.evicted, 1u);
  EXPECT_EQ(reasm.trains(), 4u);
  // Train 0 (the oldest) is gone: its last fragment starts a new, incomplete train (and
  // evicts train 1); trains 2, 3 and 4 still complete.
  const auto late0 = reasm.add(view(train(0)[1]), instant_from_us(11));
  EXPECT_EQ(late0.result, FragmentResult::kHeld);
  EXPECT_EQ(late0.evicted, 1u);
  for (uint16_t id = 2; id <= 4; ++id) {
    const auto out = reasm.add(view(train(id)[1]), instant_from_us(12));
    ASSERT_EQ(out.result, FragmentResult::kComplete) << id;
    expect_datagram(out.datagram, payload, id);
  }
  EXPECT_EQ(reasm.trains(), 1u);
}

TEST(Reassembler, AFloodOfFirstFragmentsDoesNotLockOutALegitimateDatagram) {
  // The attack of issue 15: 200 first fragments with random ids from spoofed sources.
  FragmentReassembler reasm;  // 64 trains
  const auto junk = pattern(64);
  for (uint32_t i = 0; i < 200; ++i) {
    const IpFields f{.src = wire::Ipv4Addr(10, 77, 1, static_cast<uint8_t>(i % 250 + 1)),
                     .id = static_cast<uint16_t>(i * 7919),
                     .mf = true};
    EXPECT_NE(reasm.add(view(ip_packet(f, junk)), instant_from_us(i)).result,
              FragmentResult::kTooManyTrains);
  }
  EXPECT_EQ(reasm.trains(), 64u);
  const auto payload = pattern(3000);
  const auto frags = fragment(payload, 1480, {.id = 4242});
  FragmentOutcome out{};
  for (const auto& f : frags) out = reasm.add(view(f), instant_from_us(1000));
  ASSERT_EQ(out.result, FragmentResult::kComplete);
  expect_datagram(out.datagram, payload, 4242);
}

TEST(Reassembler, OneSourceIsBoundedAndEvictsOnlyItsOwnTrains) {
  FragmentReassembler reasm({.max_trains = 8, .max_trains_per_source = 3});
  const auto payload = pattern(100);
  const wire::Ipv4Addr other(10, 77, 0, 9);
  const auto from_other = fragment(payload, 56, {.src = other, .id = 500});
  EXPECT_EQ(reasm.add(view(from_other[0]), instant_from_us(0)).result, FragmentResult::kHeld);
  uint32_t evicted = 0;
  for (uint16_t id = 0; id < 10; ++id) {
    const auto out = reasm.add(view(fragment(payload, 56, {.id = id})[0]), instant_from_us(1 + id));
    EXPECT_EQ(out.result, FragmentResult::kHeld);
    evicted += out.evicted;
  }
  EXPECT_EQ(evicted, 7u);         // 10 trains, 3 kept
  EXPECT_EQ(reasm.trains(), 4u);  // the busy source's 3 and the other source's 1
  // The other source's older train survived the flood from kPeer.
  EXPECT_EQ(reasm.add(view(from_other[1]), instant_from_us(20)).result, FragmentResult::kComplete);
  // kPeer's newest three are those kept.
  EXPECT_EQ(reasm.add(view(fragment(payload, 56, {.id = 9})[1]), instant_from_us(20)).result,
            FragmentResult::kComplete);
  EXPECT_EQ(reasm.add(view(fragment(payload, 56, {.id = 6})[1]), instant_from_us(20)).result,
            FragmentResult::kHeld);  // evicted long ago: a new incomplete train
}

TEST(Reassembler, ByteBudgetEvictsOlderTrainsForANewerOne) {
  FragmentReassembler reasm({.max_bytes = 16384});
  const wire::Ipv4Addr a(10, 77, 0, 11), b(10, 77, 0, 12), c(10, 77, 0, 13);
  // Two trains from other sources hold most of the budget.
  const auto big = pattern(6000);
  for (const auto& src : {a, b}) {
    const auto frags = fragment(big, 1480, {.src = src, .id = 1});
    EXPECT_EQ(reasm.add(view(frags[1]), instant_from_us(0)).result, FragmentResult::kHeld);
    EXPECT_EQ(reasm.add(view(frags[3]), instant_from_us(0)).result, FragmentResult::kHeld);
  }
  const auto payload = pattern(12000);
  const auto frags = fragment(payload, 1480, {.src = c, .id = 2});
  FragmentOutcome out{};
  uint32_t evicted = 0;
  for (const auto& f : frags) {
    out = reasm.add(view(f), instant_from_us(5));
    evicted += out.evicted;
    EXPECT_LE(reasm.bytes_held(), 16384u);
  }
  ASSERT_EQ(out.result, FragmentResult::kComplete);
  expect_datagram(out.datagram, payload, 2);
  EXPECT_GE(evicted, 1u);
}

TEST(ReassemblyThroughInput, EvictionsAreCounted) {
  Ipv4Output out;
  Ipv4Input in({.local_addresses = {kLocal}, .reassembly = {.max_trains = 2}}, out);
  std::vector<uint8_t> reply_buf(1500);
  for (uint16_t id = 0; id < 5; ++id) {
    EXPECT_EQ(
        in.input(fragment(pattern(100), 56, {.id = id})[0], instant_from_us(0), reply_buf).action,
        InputAction::kHeld);
  }
  EXPECT_EQ(in.counters().get(IpCounter::frag_evicted), 3u);
  EXPECT_EQ(in.counters().get(IpCounter::frag_too_many_trains), 0u);
}

TEST(Reassembler, MemoryBudgetIsEnforced) {
  FragmentReassembler reasm({.max_bytes = 8192});
  const auto payload = pattern(12000);
  const auto frags = fragment(payload, 1480, {.id = 8});
  FragmentResult last = FragmentResult::kHeld;
  size_t i = 0;
  for (; i < frags.size() && last == FragmentResult::kHeld; ++i) {
    last = reasm.add(view(frags[i]), instant_from_us(0)).result;
    EXPECT_LE(reasm.bytes_held(), 8192u);
  }
  EXPECT_EQ(last, FragmentResult::kNoMemory);
  EXPECT_EQ(reasm.bytes_held(), 0u);
  // A small datagram still fits afterwards.
  const auto small = fragment(pattern(3000), 1480, {.id = 9});
  for (size_t k = 0; k + 1 < small.size(); ++k) {
    EXPECT_EQ(reasm.add(view(small[k]), instant_from_us(0)).result, FragmentResult::kHeld);
  }
  EXPECT_EQ(reasm.add(view(small.back()), instant_from_us(0)).result, FragmentResult::kComplete);
}

TEST_F(ReassemblerTest, OversizedTrainIsDropped) {
  // Offset 65528 + 16 bytes ends past 65535 - 20: the "ping of death".
  const auto tail = ip_packet({.id = 11, .frag_offset = 65528}, pattern(16));
  EXPECT_EQ(add(tail).result, FragmentResult::kOversize);
  EXPECT_EQ(add(fragment(pattern(100), 48, {.id = 11})[0]).result, FragmentResult::kDeadTrain);
  EXPECT_EQ(reasm.bytes_held(), 0u);
  // The biggest legal train still reassembles: 65515 bytes of payload.
  const auto big = pattern(65515);
  const auto frags = fragment(big, 8192, {.id = 12});
  FragmentOutcome out{};
  for (const auto& f : frags) out = add(f);
  ASSERT_EQ(out.result, FragmentResult::kComplete);
  expect_datagram(out.datagram, big, 12);
}

TEST_F(ReassemblerTest, MalformedFragmentsAreRejected) {
  // A middle fragment whose length is not a multiple of 8.
  EXPECT_EQ(add(ip_packet({.id = 13, .mf = true}, pattern(30))).result, FragmentResult::kMalformed);
  // Two different ends.
  EXPECT_EQ(add(ip_packet({.id = 14, .frag_offset = 800}, pattern(40))).result,
            FragmentResult::kHeld);
  EXPECT_EQ(add(ip_packet({.id = 14, .frag_offset = 1600}, pattern(40))).result,
            FragmentResult::kMalformed);
  // Data beyond a known end.
  EXPECT_EQ(add(ip_packet({.id = 15, .frag_offset = 80}, pattern(8))).result,
            FragmentResult::kHeld);
  EXPECT_EQ(add(ip_packet({.id = 15, .mf = true, .frag_offset = 160}, pattern(8))).result,
            FragmentResult::kMalformed);
}

TEST(ReassemblyThroughInput, FragmentedEchoAndTcpAreReassembled) {
  Ipv4Output out;
  Ipv4Input in({.local_addresses = {kLocal}}, out);
  std::vector<uint8_t> reply_buf(9000);

  const auto data = pattern(2500);
  const auto echo = icmp_message(8, 0, 0x00010002, data);
  InputResult r;
  for (const auto& f : fragment(echo, 1480, {.protocol = 1, .id = 77})) {
    r = in.input(f, instant_from_us(0), reply_buf);
  }
  ASSERT_EQ(r.action, InputAction::kReply);
  ASSERT_EQ(r.reply.size(), 20 + 8 + data.size());
  EXPECT_TRUE(std::equal(data.begin(), data.end(), r.reply.begin() + 28));

  auto segment = tcp_header(80, 40000, 99, 0x18);
  const auto body = pattern(3000);
  segment.insert(segment.end(), body.begin(), body.end());
  auto frags = fragment(segment, 1480, {.protocol = 6, .id = 78});
  EXPECT_EQ(in.input(frags[1], instant_from_us(0), reply_buf).action, InputAction::kHeld);
  EXPECT_EQ(in.input(frags[2], instant_from_us(0), reply_buf).action, InputAction::kHeld);
  r = in.input(frags[0], instant_from_us(0), reply_buf);
  ASSERT_EQ(r.action, InputAction::kTcp);
  EXPECT_EQ(std::vector<uint8_t>(r.payload.begin(), r.payload.end()), segment);
  EXPECT_EQ(in.counters().get(IpCounter::frag_reassembled), 2u);
  EXPECT_EQ(in.counters().get(IpCounter::frag_in), 5u);  // 2 for the echo, 3 for TCP

  // A duplicate in a new train is counted as an overlap; the train's timeout is counted.
  frags = fragment(segment, 1480, {.protocol = 6, .id = 79});
  in.input(frags[0], instant_from_us(0), reply_buf);
  EXPECT_EQ(in.input(frags[0], instant_from_us(0), reply_buf).action, InputAction::kDrop);
  EXPECT_EQ(in.counters().get(IpCounter::frag_overlap), 1u);
  frags = fragment(segment, 1480, {.protocol = 6, .id = 80});
  in.input(frags[0], instant_from_us(0), reply_buf);
  EXPECT_EQ(in.next_deadline(), instant_from_us(30'000'000));
  in.expire(instant_from_us(30'000'000));
  EXPECT_EQ(in.counters().get(IpCounter::frag_timeout), 1u);  // the dead train is not counted
  EXPECT_EQ(in.reassembler().bytes_held(), 0u);
}

}  // namespace
}  // namespace utcp::ip
