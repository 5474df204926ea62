// SPDX-License-Identifier: BSD-2-Clause
// A SYN flood at a listener (RFC 4987): spoofed SYNs that nobody answers fill the SYN queue;
// past it, SYN cookies (§3.6) answer without keeping state, so a legitimate client connects at
// once and moves data. Two stacks on virtual time; the spoofed SYNs are injected into B (the
// server) from addresses in the link's /24 that no stack owns. Sources come from a seeded
// generator (printed).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "base/prng.hpp"
#include "support/counters.hpp"
#include "support/sim_net.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace utcp::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using namespace wire::tcp_flag;

constexpr uint64_t kSeed = 4987;

// One TCP segment from `src`:`sport` to B's port 80, injected into B's side of the link.
void inject(SimNet& net, wire::Ipv4Addr src, const wire::TcpRepr& t) {
  std::vector<uint8_t> out(wire::kIpv4HeaderMin + t.total_len());
  wire::Ipv4Repr ip;
  ip.src = src;
  ip.dst = net.b().config().address;
  ip.protocol = wire::ip_proto::kTcp;
  ip.payload_len = static_cast<uint16_t>(t.total_len());
  ASSERT_GT(ip.emit(out), 0u);
  ASSERT_GT(t.emit(std::span(out).subspan(wire::kIpv4HeaderMin), ip.src, ip.dst), 0u);
  net.link().a().transmit_one(out, net.now());
}

// `count` SYNs, as Linux's connect() would send them, from spoofed sources 10.77.0.100-199.
void flood(SimNet& net, Prng& rng, int count) {
  for (int i = 0; i < count; ++i) {
    wire::TcpRepr syn;
    syn.src_port = static_cast<uint16_t>(10000 + rng.below(50000));
    syn.dst_port = 80;
    syn.seq = wire::SeqNum(static_cast<uint32_t>(rng.next()));
    syn.flags = kSyn;
    syn.window = 64240;
    syn.options.mss = 1460;
    syn.options.window_scale = 7;
    syn.options.sack_permitted = true;
    syn.options.timestamps = wire::TcpTimestamps{static_cast<uint32_t>(rng.next()), 0};
    inject(net, wire::Ipv4Addr(10, 77, 0, static_cast<uint8_t>(100 + rng.below(100))), syn);
    if (i % 64 == 63) net.b().process(net.now());  // a burst, read as it arrives
  }
  net.b().process(net.now());
}

struct FloodResult {
  bool connected = false;  // the legitimate client's handshake finished within 1 s
  int syns_sent = 0;       // by the client: 1 unless its SYN went unanswered
  std::string synack;      // the server's SYN-ACK to the client, as the trace prints it
  bool data_ok = false;    // and 200 KB went through byte-exact, both ways
  std::optional<tcp::TcpInfo> server_info;
  size_t connections_after_flood = 0;
};

FloodResult flood_then_connect(SimNetConfig cfg) {
  std::printf("seed %llu\n", static_cast<unsigned long long>(kSeed));
  Prng rng(kSeed);
  cfg.b.syn_backlog = 64;
  SimNet net(cfg);
  std::error_code ec;
  const SocketId l = net.b().listen(80, ec);
  EXPECT_FALSE(ec);
  flood(net, rng, 400);
  FloodResult r;
  r.connections_after_flood = net.b().connection_count();
  net.advance(milliseconds(10));
  net.a().set_trace([&](char dir, std::string_view line) {
    if (dir == '>' && line.find("[S]") != std::string_view::npos) ++r.syns_sent;
  });
  net.b().set_trace([&](char dir, std::string_view line) {
    if (dir == '>' && line.find("[S.]") != std::string_view::npos &&
        line.find("> 10.77.0.2:") != std::string_view::npos)
      r.synack = line;
  });
  const SocketId c = net.a().connect(net.b().config().address, 80, ec);
  EXPECT_FALSE(ec);
  const SocketId s = accept_connected(net, l, c, seconds(1));
  if (s == kNoSocket) return r;
  r.connected = true;
  r.server_info = net.b().tcp_info(s);
  // Data both ways, while the flood goes on.
  std::vector<uint8_t> up(200'000), down(200'000);
  for (size_t i = 0; i < up.size(); ++i) {
    up[i] = static_cast<uint8_t>(i * 13 + 1);
    down[i] = static_cast<uint8_t>(i * 7 + 5);
  }
  std::vector<uint8_t> got_up, got_down;
  size_t sent_up = 0, sent_down = 0;
  uint8_t buf[65536];
  r.data_ok = net.run_until(
      [&] {
        flood(net, rng, 8);
        sent_up += net.a().send(c, std::span(up).subspan(sent_up), ec);
        sent_down += net.b().send(s, std::span(down).subspan(sent_down), ec);
        for (size_t n; (n = net.b().recv(s, buf, ec)) > 0;)
          got_up.insert(got_up.end(), buf, buf + n);
        for (size_t n; (n = net.a().recv(c, buf, ec)) > 0;)
          got_down.insert(got_down.end(), buf, buf + n);
        return got_up.size() == up.size() && got_down.size() == down.size();
      },
      seconds(30));
  r.data_ok = r.data_ok && got_up == up && got_down == down;
  EXPECT_GT(counter(net.b(), "tcp.syncookies.sent"), 0u);
  EXPECT_EQ(counter(net.b(), "tcp.syncookies.valid"), 1u);
  EXPECT_EQ(counter(net.b(), "tcp.syncookies.invalid"), 0u);
  return r;
}

TEST(SynFlood, ALegitimateClientConnectsAtOnceThroughCookiesAndMovesData) {
  const FloodResult r = flood_then_connect({});
  // 64 half-open entries hold the queue; the other 336 SYNs left nothing behind.
  EXPECT_EQ(r.connections_after_flood, 64u);
  ASSERT_TRUE(r.connected);
  EXPECT_EQ(r.syns_sent, 1);  // the first SYN was answered: no retransmission needed
  EXPECT_TRUE(r.data_ok);
  // The client offered timestamps: window scale and SACK came back through the cookie.
  ASSERT_TRUE(r.server_info);
  EXPECT_TRUE(r.server_info->ts_enabled);
  EXPECT_TRUE(r.server_info->sack_enabled);
  EXPECT_GT(r.server_info->snd_wscale, 0);
  EXPECT_GT(r.server_info->rcv_wscale, 0);
  EXPECT_EQ(r.server_info->snd_mss, 1448u);  // 1460 less timestamps
}

TEST(SynFlood, WithoutTimestampsTheCookieConnectionGoesWithoutScaleAndSack) {
  SimNetConfig cfg;
  cfg.a.tcp.timestamps = false;
  const FloodResult r = flood_then_connect(cfg);
  ASSERT_TRUE(r.connected);
  EXPECT_EQ(r.syns_sent, 1);
  EXPECT_TRUE(r.data_ok);
  ASSERT_TRUE(r.server_info);
  EXPECT_FALSE(r.server_info->ts_enabled);
  EXPECT_FALSE(r.server_info->sack_enabled);
  EXPECT_EQ(r.server_info->snd_wscale, 0);
  EXPECT_EQ(r.server_info->rcv_wscale, 0);
  EXPECT_EQ(r.server_info->snd_mss, 1460u);
}

// A server that does not do timestamps cannot carry window scale or SACK in them, so its
// cookie SYN-ACK must not offer them either, although the client's SYN did.
TEST(SynFlood, AServerWithoutTimestampsOffersNeitherScaleNorSackInItsCookieSynAck) {
  SimNetConfig cfg;
  cfg.b.tcp.timestamps = false;
  const FloodResult r = flood_then_connect(cfg);
  ASSERT_TRUE(r.connected);
  EXPECT_TRUE(r.data_ok);
  ASSERT_TRUE(r.server_info);
  EXPECT_FALSE(r.server_info->ts_enabled);
  EXPECT_FALSE(r.server_info->sack_enabled);
  EXPECT_EQ(r.server_info->snd_wscale, 0);
  EXPECT_EQ(r.server_info->rcv_wscale, 0);
  EXPECT_NE(r.synack, "");
  EXPECT_EQ(r.synack.find("wscale"), std::string::npos) << r.synack;
  EXPECT_EQ(r.synack.find("sackOK"), std::string::npos) << r.synack;
}

TEST(SynFlood, WithoutCookiesTheClientIsLockedOut) {
  std::printf("seed %llu\n", static_cast<unsigned long long>(kSeed));
  Prng rng(kSeed);
  SimNetConfig cfg;
  cfg.b.syn_backlog = 64;
  cfg.b.syn_cookies = false;
  SimNet net(cfg);
  std::error_code ec;
  const SocketId l = net.b().listen(80, ec);
  flood(net, rng, 400);
  const SocketId c = net.a().connect(net.b().config().address, 80, ec);
  EXPECT_EQ(accept_connected(net, l, c, seconds(10)), kNoSocket);
  EXPECT_GT(counter(net.b(), "tcp.drop.syn-queue-full"), 336u);
  EXPECT_EQ(counter(net.b(), "tcp.syncookies.sent"), 0u);
}

TEST(SynFlood, ForgedCookieAcksAreRejectedWithRstAndCounted) {
  Prng rng(kSeed);
  SimNetConfig cfg;
  cfg.b.syn_backlog = 4;
  SimNet net(cfg);
  std::error_code ec;
  net.b().listen(80, ec);
  flood(net, rng, 40);
  ASSERT_GT(counter(net.b(), "tcp.syncookies.sent"), 0u);
  const uint64_t rsts = counter(net.b(), "tcp.rst-for-unmatched");
  for (int i = 0; i < 1000; ++i) {
    wire::TcpRepr ack;
    ack.src_port = static_cast<uint16_t>(10000 + rng.below(50000));
    ack.dst_port = 80;
    ack.seq = wire::SeqNum(static_cast<uint32_t>(rng.next()));
    ack.ack = wire::SeqNum(static_cast<uint32_t>(rng.next()));
    ack.flags = kAck;
    ack.window = 502;
    inject(net, wire::Ipv4Addr(10, 77, 0, 150), ack);
    if (i % 64 == 63) net.b().process(net.now());
  }
  net.b().process(net.now());
  EXPECT_EQ(counter(net.b(), "tcp.syncookies.invalid"), 1000u);
  EXPECT_EQ(counter(net.b(), "tcp.syncookies.valid"), 0u);
  EXPECT_EQ(counter(net.b(), "tcp.rst-for-unmatched"), rsts + 1000);
  EXPECT_EQ(net.b().connection_count(), 4u);  // only the queue's half-open entries
}

}  // namespace
}  // namespace utcp::test
