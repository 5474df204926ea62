// SPDX-License-Identifier: BSD-2-Clause
// The extension-header walk (RFC 8200 §4): one test per header and per rule that ends in a
// discard or an ICMPv6 Parameter Problem.
#include "wire/ipv6_ext.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

namespace utcp::wire {
namespace {

const Ipv6Addr kSrc(0xfd77, 0, 0, 0, 0, 0, 0, 1);
const Ipv6Addr kDst(0xfd77, 0, 0, 0, 0, 0, 0, 2);

// An IPv6 packet whose fixed header names `first` and whose payload is `body`.
std::vector<uint8_t> packet(uint8_t first, std::initializer_list<std::vector<uint8_t>> body,
                            const Ipv6Addr& dst = kDst) {
  std::vector<uint8_t> payload;
  for (const auto& part : body) payload.insert(payload.end(), part.begin(), part.end());
  Ipv6Repr r;
  r.src = kSrc;
  r.dst = dst;
  r.next_header = first;
  r.payload_len = static_cast<uint16_t>(payload.size());
  std::vector<uint8_t> out(kIpv6HeaderLen);
  EXPECT_EQ(r.emit(out), kIpv6HeaderLen);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

// An options header (Hop-by-Hop or Destination Options) holding `options`, padded to 8n.
std::vector<uint8_t> options_header(uint8_t next, std::vector<uint8_t> options) {
  std::vector<uint8_t> h;
  h.reserve(options.size() + 16);  // GCC 12 -O3 -Warray-bounds false positive on a 2-byte vector
  h.push_back(next);
  h.push_back(0);
  h.insert(h.end(), options.begin(), options.end());
  while (h.size() % 8 != 0) h.push_back(0);  // Pad1
  h[1] = static_cast<uint8_t>(h.size() / 8 - 1);
  return h;
}

std::vector<uint8_t> routing_header(uint8_t next, uint8_t type, uint8_t segments_left) {
  return {next, 0, type, segments_left, 0, 0, 0, 0};
}

std::vector<uint8_t> fragment_header(uint8_t next, uint16_t offset, bool more, uint32_t id) {
  std::vector<uint8_t> h(8);
  Ipv6FragmentHeader f;
  f.next_header = next;
  f.offset = offset;
  f.more = more;
  f.identification = id;
  EXPECT_EQ(f.emit(h), 8u);
  return h;
}

const std::vector<uint8_t> kTcpBytes(20, 0xab);

Ipv6ExtWalk walk(const std::vector<uint8_t>& bytes) {
  auto p = Ipv6Packet::parse(bytes);
  EXPECT_TRUE(p.ok());
  return walk_ipv6_ext(*p);
}

void expect_problem(const Ipv6ExtWalk& w, uint8_t code, uint32_t pointer) {
  EXPECT_EQ(w.verdict, Ipv6ExtVerdict::kParameterProblem);
  EXPECT_EQ(w.problem_code, code);
  EXPECT_EQ(w.problem_pointer, pointer);
}

void expect_discard(const Ipv6ExtWalk& w, Ipv6ExtDrop why) {
  EXPECT_EQ(w.verdict, Ipv6ExtVerdict::kDiscard);
  EXPECT_EQ(w.drop, why) << to_string(w.drop);
}

TEST(Ipv6ExtWalk, NoExtensionHeaders) {
  const auto w = walk(packet(ipv6_next::kTcp, {kTcpBytes}));
  EXPECT_TRUE(w.accepted());
  EXPECT_EQ(w.upper_protocol, ipv6_next::kTcp);
  EXPECT_EQ(w.upper_offset, 40u);
  EXPECT_EQ(w.next_header_offset, 6u);
  EXPECT_EQ(w.headers, 0u);
  EXPECT_FALSE(w.fragment.has_value());
}

TEST(Ipv6ExtWalk, HopByHopFirstIsWalkedPastPad1AndPadN) {
  // Pad1, PadN of 3, an unknown skippable option (type 0x1e: action 00).
  const auto h = options_header(ipv6_next::kTcp, {0, 1, 1, 0, 0x1e, 2, 0xaa, 0xbb});
  const auto w = walk(packet(ipv6_next::kHopByHop, {h, kTcpBytes}));
  EXPECT_TRUE(w.accepted());
  EXPECT_EQ(w.upper_protocol, ipv6_next::kTcp);
  EXPECT_EQ(w.upper_offset, 40u + h.size());
  EXPECT_EQ(w.next_header_offset, 40u);
  EXPECT_EQ(w.headers, 1u);
}

TEST(Ipv6ExtWalk, DestinationOptionsAreWalked) {
  const auto h = options_header(ipv6_next::kIcmpv6, {1, 4, 0, 0, 0, 0});
  const auto w = walk(packet(ipv6_next::kDestOptions, {h, {128, 0, 0, 0, 0, 0, 0, 0}}));
  EXPECT_TRUE(w.accepted());
  EXPECT_EQ(w.upper_protocol, ipv6_next::kIcmpv6);
  EXPECT_EQ(w.upper_offset, 48u);
}

// RFC 8200 §4.3: Hop-by-Hop anywhere but first is an unrecognized Next Header.
TEST(Ipv6ExtWalk, HopByHopNotFirstIsParameterProblemCode1) {
  const auto w =
      walk(packet(ipv6_next::kDestOptions, {options_header(ipv6_next::kHopByHop, {}),
                                            options_header(ipv6_next::kTcp, {}), kTcpBytes}));
  expect_problem(w, icmpv6_param::kUnrecognizedNextHeader, 40);  // the Dest Options' NH field
}

// RFC 8200 §4: an unrecognized Next Header, code 1, pointing at the field that holds it.
TEST(Ipv6ExtWalk, UnknownNextHeaderIsParameterProblemCode1WithThePointer) {
  expect_problem(walk(packet(253, {kTcpBytes})), icmpv6_param::kUnrecognizedNextHeader, 6);
  const auto w = walk(packet(ipv6_next::kDestOptions, {options_header(253, {}), kTcpBytes}));
  expect_problem(w, icmpv6_param::kUnrecognizedNextHeader, 40);
  EXPECT_EQ(w.upper_protocol, 253);
  // A protocol the caller handles is accepted; the caller chooses the set.
  const std::array<uint8_t, 1> only_253 = {253};
  const auto bytes = packet(253, {kTcpBytes});
  auto p = Ipv6Packet::parse(bytes);
  EXPECT_TRUE(walk_ipv6_ext(*p, only_253).accepted());
}

TEST(Ipv6ExtWalk, NoNextHeaderEndsThePacket) {
  const auto w = walk(packet(ipv6_next::kNoNextHeader, {{1, 2, 3}}));
  EXPECT_TRUE(w.accepted());
  EXPECT_EQ(w.upper_protocol, ipv6_next::kNoNextHeader);
}

// RFC 8200 §4.2: the two high-order bits of an unrecognized option's type.
TEST(Ipv6ExtWalk, OptionAction01DiscardsSilently) {
  const auto h = options_header(ipv6_next::kTcp, {0x5e, 0});
  expect_discard(walk(packet(ipv6_next::kHopByHop, {h, kTcpBytes})), Ipv6ExtDrop::kOptionDiscard);
}

TEST(Ipv6ExtWalk, OptionAction10IsParameterProblemCode2EvenToMulticast) {
  const auto h = options_header(ipv6_next::kTcp, {1, 0, 0x9e, 0});  // PadN(0) then the option
  expect_problem(walk(packet(ipv6_next::kDestOptions, {h, kTcpBytes})),
                 icmpv6_param::kUnrecognizedOption, 44);
  const Ipv6Addr all_nodes(0xff02, 0, 0, 0, 0, 0, 0, 1);
  expect_problem(walk(packet(ipv6_next::kDestOptions, {h, kTcpBytes}, all_nodes)),
                 icmpv6_param::kUnrecognizedOption, 44);
}

TEST(Ipv6ExtWalk, OptionAction11IsParameterProblemCode2UnlessMulticast) {
  const auto h = options_header(ipv6_next::kTcp, {0xde, 0});
  expect_problem(walk(packet(ipv6_next::kHopByHop, {h, kTcpBytes})),
                 icmpv6_param::kUnrecognizedOption, 42);
  const Ipv6Addr all_nodes(0xff02, 0, 0, 0, 0, 0, 0, 1);
  expect_discard(walk(packet(ipv6_next::kHopByHop, {h, kTcpBytes}, all_nodes)),
                 Ipv6ExtDrop::kOptionDiscard);
}

TEST(Ipv6ExtWalk, OptionRunningPastItsHeaderIsDiscarded) {
  auto h = options_header(ipv6_next::kTcp, {1, 4, 0, 0, 0, 0});
  h[3] = 5;  // PadN claims one byte more than the header holds
  expect_discard(walk(packet(ipv6_next::kHopByHop, {h, kTcpBytes})), Ipv6ExtDrop::kTruncated);
}

// RFC 8200 §4.4: Segments Left zero, the Routing header is ignored, whatever its type.
TEST(Ipv6ExtWalk, RoutingHeaderWithNoSegmentsLeftIsIgnored) {
  const auto w =
      walk(packet(ipv6_next::kRouting, {routing_header(ipv6_next::kTcp, 77, 0), kTcpBytes}));
  EXPECT_TRUE(w.accepted());
  EXPECT_EQ(w.upper_protocol, ipv6_next::kTcp);
  EXPECT_EQ(w.upper_offset, 48u);
}

// RFC 8200 §4.4: Segments Left > 0 and an unrecognized type: code 0, pointing at the type.
TEST(Ipv6ExtWalk, RoutingHeaderWithSegmentsLeftOfUnknownTypeIsParameterProblemCode0) {
  expect_problem(
      walk(packet(ipv6_next::kRouting, {routing_header(ipv6_next::kTcp, 0, 1), kTcpBytes})),
      icmpv6_param::kErroneousHeaderField, 42);
  expect_problem(
      walk(packet(ipv6_next::kRouting, {routing_header(ipv6_next::kTcp, 4, 2), kTcpBytes})),
      icmpv6_param::kErroneousHeaderField, 42);
}

// RFC 8200 §4.5: the fields; a fragment ends the walk until reassembly.
TEST(Ipv6ExtWalk, FragmentHeaderFieldsAndTheWalkStops) {
  const std::vector<uint8_t> data(16, 0x11);
  const auto w = walk(packet(ipv6_next::kFragment,
                             {fragment_header(ipv6_next::kTcp, 1448, true, 0xdeadbeef), data}));
  EXPECT_TRUE(w.accepted());
  ASSERT_TRUE(w.fragment.has_value());
  EXPECT_EQ(w.fragment->offset, 1448);
  EXPECT_TRUE(w.fragment->more);
  EXPECT_EQ(w.fragment->identification, 0xdeadbeefu);
  EXPECT_EQ(w.fragment->header_offset, 40u);
  EXPECT_FALSE(w.fragment->is_atomic());
  EXPECT_EQ(w.upper_protocol, ipv6_next::kTcp);
  EXPECT_EQ(w.upper_offset, 48u);
  // A later fragment's data is not walked as a header even if it looks like one.
  const auto later = walk(packet(ipv6_next::kFragment, {fragment_header(253, 8, false, 1), data}));
  EXPECT_TRUE(later.accepted());
  EXPECT_EQ(later.upper_protocol, 253);
}

// RFC 6946 §4: an atomic fragment is processed on its own, so the walk goes on.
TEST(Ipv6ExtWalk, AtomicFragmentIsWalkedThrough) {
  const auto w = walk(
      packet(ipv6_next::kFragment, {fragment_header(ipv6_next::kTcp, 0, false, 7), kTcpBytes}));
  EXPECT_TRUE(w.accepted());
  ASSERT_TRUE(w.fragment.has_value());
  EXPECT_TRUE(w.fragment->is_atomic());
  EXPECT_EQ(w.upper_protocol, ipv6_next::kTcp);
  EXPECT_EQ(w.upper_offset, 48u);
  EXPECT_EQ(w.next_header_offset, 40u);
  EXPECT_EQ(w.headers, 1u);
  expect_problem(walk(packet(ipv6_next::kFragment, {fragment_header(253, 0, false, 7), kTcpBytes})),
                 icmpv6_param::kUnrecognizedNextHeader, 40);
}

// RFC 8200 §4.5: M set and a length not a multiple of 8: code 0 at the Payload Length.
TEST(Ipv6ExtWalk, NonFinalFragmentNotAMultipleOf8IsParameterProblemAtPayloadLength) {
  const std::vector<uint8_t> data(13, 0x11);
  expect_problem(
      walk(packet(ipv6_next::kFragment, {fragment_header(ipv6_next::kTcp, 0, true, 1), data})),
      icmpv6_param::kErroneousHeaderField, 4);
  // The last fragment may have any length.
  EXPECT_TRUE(
      walk(packet(ipv6_next::kFragment, {fragment_header(ipv6_next::kTcp, 8, false, 1), data}))
          .accepted());
}

// RFC 8200 §4.5: reassembled payload beyond 65,535: code 0 at the Fragment Offset field.
TEST(Ipv6ExtWalk, FragmentReachingPast65535IsParameterProblemAtFragmentOffset) {
  const std::vector<uint8_t> data(16, 0x11);
  expect_problem(
      walk(packet(ipv6_next::kFragment, {fragment_header(ipv6_next::kTcp, 65528, false, 1), data})),
      icmpv6_param::kErroneousHeaderField, 42);
  // Exactly 65,535 is fine: offset 65512 + 23 bytes.
  const std::vector<uint8_t> fits(23, 0x11);
  EXPECT_TRUE(
      walk(packet(ipv6_next::kFragment, {fragment_header(ipv6_next::kTcp, 65512, false, 1), fits}))
          .accepted());
  // With a Destination Options header before it, its 8 bytes count too.
  expect_problem(walk(packet(ipv6_next::kDestOptions,
                             {options_header(ipv6_next::kFragment, {}),
                              fragment_header(ipv6_next::kTcp, 65512, false, 1), fits})),
                 icmpv6_param::kErroneousHeaderField, 50);
}

TEST(Ipv6ExtWalk, TruncatedHeaderIsDiscarded) {
  // Only 4 bytes after the fixed header, naming a Hop-by-Hop header.
  expect_discard(walk(packet(ipv6_next::kHopByHop, {{6, 0, 1, 0}})), Ipv6ExtDrop::kTruncated);
  // A header whose length runs past the packet.
  auto h = options_header(ipv6_next::kTcp, {});
  h[1] = 3;
  expect_discard(walk(packet(ipv6_next::kHopByHop, {h})), Ipv6ExtDrop::kTruncated);
  expect_discard(walk(packet(ipv6_next::kFragment, {{6, 0, 0, 0}})), Ipv6ExtDrop::kTruncated);
}

TEST(Ipv6ExtWalk, TheWalkIsBounded) {
  std::vector<uint8_t> chain;
  auto build = [&](size_t n) {
    std::vector<uint8_t> body;
    for (size_t i = 0; i < n; ++i) {
      const auto h = options_header(i + 1 == n ? ipv6_next::kTcp : ipv6_next::kDestOptions, {});
      body.insert(body.end(), h.begin(), h.end());
    }
    return packet(ipv6_next::kDestOptions, {body, kTcpBytes});
  };
  const auto ok = walk(build(kIpv6MaxExtHeaders));
  EXPECT_TRUE(ok.accepted());
  EXPECT_EQ(ok.headers, kIpv6MaxExtHeaders);
  expect_discard(walk(build(kIpv6MaxExtHeaders + 1)), Ipv6ExtDrop::kTooManyHeaders);
}

TEST(Ipv6FragmentHeader, EmitWritesTheFields) {
  const auto h = fragment_header(ipv6_next::kTcp, 0x1ff8, true, 0x01020304);
  EXPECT_EQ(h, (std::vector<uint8_t>{6, 0, 0x1f, 0xf9, 1, 2, 3, 4}));
  std::vector<uint8_t> small(7);
  EXPECT_EQ(Ipv6FragmentHeader().emit(small), 0u);
}

}  // namespace
}  // namespace utcp::wire
