// SPDX-License-Identifier: BSD-2-Clause
// Issue 16 §1: one connection between two Stacks in memory moves more than 2^32 bytes each way
// at once, with both ISNs chosen just below the 32-bit wrap, so that every sequence-derived
// quantity crosses 0, ISS + 2^31 and ISS + 2^32 in both directions (RFC 9293 §3.4: sequence
// numbers compare modulo 2^32). Every byte is checked against a seeded pattern, the byte
// counters (TcpInfo, 64-bit as Linux's tcpi_bytes_acked) must count past 2^32, and the
// connection must close cleanly afterwards.
//
// Speed: the link carries 64 KB packets (MTU 65535), about 66,000 segments per 4 GiB, and the
// pattern is checked with memcmp against a precomputed period, so a run takes seconds in the
// Debug build. Reads go through a scattering device, so the direct-placement receive path
// (headers over the ring, payload in place) carries most of the data. The size is
// UTCP_WRAP_TEST_BYTES if set (the asan stage may run a smaller one), else 2^32 + 64 MiB.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "dev/fault_injector.hpp"
#include "support/scatter_device.hpp"
#include "tcp/isn_generator.hpp"
#include "utcp/memory_link.hpp"
#include "utcp/stack.hpp"

namespace utcp::test {
namespace {

using wire::SeqNum;

constexpr uint16_t kServerPort = 5000;
constexpr uint16_t kClientPort = 40000;

uint64_t transfer_bytes() {
  if (const char* s = std::getenv("UTCP_WRAP_TEST_BYTES")) return std::strtoull(s, nullptr, 10);
  return (uint64_t{1} << 32) + (64u << 20);
}

// Byte i of a direction's stream is period[i % kPeriod]: random bytes with a prime period, so
// data misplaced by any multiple of 2^16 or 2^32 (a wrap error) does not match.
class Pattern {
 public:
  static constexpr size_t kPeriod = 1'000'003;
  static constexpr size_t kMaxSpan = 256 * 1024;  // longest contiguous run at() returns

  explicit Pattern(uint64_t seed) : bytes_(kPeriod + kMaxSpan) {
    std::mt19937_64 rng(seed);
    for (size_t i = 0; i < kPeriod; ++i) bytes_[i] = static_cast<uint8_t>(rng() >> 56);
    std::memcpy(bytes_.data() + kPeriod, bytes_.data(), kMaxSpan);
  }
  // The stream's bytes from `offset`, at most min(n, kMaxSpan) of them.
  std::span<const uint8_t> at(uint64_t offset, uint64_t n) const {
    return {bytes_.data() + offset % kPeriod, static_cast<size_t>(std::min<uint64_t>(n, kMaxSpan))};
  }

 private:
  std::vector<uint8_t> bytes_;
};

// One direction: the writer sends the pattern and shuts down; the reader checks every byte.
struct Direction {
  Stack& from;
  SocketId from_sock;
  Stack& to;
  SocketId to_sock;
  const Pattern& pattern;
  uint64_t total;
  uint64_t written = 0;
  uint64_t read = 0;
  uint64_t first_mismatch = UINT64_MAX;
  bool shut = false;
  bool eof = false;

  // Returns true if any byte moved.
  bool pump(std::vector<uint8_t>& buf) {
    std::error_code ec;
    bool moved = false;
    while (written < total) {
      const size_t n = from.send(from_sock, pattern.at(written, total - written), ec);
      if (n == 0) break;
      written += n;
      moved = true;
    }
    if (written == total && !shut) {
      from.shutdown_write(from_sock, ec);
      shut = true;
    }
    for (;;) {
      const size_t n = to.recv(to_sock, buf, ec);
      if (n == 0) {
        if (!ec) eof = true;
        break;
      }
      for (size_t k = 0; k < n;) {
        const auto want = pattern.at(read + k, n - k);
        if (first_mismatch == UINT64_MAX && std::memcmp(buf.data() + k, want.data(), want.size())) {
          for (size_t j = 0; j < want.size(); ++j) {
            if (buf[k + j] != want[j]) {
              first_mismatch = read + k + j;
              break;
            }
          }
        }
        k += want.size();
      }
      read += n;
      moved = true;
    }
    return moved;
  }
};

struct WrapCase {
  const char* name;
  bool options;    // SACK, timestamps and window scaling (all on, or all off)
  double drop;     // random loss each way
  double damage;   // probability of each of duplication and reordering, each way
  uint32_t iss_a;  // wanted ISNs: A's exactly, B's within 2^22 below A's
  uint64_t seed;
};

StackConfig stack_config(Ipv4Addr addr, const std::array<uint8_t, 16>& secret, bool options) {
  StackConfig c;
  c.address = addr;
  c.secret = secret;
  c.tcp.path_mtu = 65535;
  c.tcp.mss = 65535 - 40;
  c.tcp.sack = options;
  c.tcp.rack = options;
  c.tcp.timestamps = options;
  c.tcp.window_scaling = options;
  if (!options) c.tcp.recv_buffer = 65535;  // no scaling: the window cannot say more
  return c;
}

// The first SYN-carrying segment's sequence number seen on a device (the sender's ISS).
struct SynSpy {
  std::optional<uint32_t> iss;
  void look(const dev::PacketSlot& slot) {
    const auto p = slot.data();
    if (iss || p.size() < 40) return;
    const size_t ihl = size_t{p[0] & 0x0fu} * 4;
    if (p.size() < ihl + 20 || (p[ihl + 13] & 0x02) == 0) return;
    iss = uint32_t{p[ihl + 4]} << 24 | uint32_t{p[ihl + 5]} << 16 | uint32_t{p[ihl + 6]} << 8 |
          p[ihl + 7];
  }
};

void run_wrap_case(const WrapCase& wc) {
  const uint64_t total = transfer_bytes();
  std::printf("%s: seed %llu, %llu bytes each way\n", wc.name,
              static_cast<unsigned long long>(wc.seed), static_cast<unsigned long long>(total));
  const Ipv4Addr addr_a(10, 77, 0, 2), addr_b(10, 77, 0, 1);

  // RFC 6528 ISN = M + F(4-tuple, secret), M a 4 µs clock: start the virtual clock where A's ISN
  // is iss_a, and pick B's secret (a seeded search) so that B's F lands just below A's.
  std::array<uint8_t, 16> secret_a{}, secret_b{};
  std::mt19937_64 rng(wc.seed);
  for (auto& b : secret_a) b = static_cast<uint8_t>(rng());
  const uint32_t f_a = tcp::IsnGenerator(secret_a)
                           .isn(addr_a, kClientPort, addr_b, kServerPort, instant_from_us(0))
                           .raw();
  uint32_t f_b = 0;
  for (;;) {
    for (auto& b : secret_b) b = static_cast<uint8_t>(rng());
    f_b = tcp::IsnGenerator(secret_b)
              .isn(addr_b, kServerPort, addr_a, kClientPort, instant_from_us(0))
              .raw();
    if (f_a - f_b < (1u << 22)) break;
  }
  const uint32_t m = wc.iss_a - f_a;
  // One full M period later than the first such time, so the clock does not start at zero.
  const Instant start = instant_from_us((int64_t{m} + (int64_t{1} << 32)) * 4);
  const uint32_t want_iss_a = wc.iss_a;
  const uint32_t want_iss_b = f_b + (wc.iss_a - f_a);
  std::printf("%s: ISN A %u, ISN B %u\n", wc.name, want_iss_a, want_iss_b);

  dev::MemoryLink link(dev::MemoryLinkConfig{.mtu = 65535, .queue_packets = 512});
  // Reordering holds a packet back behind the next (SACK blocks, RACK's reordering window);
  // duplicates bring D-SACKs: the scoreboard and the reassembly queue work across the wrap.
  const dev::FaultConfig faults{.drop = wc.drop, .duplicate = wc.damage, .reorder = wc.damage};
  dev::FaultInjector fa(link.a(), dev::FaultInjectorConfig{.tx = faults, .seed = wc.seed * 31});
  dev::FaultInjector fb(link.b(), dev::FaultInjectorConfig{.tx = faults, .seed = wc.seed * 37});
  test_support::ScatterDevice da(fa), db(fb);
  SynSpy syn_to_a, syn_to_b;
  da.on_packet = [&](dev::PacketSlot& s) { syn_to_a.look(s); };
  db.on_packet = [&](dev::PacketSlot& s) { syn_to_b.look(s); };
  Stack a(da, stack_config(addr_a, secret_a, wc.options));
  Stack b(db, stack_config(addr_b, secret_b, wc.options));

  Instant now = start;
  a.process(now);
  b.process(now);
  std::error_code ec;
  const SocketId listener = b.listen(kServerPort, ec);
  ASSERT_FALSE(ec);
  const SocketId client =
      a.connect(addr_b, kServerPort, ConnectOptions{.local_port = kClientPort}, ec);
  ASSERT_FALSE(ec);
  SocketId server = kNoSocket;
  for (int i = 0; i < 1000 && server == kNoSocket; ++i) {
    a.process(now);
    b.process(now);
    server = b.accept(listener, ec);
  }
  ASSERT_NE(server, kNoSocket) << "handshake did not complete";
  ASSERT_TRUE(syn_to_b.iss && syn_to_a.iss);
  EXPECT_EQ(*syn_to_b.iss, want_iss_a);
  EXPECT_EQ(*syn_to_a.iss, want_iss_b);

  const Pattern up_pattern(wc.seed * 2 + 1), down_pattern(wc.seed * 2 + 2);
  Direction up{a, client, b, server, up_pattern, total};
  Direction down{b, server, a, client, down_pattern, total};
  std::vector<uint8_t> buf(Pattern::kMaxSpan);
  Instant last_progress = now;
  uint64_t idle_loops = 0;
  const auto both_done = [&] { return up.eof && down.eof; };
  while (!both_done()) {
    const bool up_moved = up.pump(buf);  // both pump every round
    const bool moved = down.pump(buf) || up_moved;
    a.process(now);
    b.process(now);
    if (moved) {
      last_progress = now;
      idle_loops = 0;
    } else if (++idle_loops > 100'000 || now - last_progress > std::chrono::seconds(600)) {
      FAIL() << "transfer stalled at t=" << (now - start).count() << "us: a->b " << up.read << "/"
             << total << " (written " << up.written << "), b->a " << down.read << "/" << total
             << " (written " << down.written << ")";
    }
    const Instant next = std::min(a.next_deadline(), b.next_deadline());
    if (next != kNever && next > now) now = next;
  }
  EXPECT_EQ(up.read, total);
  EXPECT_EQ(down.read, total);
  EXPECT_EQ(up.first_mismatch, UINT64_MAX)
      << "a->b first wrong byte at offset " << up.first_mismatch;
  EXPECT_EQ(down.first_mismatch, UINT64_MAX)
      << "b->a first wrong byte at offset " << down.first_mismatch;

  // Let the last ACKs arrive, then the 64-bit byte counters must equal the totals.
  for (int i = 0; i < 1000 && (a.send_unacked(client) > 0 || b.send_unacked(server) > 0); ++i) {
    a.process(now);
    b.process(now);
    const Instant next = std::min(a.next_deadline(), b.next_deadline());
    if (next != kNever && next > now) now = next;
  }
  const auto ia = a.tcp_info(client), ib = b.tcp_info(server);
  ASSERT_TRUE(ia && ib);
  EXPECT_EQ(ia->bytes_acked, total);
  EXPECT_EQ(ia->bytes_received, total);
  EXPECT_EQ(ib->bytes_acked, total);
  EXPECT_EQ(ib->bytes_received, total);
  EXPECT_GE(ia->bytes_sent, total);
  EXPECT_GE(ib->bytes_sent, total);
  std::printf("%s: virtual %.3f s, a: segs_out %llu retrans %llu recoveries %llu rto %llu\n",
              wc.name, static_cast<double>((now - start).count()) / 1e6,
              static_cast<unsigned long long>(ia->segs_out),
              static_cast<unsigned long long>(ia->total_retrans),
              static_cast<unsigned long long>(ia->fast_recoveries),
              static_cast<unsigned long long>(ia->rto_count));

  // Both FINs were exchanged: after closing, TIME-WAIT ends and nothing is left.
  a.close(client);
  b.close(server);
  b.close(listener);
  const Instant limit = now + std::chrono::seconds(300);
  while (now < limit && (a.connection_count() > 0 || b.connection_count() > 0)) {
    a.process(now);
    b.process(now);
    const Instant next = std::min(a.next_deadline(), b.next_deadline());
    if (next == kNever) break;
    if (next > now) now = next;
  }
  EXPECT_EQ(a.connection_count(), 0u);
  EXPECT_EQ(b.connection_count(), 0u);
}

TEST(WrapTransfer, BeyondTwoToThe32EachWaySackTimestampsScaling) {
  run_wrap_case({.name = "options on",
                 .options = true,
                 .drop = 0.0005,
                 .damage = 0.001,
                 .iss_a = 0xffff0000u,
                 .seed = 1601});
}

TEST(WrapTransfer, BeyondTwoToThe32EachWayNoOptions) {
  run_wrap_case({.name = "options off",
                 .options = false,
                 .drop = 0.0005,
                 .damage = 0.001,
                 .iss_a = 0xfffff000u,
                 .seed = 1602});
}

}  // namespace
}  // namespace utcp::test
