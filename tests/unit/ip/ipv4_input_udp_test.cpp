// SPDX-License-Identifier: BSD-2-Clause
// IPv4 input with UDP on (Ipv4InputConfig::udp): datagrams delivered with their addressing,
// the kernel's fragmented datagram reassembled and delivered, port unreachable for a datagram
// no socket took (RFC 1122 §4.1.3.1, rate-limited), and ICMP errors quoting our datagrams.
#include <gtest/gtest.h>

#include <vector>

#include "ip/ipv4_input.hpp"
#include "unit/ip/ip_test_packets.hpp"
#include "unit/wire/hex_vectors.hpp"
#include "wire/checksum.hpp"
#include "wire/udp.hpp"

namespace utcp::ip {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace)

class Ipv4InputUdpTest : public ::testing::Test {
 protected:
  explicit Ipv4InputUdpTest(uint32_t per_second = 100, uint32_t burst = 10)
      : output_(100),
        input_({.local_addresses = {kLocal},
                .icmp_errors_per_second = per_second,
                .icmp_error_burst = burst,
                .udp = true},
               output_),
        reply_buf_(1500) {}

  InputResult feed(const std::vector<uint8_t>& packet, int64_t at_us = 0) {
    return input_.input(packet, instant_from_us(at_us), reply_buf_);
  }
  uint64_t count(IpCounter c) const { return input_.counters().get(c); }

  Ipv4Output output_;
  Ipv4Input input_;
  std::vector<uint8_t> reply_buf_;
};

std::vector<uint8_t> udp_datagram(uint16_t sport, uint16_t dport, std::span<const uint8_t> data,
                                  wire::Ipv4Addr src = kPeer, wire::Ipv4Addr dst = kLocal) {
  wire::UdpRepr r{.src_port = sport, .dst_port = dport, .payload = data};
  std::vector<uint8_t> out(r.total_len());
  r.emit(out, src, dst);
  return out;
}

TEST_F(Ipv4InputUdpTest, DatagramIsDeliveredWithAddressesTosAndTheWholeDatagram) {
  const auto udp = udp_datagram(40000, 53, pattern(30));
  const auto packet = ip_packet({.protocol = 17, .tos = 0xb9}, udp);
  const InputResult r = feed(packet);
  ASSERT_EQ(r.action, InputAction::kUdp);
  EXPECT_EQ(r.src, kPeer);
  EXPECT_EQ(r.dst, kLocal);
  EXPECT_EQ(r.tos, 0xb9);
  EXPECT_EQ(r.ecn, 1);
  EXPECT_EQ(std::vector<uint8_t>(r.payload.begin(), r.payload.end()), udp);
  EXPECT_EQ(r.payload.data(), packet.data() + 20);  // zero copy
  EXPECT_EQ(std::vector<uint8_t>(r.datagram.begin(), r.datagram.end()), packet);
  EXPECT_EQ(count(IpCounter::in_delivered_udp), 1u);
  EXPECT_EQ(count(IpCounter::in_unknown_protocol), 0u);
}

// The kernel's 3000-byte datagram in its three fragments (tests/data/kernel-udp-frag*.hex).
TEST_F(Ipv4InputUdpTest, KernelFragmentsAreReassembledAndDelivered) {
  const auto f1 = wire::load_hex("kernel-udp-frag1");
  const auto f2 = wire::load_hex("kernel-udp-frag2");
  const auto f3 = wire::load_hex("kernel-udp-frag3");
  EXPECT_EQ(feed(f3).action, InputAction::kHeld);  // out of order on purpose
  EXPECT_EQ(feed(f1).action, InputAction::kHeld);
  const InputResult r = feed(f2);
  ASSERT_EQ(r.action, InputAction::kUdp);
  auto udp = wire::UdpPacket::parse(r.payload, r.src, r.dst);
  ASSERT_TRUE(udp.ok()) << to_string(udp.error());
  EXPECT_EQ(udp->src_port(), 40100);
  EXPECT_EQ(udp->dst_port(), 5355);
  ASSERT_EQ(udp->payload().size(), 3000u);
  for (size_t i = 0; i < 3000; ++i) ASSERT_EQ(udp->payload()[i], i % 251) << i;
  EXPECT_EQ(count(IpCounter::frag_reassembled), 1u);
}

TEST_F(Ipv4InputUdpTest, PortUnreachableQuotesTheDatagram) {
  const auto packet =
      ip_packet({.protocol = 17, .id = 0x4242}, udp_datagram(40000, 9, pattern(20)));
  const InputResult r = feed(packet);
  ASSERT_EQ(r.action, InputAction::kUdp);
  std::vector<uint8_t> reply_buf(1500);
  const InputResult u = input_.port_unreachable(r.datagram, instant_from_us(0), reply_buf);
  ASSERT_EQ(u.action, InputAction::kReply);
  const auto reply = u.reply;
  ASSERT_EQ(reply.size(), 20u + 8 + packet.size());
  EXPECT_EQ(reply[9], 1);
  EXPECT_TRUE(wire::checksum_ok(reply.first(20)));
  const auto icmp = reply.subspan(20);
  EXPECT_EQ(icmp[0], 3);  // destination unreachable
  EXPECT_EQ(icmp[1], 3);  // port unreachable
  EXPECT_TRUE(wire::checksum_ok(icmp));
  EXPECT_EQ(std::vector<uint8_t>(icmp.begin() + 8, icmp.end()), packet);
  EXPECT_EQ(count(IpCounter::icmp_port_unreachable_sent), 1u);
  EXPECT_EQ(count(IpCounter::icmp_unreachable_sent), 0u);
}

TEST_F(Ipv4InputUdpTest, NoPortUnreachableToANonUnicastSource) {
  const auto packet = ip_packet({.src = wire::Ipv4Addr(0), .protocol = 17},
                                udp_datagram(68, 67, pattern(8), wire::Ipv4Addr(0)));
  const InputResult r = feed(packet);
  ASSERT_EQ(r.action, InputAction::kUdp);
  EXPECT_EQ(input_.port_unreachable(r.datagram, instant_from_us(0), reply_buf_).action,
            InputAction::kDrop);
  EXPECT_EQ(count(IpCounter::icmp_error_suppressed), 1u);
}

class Ipv4InputUdpRateLimitTest : public Ipv4InputUdpTest {
 protected:
  Ipv4InputUdpRateLimitTest() : Ipv4InputUdpTest(1, 2) {}
};

TEST_F(Ipv4InputUdpRateLimitTest, PortUnreachableIsRateLimited) {
  const auto packet = ip_packet({.protocol = 17}, udp_datagram(1, 2, pattern(4)));
  int sent = 0;
  for (int i = 0; i < 10; ++i) {
    const InputResult r = feed(packet, i);
    ASSERT_EQ(r.action, InputAction::kUdp);
    if (input_.port_unreachable(r.datagram, instant_from_us(i), reply_buf_).action ==
        InputAction::kReply) {
      ++sent;
    }
  }
  EXPECT_EQ(sent, 2);  // the burst, then nothing within the second
  EXPECT_EQ(count(IpCounter::icmp_error_rate_limited), 8u);
}

TEST_F(Ipv4InputUdpTest, IcmpErrorAboutOurDatagramIsForUdp) {
  auto sent = ip_packet({.src = kLocal, .dst = kPeer, .protocol = 17},
                        udp_datagram(40000, 53, pattern(12), kLocal, kPeer));
  const auto error = ip_packet({.src = kPeer, .protocol = 1}, icmp_message(3, 3, 0, sent));
  const InputResult r = feed(error);
  ASSERT_EQ(r.action, InputAction::kUdpIcmpError);
  EXPECT_EQ(r.icmp_error->protocol, wire::ip_proto::kUdp);
  EXPECT_EQ(r.icmp_error->type, 3);
  EXPECT_EQ(r.icmp_error->code, 3);
  EXPECT_EQ(r.icmp_error->local_addr, kLocal);
  EXPECT_EQ(r.icmp_error->local_port, 40000);
  EXPECT_EQ(r.icmp_error->remote_addr, kPeer);
  EXPECT_EQ(r.icmp_error->remote_port, 53);
}

// Without UDP (the default) a datagram is an unknown protocol, as before.
TEST(Ipv4InputNoUdp, UdpIsAnUnknownProtocol) {
  Ipv4Output output(1);
  Ipv4Input input({.local_addresses = {kLocal}}, output);
  std::vector<uint8_t> buf(1500);
  const auto packet = ip_packet({.protocol = 17}, udp_datagram(1, 2, pattern(4)));
  const InputResult r = input.input(packet, instant_from_us(0), buf);
  ASSERT_EQ(r.action, InputAction::kReply);
  EXPECT_EQ(r.reply[21], 2);  // protocol unreachable
}

}  // namespace
}  // namespace utcp::ip
