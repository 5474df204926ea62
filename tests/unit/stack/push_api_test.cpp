// SPDX-License-Identifier: BSD-2-Clause
// The push-style entry (Stack::input / poll_transmit / next_deadline) for embedders that own
// their I/O loop: two stacks without any device, the test carrying every packet by hand and
// keeping a virtual clock. Also the settings a Stack derives from the link's capabilities.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string_view>
#include <vector>

#include "support/counters.hpp"
#include "support/test_stream.hpp"
#include "utcp/memory_link.hpp"
#include "utcp/stack.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace utcp {
namespace {

using test::counter;

StackConfig config_for(Ipv4Addr addr, uint8_t seed) {
  StackConfig c;
  c.address = addr;
  for (size_t i = 0; i < c.secret.size(); ++i) c.secret[i] = static_cast<uint8_t>(seed + i);
  return c;
}

dev::DeviceCapabilities link_caps(size_t mtu) {
  dev::DeviceCapabilities c;
  c.mtu = mtu;
  return c;
}

// Two push-style stacks and the "wire" between them: the test moves the packets, losing
// every packet for which `lose` says so, and runs the clock to the next deadline when idle.
struct HandCarried {
  explicit HandCarried(size_t mtu = 1500)
      : a(link_caps(mtu), config_for(Ipv4Addr(10, 0, 0, 1), 1)),
        b(link_caps(mtu), config_for(Ipv4Addr(10, 0, 0, 2), 101)),
        buf(65535) {
    a.process(now);  // both clocks start at the test's time
    b.process(now);
  }

  // Carries everything either side has to send; returns the packets carried.
  size_t carry() {
    size_t moved = 0;
    for (bool again = true; again;) {
      again = false;
      for (auto [from, to] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
        while (const size_t n = from->poll_transmit(buf)) {
          again = true;
          ++moved;
          if (lose && lose()) continue;
          to->input(std::span(buf).first(n), now);
        }
      }
    }
    return moved;
  }

  // One step: carry what is pending, else advance the clock to the earliest deadline and
  // run the timers there. False when nothing is pending at all.
  bool step() {
    if (carry() > 0) return true;
    const Instant next = std::min(a.next_deadline(), b.next_deadline());
    if (next == kNever) return false;
    now = std::max(now, next);
    a.process(now);
    b.process(now);
    return true;
  }

  Stack a, b;
  std::vector<uint8_t> buf;
  Instant now = instant_from_us(1'000'000);
  std::function<bool()> lose;
};

std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  std::mt19937 rng(seed);
  for (auto& x : v) x = static_cast<uint8_t>(rng());
  return v;
}

// Sends `data` from a to b over one connection and returns what b read.
std::vector<uint8_t> transfer(HandCarried& w, const std::vector<uint8_t>& data) {
  std::error_code ec;
  const SocketId l = w.b.listen(7000, ec);
  EXPECT_FALSE(ec);
  const SocketId c = w.a.connect(w.b.config().address, 7000, ec);
  EXPECT_FALSE(ec);
  SocketId s = kNoSocket;
  size_t sent = 0;
  std::vector<uint8_t> got, chunk(65536);
  bool closed = false;
  for (int i = 0; i < 2'000'000 && got.size() < data.size(); ++i) {
    if (s == kNoSocket) s = w.b.accept(l, ec);
    if (sent < data.size()) {
      sent += w.a.send(c, std::span(data).subspan(sent), ec);
    } else if (!closed && w.a.state(c) != tcp::State::kSynSent) {
      // RFC 9293 §3.10.4: CLOSE in SYN-SENT deletes the TCB and its queued data (Linux too),
      // so the application closes only once the handshake is done (a lost SYN delays it).
      w.a.close(c);
      closed = true;
    }
    if (s != kNoSocket) {
      const size_t n = w.b.recv(s, chunk, ec);
      got.insert(got.end(), chunk.begin(), chunk.begin() + static_cast<long>(n));
    }
    if (!w.step()) break;
  }
  return got;
}

TEST(PushApi, TwoStacksWithoutDevicesExchangeBytes) {
  HandCarried w;
  const auto data = pattern(2 << 20, 7);
  EXPECT_EQ(transfer(w, data), data);
  // The segments were full-sized for the link's MTU: the stack took its MSS from there.
  EXPECT_EQ(w.a.config().tcp.mss, 1460);
}

TEST(PushApi, LossIsRepairedByTimersRunAtNextDeadline) {
  const uint32_t seed = test::test_seed("PushApi loss");
  std::mt19937 rng(seed);
  HandCarried w;
  size_t lost = 0;
  w.lose = [&] { return rng() % 10 == 0 && ++lost; };  // 10 % each way
  const auto data = pattern(256 << 10, seed);
  const Instant start = w.now;
  EXPECT_EQ(transfer(w, data), data) << "seed " << seed;
  EXPECT_GT(lost, 0u);
  EXPECT_GT(w.now, start);  // only the clock the test ran made the retransmissions happen
}

TEST(PushApi, NothingPendingMeansNoDeadlineAndNoPacket) {
  HandCarried w;
  EXPECT_EQ(w.a.next_deadline(), kNever);
  std::vector<uint8_t> out(1500);
  EXPECT_EQ(w.a.poll_transmit(out), 0u);
  // A stray segment from nowhere is answered with a RST, through poll_transmit.
  std::error_code ec;
  const SocketId c = w.a.connect(w.b.config().address, 9, ec);  // nobody listens on 9
  ASSERT_FALSE(ec);
  EXPECT_EQ(w.a.next_deadline(), w.now);  // the SYN is due at once
  size_t syn = w.a.poll_transmit(out);
  ASSERT_GT(syn, 40u);
  w.b.input(std::span(out).first(syn), w.now);
  const size_t rst = w.b.poll_transmit(out);
  ASSERT_EQ(rst, 40u);
  EXPECT_NE(out[33] & 0x04, 0);  // RST
  w.a.input(std::span(out).first(rst), w.now);
  w.a.flush(w.now);
  EXPECT_EQ(w.a.error(c), std::make_error_code(std::errc::connection_refused));
}

TEST(PushApi, ABufferTooSmallDropsThePacketAndCountsIt) {
  HandCarried w;
  std::error_code ec;
  w.a.connect(w.b.config().address, 80, ec);
  std::vector<uint8_t> tiny(20);  // a SYN needs 20 + 20 + options
  EXPECT_EQ(w.a.poll_transmit(tiny), 0u);
  EXPECT_EQ(counter(w.a, "dev.tx-dropped"), 1u);
  EXPECT_EQ(w.a.poll_transmit(w.buf), 0u);  // dropped, not kept
  // Lost like any packet: the SYN goes again when its retransmission timer fires.
  const Instant rto = w.a.next_deadline();
  ASSERT_GT(rto, w.now);
  w.a.process(rto);
  EXPECT_GT(w.a.poll_transmit(w.buf), 40u);
}

TEST(PushApi, GarbageInputIsCountedNotFatal) {
  HandCarried w;
  std::mt19937 rng(3);
  std::vector<uint8_t> junk(1500);
  for (int i = 0; i < 2000; ++i) {
    const size_t n = rng() % junk.size();
    for (size_t k = 0; k < n; ++k) junk[k] = static_cast<uint8_t>(rng());
    if (n > 0) junk[0] = 0x45;
    w.a.input(std::span(junk).first(n), w.now);
  }
  w.carry();
  EXPECT_EQ(w.a.connection_count(), 0u);
}

TEST(DeviceCapabilities, StackDerivesMssAndTsoFromTheDevice) {
  dev::DeviceCapabilities caps = link_caps(9000);
  Stack jumbo(caps, config_for(Ipv4Addr(10, 0, 0, 1), 1));
  EXPECT_EQ(jumbo.config().tcp.path_mtu, 9000);
  EXPECT_EQ(jumbo.config().tcp.mss, 8960);
  EXPECT_EQ(jumbo.config().tcp.tso_max_bytes, 0u);

  caps = link_caps(1500);
  caps.tso_max_bytes = 65535;
  caps.tso_checksum_offload = true;
  Stack tso(caps, config_for(Ipv4Addr(10, 0, 0, 1), 1));
  EXPECT_EQ(tso.config().tcp.mss, 1460);
  // Room for the largest headers: IPv6's 40 bytes on a dual stack, IPv4's 20 without IPv6.
  EXPECT_EQ(tso.config().tcp.tso_max_bytes, 65535u - 40 - 60);
  EXPECT_EQ(tso.config().tcp.tso_checksum_offload_above, 1500u);
  StackConfig v4only = config_for(Ipv4Addr(10, 0, 0, 1), 1);
  v4only.ipv6 = false;
  Stack tso4(caps, v4only);
  EXPECT_EQ(tso4.config().tcp.tso_max_bytes, 65535u - 20 - 60);

  // A configured MSS only lowers what the MTU allows.
  StackConfig small = config_for(Ipv4Addr(10, 0, 0, 1), 1);
  small.tcp.mss = 1000;
  Stack capped(link_caps(1500), small);
  EXPECT_EQ(capped.config().tcp.mss, 1000);

  dev::MemoryLink link(dev::MemoryLinkConfig{.mtu = 65535});
  Stack big(link.a(), config_for(Ipv4Addr(10, 0, 0, 1), 1));
  EXPECT_EQ(big.config().tcp.mss, 65495);
  EXPECT_EQ(big.capabilities().mtu, 65535u);
}

// What a TSO sender hands its device: with `device_sums`, segments above the MTU leave their
// checksum to the device; everything that fits the MTU is always summed by the stack.
struct TsoCounts {
  size_t oversized = 0, oversized_summed = 0, fitting = 0, fitting_summed = 0;
};

TsoCounts send_over_tso_link(bool device_sums) {
  dev::DeviceCapabilities caps = link_caps(1500);
  caps.tso_max_bytes = 65535;
  caps.tso_checksum_offload = device_sums;
  Stack a(caps, config_for(Ipv4Addr(10, 0, 0, 1), 1));
  // The receiver takes what the sender's device would have cut whole: a 64 KB link.
  Stack b(link_caps(65535), config_for(Ipv4Addr(10, 0, 0, 2), 101));
  Instant now = instant_from_us(1'000'000);
  a.process(now);
  b.process(now);
  // The -v trace checks what it can: a segment the device finishes is not "invalid".
  size_t invalid_traced = 0;
  a.set_trace([&](char dir, std::string_view line) {
    if (dir == '>' && line.find("invalid") != std::string_view::npos) ++invalid_traced;
  });
  std::error_code ec;
  const SocketId l = b.listen(80, ec);
  const SocketId c = a.connect(b.config().address, 80, ec);
  const auto data = pattern(1 << 20, 5);
  std::vector<uint8_t> buf(65535), sink(1 << 16);
  TsoCounts counts;
  size_t sent = 0, got = 0;
  SocketId s = kNoSocket;
  for (int i = 0; i < 100000 && got < data.size(); ++i) {
    if (sent < data.size()) sent += a.send(c, std::span(data).subspan(sent), ec);
    while (const size_t n = a.poll_transmit(buf)) {
      const auto ip = wire::Ipv4Packet::parse(std::span(buf).first(n));
      EXPECT_TRUE(ip.ok());
      const bool summed = wire::TcpPacket::checksum_ok_tcp(ip->payload(), ip->src(), ip->dst());
      (n > 1500 ? counts.oversized : counts.fitting)++;
      (n > 1500 ? counts.oversized_summed : counts.fitting_summed) += summed;
      // The receiving side of such a link has the checksum vouched for (vnet header).
      b.input(std::span(buf).first(n), now, /*checksum_verified=*/n > 1500);
    }
    while (const size_t n = b.poll_transmit(buf)) a.input(std::span(buf).first(n), now);
    if (s == kNoSocket) s = b.accept(l, ec);
    if (s != kNoSocket) got += b.recv(s, sink, ec);
    now += Duration(100);
    a.process(now);
    b.process(now);
  }
  EXPECT_EQ(got, data.size());
  EXPECT_EQ(invalid_traced, 0u);
  return counts;
}

TEST(DeviceCapabilities, TsoSegmentsLeaveTheChecksumToADeviceThatFinishesIt) {
  const TsoCounts with = send_over_tso_link(true);
  EXPECT_GT(with.oversized, 0u);
  EXPECT_EQ(with.oversized_summed, 0u);  // not summed: the device replaces it anyway
  EXPECT_GT(with.fitting, 0u);
  EXPECT_EQ(with.fitting_summed, with.fitting);

  const TsoCounts without = send_over_tso_link(false);
  EXPECT_GT(without.oversized, 0u);
  EXPECT_EQ(without.oversized_summed, without.oversized);
  EXPECT_EQ(without.fitting_summed, without.fitting);
}

}  // namespace
}  // namespace utcp
