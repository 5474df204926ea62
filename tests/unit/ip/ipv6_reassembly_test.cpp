// SPDX-License-Identifier: BSD-2-Clause
// IPv6 reassembly (RFC 8200 §4.5, RFC 5722, RFC 6946, RFC 7112) through Ipv6Input, and the
// reassembler's IPv6 entry point directly.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "ip/fragment_reassembler.hpp"
#include "ip/ipv6_input.hpp"
#include "unit/ip/ip6_test_packets.hpp"
#include "wire/icmpv6.hpp"

namespace utcp::ip {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace)

std::vector<uint8_t> bytes_of(std::span<const uint8_t> s) {
  return {s.begin(), s.end()};
}

// A TCP segment long enough to need fragments: a 20-byte header, then a pattern.
std::vector<uint8_t> big_segment(size_t n, uint32_t seq = 1) {
  auto s = tcp_header(80, 40000, seq, 0x10);
  const auto data = pattern(n - s.size(), static_cast<uint8_t>(seq));
  s.insert(s.end(), data.begin(), data.end());
  return s;
}

class Ipv6ReassemblyTest : public ::testing::Test {
 protected:
  explicit Ipv6ReassemblyTest(Ipv6InputConfig config = {.local_addresses = {kLocal6}})
      : input_(config, output_), reply_buf_(1500) {}

  Ipv6InputResult feed(const std::vector<uint8_t>& packet, int64_t at_us = 0) {
    return input_.input(packet, instant_from_us(at_us), reply_buf_);
  }
  uint64_t count(IpCounter c) const { return input_.counters().get(c); }

  Ipv6Output output_;
  Ipv6Input input_;
  std::vector<uint8_t> reply_buf_;
};

TEST_F(Ipv6ReassemblyTest, FragmentsInAnyOrderGiveTheWholeSegment) {
  const auto segment = big_segment(3000);
  auto frags = fragments6(segment, 6, 1232, 0xdeadbeef);
  ASSERT_EQ(frags.size(), 3u);
  std::mt19937 rng(7);  // seed printed on failure by the trace below
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE("shuffle seed 7, round " + std::to_string(round));
    if (round > 0) std::shuffle(frags.begin(), frags.end(), rng);
    EXPECT_EQ(feed(frags[0]).action, InputAction::kHeld);
    EXPECT_EQ(feed(frags[1]).action, InputAction::kHeld);
    const Ipv6InputResult r = feed(frags[2]);
    ASSERT_EQ(r.action, InputAction::kTcp);
    EXPECT_EQ(bytes_of(r.payload), segment);
    // The reassembled packet: the fixed header with Next Header 6 and the whole payload
    // length, no Fragment header (RFC 8200 §4.5).
    ASSERT_EQ(r.datagram.size(), 40 + segment.size());
    EXPECT_EQ(r.datagram[6], 6);
    EXPECT_EQ(get16(r.datagram, 4), segment.size());
    EXPECT_EQ(r.src, kPeer6);
    EXPECT_EQ(input_.reassembler().trains(), 0u);
  }
  EXPECT_EQ(count(IpCounter::frag6_in), 12u);
  EXPECT_EQ(count(IpCounter::frag6_reassembled), 4u);
  EXPECT_EQ(input_.reassembler().bytes_held(), 0u);
}

TEST_F(Ipv6ReassemblyTest, PerFragmentHeadersAreKeptAndTheirNextHeaderFixed) {
  // A Hop-by-Hop header before the Fragment header is a Per-Fragment header: it stays in the
  // reassembled packet, its Next Header now naming TCP.
  const auto hbh = options_header(44);
  const auto segment = big_segment(2000);
  const auto frags = fragments6(segment, 6, 1224, 5, {.next_header = 0}, hbh);
  ASSERT_EQ(frags.size(), 2u);
  EXPECT_EQ(feed(frags[1]).action, InputAction::kHeld);
  const Ipv6InputResult r = feed(frags[0]);
  ASSERT_EQ(r.action, InputAction::kTcp);
  EXPECT_EQ(bytes_of(r.payload), segment);
  ASSERT_EQ(r.datagram.size(), 48 + segment.size());
  EXPECT_EQ(r.datagram[6], 0);   // still Hop-by-Hop first
  EXPECT_EQ(r.datagram[40], 6);  // its Next Header: TCP (was 44)
  EXPECT_EQ(get16(r.datagram, 4), 8 + segment.size());
}

TEST_F(Ipv6ReassemblyTest, FragmentedEchoRequestIsAnsweredWhole) {
  const auto msg = icmp6_message(128, 0, 0x00010002, pattern(2000));
  const auto frags = fragments6(msg, 58, 1232, 77, {});
  ASSERT_EQ(frags.size(), 2u);
  EXPECT_EQ(feed(frags[0]).action, InputAction::kHeld);
  std::vector<uint8_t> big(4000);
  const Ipv6InputResult r = input_.input(frags[1], instant_from_us(0), big);
  ASSERT_EQ(r.action, InputAction::kReply);
  EXPECT_EQ(r.reply.size(), 40 + msg.size());  // larger than the MTU: the Stack fragments it
  auto ip = wire::Ipv6Packet::parse(r.reply);
  ASSERT_TRUE(ip.ok());
  auto icmp = wire::Icmpv6Packet::parse(ip->payload(), kLocal6, kPeer6);
  ASSERT_TRUE(icmp.ok());
  EXPECT_EQ(icmp->type(), 129);
  EXPECT_EQ(bytes_of(icmp->data()), pattern(2000));
}

TEST_F(Ipv6ReassemblyTest, OverlapDropsTheWholeTrain) {
  // RFC 5722 §4: any overlap discards the reassembly and the fragments that follow.
  const auto segment = big_segment(2400);
  const auto frags = fragments6(segment, 6, 1200, 9);
  ASSERT_EQ(frags.size(), 2u);
  EXPECT_EQ(feed(frags[0]).action, InputAction::kHeld);
  // A fragment of the same train at offset 1192 overlapping the first by 8 bytes.
  const auto overlapping =
      ip6_packet({.next_header = 44},
                 concat({fragment_header(6, 1192, true, 9), std::span(segment).subspan(1192, 8)}));
  EXPECT_EQ(feed(overlapping).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::frag6_overlap), 1u);
  // The rest of the train is swallowed until its timeout; no datagram comes out.
  EXPECT_EQ(feed(frags[1]).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::frag6_dead_train), 1u);
  EXPECT_EQ(count(IpCounter::frag6_reassembled), 0u);
  EXPECT_EQ(input_.reassembler().bytes_held(), 0u);
}

TEST_F(Ipv6ReassemblyTest, ExactDuplicateIsAnOverlapToo) {
  const auto frags = fragments6(big_segment(2400), 6, 1200, 10);
  EXPECT_EQ(feed(frags[0]).action, InputAction::kHeld);
  EXPECT_EQ(feed(frags[0]).action, InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::frag6_overlap), 1u);
}

TEST_F(Ipv6ReassemblyTest, AtomicFragmentIsProcessedAloneWithoutTheTable) {
  // RFC 6946 §4: offset 0 and M clear: the packet itself, whatever trains exist with its id.
  const auto frags = fragments6(big_segment(2400), 6, 1200, 11);
  EXPECT_EQ(feed(frags[0]).action, InputAction::kHeld);
  const auto seg = tcp_header(80, 40000, 42);
  const auto atomic =
      ip6_packet({.next_header = 44}, concat({fragment_header(6, 0, false, 11), seg}));
  const Ipv6InputResult r = feed(atomic);
  ASSERT_EQ(r.action, InputAction::kTcp);
  EXPECT_EQ(bytes_of(r.payload), seg);
  EXPECT_EQ(count(IpCounter::frag6_atomic), 1u);
  EXPECT_EQ(count(IpCounter::frag6_in), 1u);  // only the real fragment
  // The train with the same identification is untouched and still completes.
  EXPECT_EQ(feed(frags[1]).action, InputAction::kTcp);
}

TEST_F(Ipv6ReassemblyTest, FirstFragmentWithoutTheWholeHeaderChainIsDroppedWithParameterProblem3) {
  // RFC 7112 §5: the first fragment must reach the upper-layer header. Here it holds a
  // Destination Options header that claims 16 bytes but carries only the first 8.
  auto dest = options_header(6, std::vector<uint8_t>(12, 0x01));
  ASSERT_EQ(dest.size(), 16u);
  const auto cut = ip6_packet({.next_header = 44},
                              concat({fragment_header(60, 0, true, 12), std::span(dest).first(8)}));
  // RFC 8200 §4.5: discarded and answered with Parameter Problem code 3, pointer 0.
  const Ipv6InputResult r = feed(cut);
  ASSERT_EQ(r.action, InputAction::kReply);
  auto icmp =
      wire::Icmpv6Packet::parse(wire::Ipv6Packet::parse(r.reply)->payload(), kLocal6, kPeer6);
  ASSERT_TRUE(icmp.ok());
  EXPECT_EQ(icmp->type(), 4);
  EXPECT_EQ(icmp->code(), 3);
  EXPECT_EQ(icmp->pointer(), 0u);
  EXPECT_EQ(bytes_of(icmp->data()), cut);
  // And a TCP first fragment with 8 of the 20 header bytes.
  const auto tcp = tcp_header(1, 2, 3);
  const auto short_tcp = ip6_packet(
      {.next_header = 44}, concat({fragment_header(6, 0, true, 13), std::span(tcp).first(8)}));
  EXPECT_EQ(feed(short_tcp).action, InputAction::kReply);
  EXPECT_EQ(count(IpCounter::frag6_incomplete_chain), 2u);
  EXPECT_EQ(input_.reassembler().trains(), 0u);
}

TEST_F(Ipv6ReassemblyTest, NonLastFragmentNotAMultipleOf8IsAParameterProblem) {
  // RFC 8200 §4.5: code 0 pointing at the Payload Length field (offset 4).
  const auto seg = big_segment(1004);
  const auto frag = ip6_packet({.next_header = 44}, concat({fragment_header(6, 0, true, 14), seg}));
  const Ipv6InputResult r = feed(frag);
  ASSERT_EQ(r.action, InputAction::kReply);
  auto ip = wire::Ipv6Packet::parse(r.reply);
  ASSERT_TRUE(ip.ok());
  auto icmp = wire::Icmpv6Packet::parse(ip->payload(), kLocal6, kPeer6);
  ASSERT_TRUE(icmp.ok());
  EXPECT_EQ(icmp->type(), 4);
  EXPECT_EQ(icmp->code(), 0);
  EXPECT_EQ(icmp->pointer(), 4u);
  EXPECT_EQ(input_.reassembler().trains(), 0u);
}

TEST_F(Ipv6ReassemblyTest, FragmentReachingPast65535IsAParameterProblem) {
  // RFC 8200 §4.5: code 0 pointing at the Fragment Offset field (40 + 2).
  const auto frag =
      ip6_packet({.next_header = 44}, concat({fragment_header(6, 65528, false, 15), pattern(16)}));
  const Ipv6InputResult r = feed(frag);
  ASSERT_EQ(r.action, InputAction::kReply);
  auto icmp =
      wire::Icmpv6Packet::parse(wire::Ipv6Packet::parse(r.reply)->payload(), kLocal6, kPeer6);
  ASSERT_TRUE(icmp.ok());
  EXPECT_EQ(icmp->pointer(), 42u);
}

TEST_F(Ipv6ReassemblyTest, TimeoutAfter60SecondsSendsTimeExceededQuotingTheFirstFragment) {
  const auto frags = fragments6(big_segment(3000), 6, 1232, 16);
  EXPECT_EQ(feed(frags[0], 0).action, InputAction::kHeld);
  EXPECT_EQ(feed(frags[2], 1'000'000).action, InputAction::kHeld);
  EXPECT_EQ(input_.next_deadline(), instant_from_us(60'000'000));  // from the first arrival
  std::vector<std::vector<uint8_t>> sent;
  auto transmit = [&](std::span<const uint8_t> p) { sent.push_back(bytes_of(p)); };
  std::vector<uint8_t> buf(1500);
  EXPECT_EQ(input_.expire(instant_from_us(59'999'999), buf, transmit), 0u);
  EXPECT_TRUE(sent.empty());
  EXPECT_EQ(input_.expire(instant_from_us(60'000'000), buf, transmit), 1u);
  ASSERT_EQ(sent.size(), 1u);
  // RFC 8200 §4.5: Time Exceeded, code 1, to the source, quoting the first fragment (as much
  // as fits in 1280 bytes, RFC 4443 §2.4(c)).
  auto ip = wire::Ipv6Packet::parse(sent[0]);
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->src(), kLocal6);
  EXPECT_EQ(ip->dst(), kPeer6);
  auto icmp = wire::Icmpv6Packet::parse(ip->payload(), kLocal6, kPeer6);
  ASSERT_TRUE(icmp.ok());
  EXPECT_EQ(icmp->type(), 3);
  EXPECT_EQ(icmp->code(), 1);
  EXPECT_EQ(bytes_of(icmp->data()),
            std::vector<uint8_t>(frags[0].begin(), frags[0].begin() + 1232));
  EXPECT_EQ(count(IpCounter::frag6_timeout), 1u);
  EXPECT_EQ(count(IpCounter::icmp6_time_exceeded_sent), 1u);
  EXPECT_EQ(input_.reassembler().trains(), 0u);
  EXPECT_EQ(input_.reassembler().bytes_held(), 0u);
}

TEST_F(Ipv6ReassemblyTest, TimeoutWithoutTheFirstFragmentIsSilent) {
  const auto frags = fragments6(big_segment(3000), 6, 1232, 17);
  EXPECT_EQ(feed(frags[1], 0).action, InputAction::kHeld);
  int sent = 0;
  std::vector<uint8_t> buf(1500);
  EXPECT_EQ(
      input_.expire(instant_from_us(60'000'000), buf, [&](std::span<const uint8_t>) { ++sent; }),
      1u);
  EXPECT_EQ(sent, 0);
  EXPECT_EQ(count(IpCounter::frag6_timeout), 1u);
}

TEST_F(Ipv6ReassemblyTest, NoTimeExceededAboutAnIcmpv6Error) {
  // RFC 4443 §2.4(e.1): a fragmented error message that never completes gets no answer.
  const auto quoted = ip6_packet({.src = kLocal6, .dst = kPeer6}, pattern(1400));
  const auto msg = icmp6_message(1, 4, 0, quoted);
  const auto frags = fragments6(msg, 58, 1232, 18);
  EXPECT_EQ(feed(frags[0], 0).action, InputAction::kHeld);
  int sent = 0;
  std::vector<uint8_t> buf(1500);
  input_.expire(instant_from_us(60'000'000), buf, [&](std::span<const uint8_t>) { ++sent; });
  EXPECT_EQ(sent, 0);
  EXPECT_EQ(count(IpCounter::icmp6_error_suppressed), 1u);
}

TEST(Ipv6ReassemblyConfig, SameBoundsAsIpv4WithTheRfc8200Timeout) {
  const Ipv6InputConfig v6;
  const ReassemblyConfig v4;
  EXPECT_EQ(v6.reassembly.max_trains, v4.max_trains);
  EXPECT_EQ(v6.reassembly.max_trains_per_source, v4.max_trains_per_source);
  EXPECT_EQ(v6.reassembly.max_bytes, v4.max_bytes);
  EXPECT_EQ(v6.reassembly.timeout, std::chrono::seconds(60));  // RFC 8200 §4.5
}

TEST(Ipv6ReassemblyBounds, AFloodOfFirstFragmentsEvictsAndALegitimateTrainCompletes) {
  Ipv6Output out;
  Ipv6Input in({.local_addresses = {kLocal6},
                .reassembly = {.max_trains = 4,
                               .max_trains_per_source = 2,
                               .timeout = std::chrono::seconds(60)}},
               out);
  std::vector<uint8_t> buf(1500);
  // 50 first fragments from one (spoofed) source: it only ever holds two trains.
  const wire::Ipv6Addr attacker(0xfd77, 0, 0, 0, 0, 0, 0, 0x66);
  for (uint32_t id = 0; id < 50; ++id) {
    const auto f = fragments6(big_segment(2400), 6, 1200, id, {.src = attacker});
    EXPECT_EQ(in.input(f[0], instant_from_us(id), buf).action, InputAction::kHeld);
  }
  EXPECT_EQ(in.reassembler().trains(), 2u);
  EXPECT_EQ(in.counters().get(IpCounter::frag6_evicted), 48u);
  // A legitimate datagram still completes.
  const auto segment = big_segment(2400, 9);
  const auto f = fragments6(segment, 6, 1200, 1000);
  EXPECT_EQ(in.input(f[0], instant_from_us(100), buf).action, InputAction::kHeld);
  const auto r = in.input(f[1], instant_from_us(101), buf);
  ASSERT_EQ(r.action, InputAction::kTcp);
  EXPECT_EQ(bytes_of(r.payload), segment);
}

TEST(Ipv6ReassemblyKeys, TrainsAreKeyedBySourceDestinationAndIdentification) {
  // RFC 8200 §4.5: fragments of different sources with one identification stay apart.
  FragmentReassembler reasm({.timeout = std::chrono::seconds(60)});
  const wire::Ipv6Addr other(0xfd77, 0, 0, 0, 0, 0, 0, 3);
  const auto a = big_segment(2400, 1);
  const auto b = big_segment(2400, 2);
  const auto fa = fragments6(a, 6, 1200, 99);
  const auto fb = fragments6(b, 6, 1200, 99, {.src = other});
  auto add = [&](const std::vector<uint8_t>& p) {
    const auto ip = *wire::Ipv6Packet::parse(p);
    const auto walk = wire::walk_ipv6_ext(ip);
    return reasm.add(ip, *walk.fragment, instant_from_us(0));
  };
  EXPECT_EQ(add(fa[0]).result, FragmentResult::kHeld);
  EXPECT_EQ(add(fb[0]).result, FragmentResult::kHeld);
  EXPECT_EQ(reasm.trains(), 2u);
  const auto done_b = add(fb[1]);
  ASSERT_EQ(done_b.result, FragmentResult::kComplete);
  EXPECT_TRUE(std::equal(b.begin(), b.end(), done_b.datagram.begin() + 40));
  const auto done_a = add(fa[1]);
  ASSERT_EQ(done_a.result, FragmentResult::kComplete);
  EXPECT_TRUE(std::equal(a.begin(), a.end(), done_a.datagram.begin() + 40));
}

TEST(Ipv6ReassemblyKeys, FirstFragmentWithLongerPerFragmentHeadersMovesTheData) {
  // The non-first fragment came without extension headers, the first with a Hop-by-Hop
  // header: the reassembled packet is built on the first fragment's headers.
  FragmentReassembler reasm({.timeout = std::chrono::seconds(60)});
  const auto segment = big_segment(2000);
  const auto plain = fragments6(segment, 6, 1224, 5);
  const auto with_hbh = fragments6(segment, 6, 1224, 5, {.next_header = 0}, options_header(44));
  auto add = [&](const std::vector<uint8_t>& p) {
    const auto ip = *wire::Ipv6Packet::parse(p);
    return reasm.add(ip, *wire::walk_ipv6_ext(ip).fragment, instant_from_us(0));
  };
  EXPECT_EQ(add(plain[1]).result, FragmentResult::kHeld);
  const auto out = add(with_hbh[0]);
  ASSERT_EQ(out.result, FragmentResult::kComplete);
  ASSERT_EQ(out.datagram.size(), 48 + segment.size());
  EXPECT_EQ(out.datagram[40], 6);
  EXPECT_TRUE(std::equal(segment.begin(), segment.end(), out.datagram.begin() + 48));
  EXPECT_EQ(reasm.bytes_held(), 0u);
}

TEST(Ipv6ReassemblyKeys, LongerFirstFragmentHeadersCannotPushTheDatagramPast65535) {
  // A late fragment near the top of the range fits with no extension headers; a first
  // fragment then brings 2 KiB of Hop-by-Hop options: the reassembled payload would exceed
  // 65,535 bytes, so the train is dropped, and the memory accounting stays exact.
  FragmentReassembler reasm({.timeout = std::chrono::seconds(60)});
  auto add = [&](const std::vector<uint8_t>& p) {
    const auto ip = *wire::Ipv6Packet::parse(p);
    const auto walk = wire::walk_ipv6_ext(ip);
    EXPECT_TRUE(walk.accepted());
    return reasm.add(ip, *walk.fragment, instant_from_us(0));
  };
  const auto late =
      ip6_packet({.next_header = 44}, concat({fragment_header(6, 65000, false, 21), pattern(528)}));
  EXPECT_EQ(add(late).result, FragmentResult::kHeld);
  const auto hbh = options_header(44, std::vector<uint8_t>(2046, 0));
  ASSERT_EQ(hbh.size(), 2048u);
  const auto first =
      ip6_packet({.next_header = 0},
                 concat({hbh, fragment_header(6, 0, true, 21), tcp_header(1, 2, 3), pattern(4)}));
  EXPECT_EQ(add(first).result, FragmentResult::kOversize);
  EXPECT_EQ(reasm.bytes_held(), 0u);
  // The table still works.
  const auto segment = big_segment(2400);
  const auto f = fragments6(segment, 6, 1200, 22);
  EXPECT_EQ(add(f[0]).result, FragmentResult::kHeld);
  EXPECT_EQ(add(f[1]).result, FragmentResult::kComplete);
  EXPECT_EQ(reasm.bytes_held(), 0u);
}

}  // namespace
}  // namespace utcp::ip
