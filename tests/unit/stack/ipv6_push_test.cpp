// SPDX-License-Identifier: BSD-2-Clause
// The Stack's IPv6 paths with every packet in the test's hands (push-style stacks, virtual
// clock): ICMPv6 Packet Too Big lowering a connection's MSS (RFC 8201, floor 1280, RFC 5927
// sequence check), echo requests answered, and what an IPv6 segment carries (flow label per
// connection, RFC 6437; traffic class = Diffserv + ECN; hop limit 64).
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <vector>

#include "support/counters.hpp"
#include "utcp/stack.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv6.hpp"
#include "wire/tcp.hpp"

namespace utcp {
namespace {

const Ipv6Addr kA(0xfd77, 0, 0, 0, 0, 0, 0, 2);
const Ipv6Addr kB(0xfd77, 0, 0, 0, 0, 0, 0, 1);
const Ipv6Addr kRouter(0xfd77, 0, 0, 0, 0, 0, 0, 0xfe);

StackConfig config6(const Ipv6Addr& addr6, uint8_t seed) {
  StackConfig c;
  c.address = Ipv4Addr(10, 0, 0, seed);
  c.address6 = addr6;
  for (size_t i = 0; i < c.secret.size(); ++i) c.secret[i] = static_cast<uint8_t>(seed + i);
  return c;
}

dev::DeviceCapabilities caps(size_t mtu) {
  dev::DeviceCapabilities c;
  c.mtu = mtu;
  return c;
}

// Two push-style stacks; `on_a` sees (and may drop, returning false) every packet A sends.
struct Wire6 {
  Wire6() : a(caps(1500), config6(kA, 1)), b(caps(1500), config6(kB, 101)), buf(65535) {
    a.process(now);
    b.process(now);
  }
  size_t carry() {
    size_t moved = 0;
    for (bool again = true; again;) {
      again = false;
      while (const size_t n = a.poll_transmit(buf)) {
        again = true;
        ++moved;
        const std::vector<uint8_t> p(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(n));
        sent_by_a.push_back(p);
        if (!on_a || on_a(p)) b.input(p, now);
      }
      while (const size_t n = b.poll_transmit(buf)) {
        again = true;
        ++moved;
        a.input(std::span(buf).first(n), now);
      }
    }
    return moved;
  }
  bool run_until(const std::function<bool()>& done, Duration budget) {
    const Instant limit = now + budget;
    while (!done()) {
      if (carry() > 0) continue;
      const Instant next = std::min({a.next_deadline(), b.next_deadline(), limit});
      if (now >= limit) return false;
      now = std::max(now + Duration(1), next);
      a.process(now);
      b.process(now);
    }
    return true;
  }
  // A connected A -> B pair over IPv6 on port 80.
  void connect() {
    std::error_code ec;
    listener = b.listen(80, ec);
    client = a.connect(kB, 80, ec);
    ASSERT_FALSE(ec);
    ASSERT_TRUE(run_until(
        [&] {
          if (server == kNoSocket) server = b.accept(listener, ec);
          return server != kNoSocket && (a.readiness(client) & ready::kConnected);
        },
        std::chrono::seconds(5)));
  }

  Stack a, b;
  std::vector<uint8_t> buf;
  Instant now = instant_from_us(1'000'000);
  std::function<bool(const std::vector<uint8_t>&)> on_a;
  std::vector<std::vector<uint8_t>> sent_by_a;
  SocketId listener = kNoSocket, client = kNoSocket, server = kNoSocket;
};

// An ICMPv6 Packet Too Big from a router on the path, quoting `invoking`, to A.
std::vector<uint8_t> packet_too_big(uint32_t mtu, std::span<const uint8_t> invoking) {
  const auto icmp = wire::Icmpv6Repr::packet_too_big(mtu, invoking);
  std::vector<uint8_t> p(40 + icmp.total_len());
  icmp.emit(std::span(p).subspan(40), kRouter, kA);
  wire::Ipv6Repr ip{.src = kRouter,
                    .dst = kA,
                    .next_header = wire::ipv6_next::kIcmpv6,
                    .hop_limit = 64,
                    .payload_len = static_cast<uint16_t>(icmp.total_len())};
  ip.emit(p);
  return p;
}

// The sequence number of an IPv6/TCP packet (no extension headers).
uint32_t seq_of(const std::vector<uint8_t>& p) {
  return uint32_t{p[44]} << 24 | uint32_t{p[45]} << 16 | uint32_t{p[46]} << 8 | p[47];
}

// A sends `bytes`, and a router with `link_mtu` on the path drops A's larger packets and
// answers the first with Packet Too Big saying `reported` (an MTU below 1280 allowed, to see
// the floor). Returns the bytes B received.
std::vector<uint8_t> transfer_through_router(Wire6& w, size_t bytes, size_t link_mtu,
                                             uint32_t reported) {
  std::vector<uint8_t> data(bytes);
  for (size_t i = 0; i < bytes; ++i) data[i] = static_cast<uint8_t>(i * 31 + (i >> 9));
  std::vector<std::vector<uint8_t>> too_big;
  w.on_a = [&](const std::vector<uint8_t>& p) {
    if (p.size() <= link_mtu) return true;
    too_big.push_back(p);
    return false;
  };
  std::error_code ec;
  size_t written = 0;
  std::vector<uint8_t> got;
  bool told = false;
  w.run_until(
      [&] {
        while (written < data.size()) {
          const size_t n = w.a.send(w.client, std::span(data).subspan(written), ec);
          if (n == 0) break;
          written += n;
        }
        uint8_t buf[8192];
        while (const size_t n = w.b.recv(w.server, buf, ec)) got.insert(got.end(), buf, buf + n);
        if (!told && !too_big.empty()) {
          told = true;
          w.a.input(packet_too_big(reported, too_big.front()), w.now);
        }
        return got.size() == data.size();
      },
      std::chrono::seconds(60));
  EXPECT_TRUE(got == data) << "B got " << got.size() << " of " << data.size() << " bytes";
  EXPECT_TRUE(told) << "no packet exceeded the router's MTU";
  return got;
}

// RFC 8201 §4, RFC 9293 §3.7.1: a Packet Too Big in the flight lowers the path MTU, the
// segments shrink to MTU - 60 (less options) and the transfer completes through the router.
TEST(Ipv6PathMtu, PacketTooBigLowersTheMssAndTheTransferCompletes) {
  Wire6 w;
  w.connect();
  EXPECT_EQ(w.a.tcp_info(w.client)->snd_mss, 1500u - 60 - 12);
  transfer_through_router(w, 200'000, 1400, 1400);
  EXPECT_EQ(w.a.tcp_info(w.client)->snd_mss, 1400u - 60 - 12);
  // After the message, nothing A sent exceeded 1400 bytes.
  size_t last_big = 0;
  for (size_t i = 0; i < w.sent_by_a.size(); ++i) {
    if (w.sent_by_a[i].size() > 1400) last_big = i;
  }
  for (size_t i = last_big + 1; i < w.sent_by_a.size(); ++i)
    EXPECT_LE(w.sent_by_a[i].size(), 1400u);
}

// RFC 8201 §4 / RFC 8200 §5: an MTU below 1280 is taken as 1280, never lower.
TEST(Ipv6PathMtu, PacketTooBigBelow1280IsClampedTo1280) {
  Wire6 w;
  w.connect();
  transfer_through_router(w, 100'000, 1280, 600);
  EXPECT_EQ(w.a.tcp_info(w.client)->snd_mss, 1280u - 60 - 12);
}

// RFC 5927 §4.1: a Packet Too Big quoting a sequence number outside the flight (forged or
// stale) changes nothing, and is counted.
TEST(Ipv6PathMtu, ForgedPacketTooBigOutsideTheFlightIsIgnored) {
  Wire6 w;
  w.connect();
  std::error_code ec;
  const std::vector<uint8_t> some(4000, 7);
  w.a.send(w.client, some, ec);
  w.run_until([&] { return w.a.send_unacked(w.client) == 0; }, std::chrono::seconds(5));
  ASSERT_FALSE(w.sent_by_a.empty());
  std::vector<uint8_t> quote = w.sent_by_a.front();  // the SYN: long acknowledged
  const uint32_t seq = seq_of(quote) - 100'000;
  quote[44] = static_cast<uint8_t>(seq >> 24);
  quote[45] = static_cast<uint8_t>(seq >> 16);
  quote[46] = static_cast<uint8_t>(seq >> 8);
  quote[47] = static_cast<uint8_t>(seq);
  w.a.input(packet_too_big(1280, quote), w.now);
  EXPECT_EQ(w.a.tcp_info(w.client)->snd_mss, 1500u - 60 - 12);
  EXPECT_EQ(test::counter(w.a, "icmp.drop.error-seq-not-in-flight"), 1u);
}

// RFC 4443 §4.2: an echo request to our address is answered with the same identifier,
// sequence number and data, from our address to the requester.
TEST(Ipv6Echo, EchoRequestIsAnswered) {
  Stack s(caps(1500), config6(kA, 1));
  std::vector<uint8_t> data(56);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
  const auto req = wire::Icmpv6Repr::echo_request(0x4242, 7, data);
  std::vector<uint8_t> p(40 + req.total_len());
  req.emit(std::span(p).subspan(40), kB, kA);
  wire::Ipv6Repr ip{.src = kB,
                    .dst = kA,
                    .next_header = wire::ipv6_next::kIcmpv6,
                    .hop_limit = 64,
                    .payload_len = static_cast<uint16_t>(req.total_len())};
  ip.emit(p);
  s.input(p, instant_from_us(1000));
  std::vector<uint8_t> out(2000);
  const size_t n = s.poll_transmit(out);
  ASSERT_GT(n, 0u) << "no echo reply";
  auto reply = wire::Ipv6Packet::parse(std::span(out).first(n));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->src(), kA);
  EXPECT_EQ(reply->dst(), kB);
  EXPECT_EQ(reply->hop_limit(), 64);
  auto icmp = wire::Icmpv6Packet::parse(reply->payload(), kA, kB);
  ASSERT_TRUE(icmp) << "the reply's ICMPv6 checksum must verify";
  EXPECT_EQ(icmp->type(), wire::icmpv6_type::kEchoReply);
  EXPECT_EQ(icmp->identifier(), 0x4242);
  EXPECT_EQ(icmp->sequence(), 7);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), icmp->data().begin(), icmp->data().end()));
  EXPECT_EQ(s.poll_transmit(out), 0u);
}

// RFC 6437 §3: every segment of a connection carries one flow label, non-zero, and another
// connection gets another; RFC 9293 §3.9.1.9 / RFC 8200 §7: the traffic class is the
// connection's Diffserv field (set_tos) with the ECN codepoint; RFC 8200 §3: hop limit 64.
TEST(Ipv6Output, FlowLabelPerConnectionTrafficClassAndHopLimit) {
  Wire6 w;
  w.connect();
  std::error_code ec;
  w.a.set_tos(w.client, 0xb8);  // DSCP 46 (EF)
  const std::vector<uint8_t> data(20'000, 1);
  w.a.send(w.client, data, ec);
  w.run_until([&] { return w.a.send_unacked(w.client) == 0; }, std::chrono::seconds(5));
  const SocketId second = w.a.connect(kB, 80, ec);
  ASSERT_FALSE(ec);
  w.run_until([&] { return (w.a.readiness(second) & ready::kConnected) != 0; },
              std::chrono::seconds(5));
  const uint16_t port1 = w.a.local_endpoint(w.client).port;
  std::set<uint32_t> labels1, labels2;
  size_t after_tos = 0;
  for (const auto& p : w.sent_by_a) {
    auto ip = wire::Ipv6Packet::parse(p);
    ASSERT_TRUE(ip);
    EXPECT_EQ(ip->hop_limit(), 64);
    EXPECT_EQ(ip->src(), kA);
    const uint16_t sport = static_cast<uint16_t>(p[40] << 8 | p[41]);
    (sport == port1 ? labels1 : labels2).insert(ip->flow_label());
    if (sport == port1 && ip->dscp() == 0xb8 >> 2) ++after_tos;
  }
  ASSERT_EQ(labels1.size(), 1u);
  ASSERT_EQ(labels2.size(), 1u);
  EXPECT_NE(*labels1.begin(), 0u);
  EXPECT_NE(*labels2.begin(), 0u);
  EXPECT_NE(*labels1.begin(), *labels2.begin());
  EXPECT_GE(after_tos, 10u) << "the data segments after set_tos carry DSCP 46";
}

}  // namespace
}  // namespace utcp
