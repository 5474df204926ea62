// SPDX-License-Identifier: BSD-2-Clause
// Direct placement: a device that scatters reads (as TUN does) gets bulk segments read straight
// into the receiving connection's buffer; anything it mispredicts is gathered back and takes
// the usual path. Either way the bytes must arrive exactly.
#include <gtest/gtest.h>

#include <algorithm>

#include <cstring>
#include <string_view>
#include <vector>

#include "support/counters.hpp"
#include "support/scatter_device.hpp"
#include "utcp/memory_link.hpp"
#include "utcp/stack.hpp"
#include "wire/checksum.hpp"
#include "wire/endian.hpp"

namespace utcp {
namespace {

using test::counter;

// Inserts 4 NOP option bytes after the TCP base header of every fourth bulk segment (IPv4
// without options assumed), fixing lengths and both checksums: the header length placement
// predicted is then wrong now and then.
struct EveryFourthBulkSegmentPadded {
  void operator()(dev::PacketSlot& slot) {
    if (slot.len <= 16 * 1024 || (*seen)++ % 4 != 3) return;
    uint8_t* p = slot.buf.data();
    const size_t tcp_len = slot.len - 20, hdr = size_t{p[32]} / 16 * 4;
    if (slot.len + 4 > slot.buf.size() || hdr + 4 > 60) return;
    std::memmove(p + 20 + 24, p + 20 + 20, tcp_len - 20);
    std::memset(p + 40, 1, 4);
    slot.len += 4;
    p[32] = static_cast<uint8_t>((hdr + 4) / 4 << 4 | (p[32] & 0x0f));
    wire::store_be16(p + 2, static_cast<uint16_t>(slot.len));
    wire::store_be16(p + 10, 0);
    wire::store_be16(p + 10, wire::internet_checksum({p, 20}));
    wire::store_be16(p + 36, 0);
    const auto sum = wire::ipv4_pseudo_header(wire::load_be32(p + 12), wire::load_be32(p + 16), 6,
                                              static_cast<uint16_t>(slot.len - 20));
    wire::store_be16(p + 36, wire::Checksum(sum).add({p + 20, slot.len - 20}).finish());
    ++*padded;
  }
  size_t* seen;
  size_t* padded;
};

// The MSS follows the link's MTU: the Stack takes it from the device.
StackConfig config_for(Ipv4Addr addr, uint8_t seed) {
  StackConfig c;
  c.address = addr;
  c.address6 = Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, seed);  // distinct per stack
  for (size_t i = 0; i < c.secret.size(); ++i) c.secret[i] = static_cast<uint8_t>(seed + i);
  return c;
}

std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed;
  for (auto& b : v) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<uint8_t>(x >> 24);
  }
  return v;
}

// A sends each buffer in `data` over its own connection to B (port 5001), all at once; B reads
// them in chunks of `read_chunk`, at most `reads_per_round` per connection and round (0: all
// there is). Returns what B received per connection.
std::vector<std::vector<uint8_t>> transfer(Stack& a, Stack& b,
                                           const std::vector<std::vector<uint8_t>>& data,
                                           size_t read_chunk, int reads_per_round = 0,
                                           bool ipv6 = false) {
  std::error_code ec;
  Instant now = instant_from_us(1'000'000);
  SocketId l = b.listen(5001, ec);
  std::vector<SocketId> out, in;
  const IpAddr to = ipv6 ? IpAddr(b.config().address6) : IpAddr(b.config().address);
  for (size_t i = 0; i < data.size(); ++i) out.push_back(a.connect(to, 5001, ec));
  for (int i = 0; i < 100000 && in.size() < data.size(); ++i) {
    now += Duration(5);
    a.process(now);
    b.process(now);
    for (SocketId s; (s = b.accept(l, ec)) != kNoSocket;) in.push_back(s);
  }
  EXPECT_EQ(in.size(), data.size());
  // Accept order need not be connect order: match by the first bytes received instead.
  std::vector<std::vector<uint8_t>> got(data.size());
  std::vector<size_t> sent(data.size(), 0);
  std::vector<uint8_t> buf(read_chunk);
  size_t total = 0, want = 0;
  for (const auto& d : data) want += d.size();
  for (int round = 0; round < 2'000'000 && total < want; ++round) {
    now += Duration(5);
    for (size_t i = 0; i < data.size(); ++i) {
      if (sent[i] < data[i].size()) {
        sent[i] += a.send(out[i], std::span(data[i]).subspan(sent[i]), ec);
      }
    }
    a.process(now);
    b.process(now);
    for (size_t i = 0; i < in.size(); ++i) {
      for (int r = 0; reads_per_round == 0 || r < reads_per_round; ++r) {
        const size_t n = b.recv(in[i], buf, ec);
        if (n == 0) break;
        got[i].insert(got[i].end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        total += n;
      }
    }
    b.process(now);
  }
  return got;
}

// A (10.77.0.2) and B (10.77.0.1, behind a ScatterDevice) over a memory link of `mtu`.
struct ScatteredPair {
  explicit ScatteredPair(size_t mtu)
      : link(dev::MemoryLinkConfig{.mtu = mtu, .queue_packets = 256}),
        scatter(link.b()),
        a(link.a(), config_for(Ipv4Addr(10, 77, 0, 2), 1)),
        b(scatter, config_for(Ipv4Addr(10, 77, 0, 1), 101)) {}
  dev::MemoryLink link;
  test_support::ScatterDevice scatter;
  Stack a;
  Stack b;
};

// The same streams in any order. (is_permutation rather than sorting both: g++ 12 -O3 reports
// a false -Wstringop-overread in the sort's vector<uint8_t> comparisons.)
bool same_streams(const std::vector<std::vector<uint8_t>>& got,
                  const std::vector<std::vector<uint8_t>>& want) {
  return std::is_permutation(got.begin(), got.end(), want.begin(), want.end());
}

TEST(DirectPlacement, BulkSegmentsArePlacedAndArriveExactly) {
  ScatteredPair net(65535);
  const std::vector<std::vector<uint8_t>> data{pattern(8 << 20, 7)};
  // One odd-sized read per round: unread bytes stay in the buffer (the headers overwrite and
  // must restore some of them), and the write position moves through every alignment and
  // past the end of the ring (where placement must give up or fall back).
  const auto got = transfer(net.a, net.b, data, 100'003, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].size(), data[0].size());
  EXPECT_TRUE(got[0] == data[0]) << "bytes differ";
  EXPECT_GT(counter(net.b, "dev.rx-placed"), 50u);
  EXPECT_GT(net.scatter.scattered, 0u);
}

// The same over IPv6: the 40-byte header fills the headroom, the payload lands in the ring.
TEST(DirectPlacement, Ipv6BulkSegmentsArePlacedAndArriveExactly) {
  ScatteredPair net(65535);
  const std::vector<std::vector<uint8_t>> data{pattern(8 << 20, 9)};
  const auto got = transfer(net.a, net.b, data, 100'003, 1, /*ipv6=*/true);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].size(), data[0].size());
  EXPECT_TRUE(got[0] == data[0]) << "bytes differ";
  EXPECT_GT(counter(net.b, "dev.rx-placed"), 50u);
  EXPECT_GT(counter(net.b, "ip6.in"), 50u);
}

TEST(DirectPlacement, InterleavedConnectionsFallBackAndStayExact) {
  // Three bulk streams at once: the next packet is often another connection's, so placement
  // guesses wrong and the packet is gathered back into the slot.
  ScatteredPair net(65535);
  const std::vector<std::vector<uint8_t>> data{pattern(3 << 20, 1), pattern(3 << 20, 2),
                                               pattern(3 << 20, 3)};
  const auto got = transfer(net.a, net.b, data, 65536);
  EXPECT_TRUE(same_streams(got, data)) << "bytes differ";
  EXPECT_GT(counter(net.b, "dev.rx-place-missed"), 0u);
  EXPECT_GT(counter(net.b, "dev.rx-placed"), 0u);
}

TEST(DirectPlacement, HeaderLengthChangesMidStreamKeepUnreadBytesIntact) {
  // Every fourth bulk segment arrives with 4 more header bytes (NOP options), so the predicted
  // header length is wrong now and then and changes while a read is placed; the bytes under
  // the headroom are unread data (one read per round) and must all come back.
  ScatteredPair net(60000);
  size_t bulk_seen = 0, padded = 0;
  net.scatter.on_packet = EveryFourthBulkSegmentPadded{&bulk_seen, &padded};  // before traffic
  const std::vector<std::vector<uint8_t>> data{pattern(6 << 20, 21)};
  const auto got = transfer(net.a, net.b, data, 70'001, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].size(), data[0].size());
  EXPECT_TRUE(got[0] == data[0]) << "bytes differ";
  EXPECT_GT(padded, 10u);
  EXPECT_GT(counter(net.b, "dev.rx-placed"), 10u);
  EXPECT_GT(counter(net.b, "dev.rx-place-missed"), 10u);
  EXPECT_EQ(counter(net.b, "tcp.drop.bad-checksum"), 0u);
}

TEST(DirectPlacement, LargerSegmentThanPredictedGrowsTheRingAndKeepsUnreadBytesIntact) {
  // Segment sizes alternate (as GSO frames from the kernel do), so a segment is often larger
  // than the room placement offered: it spills into the slot, is gathered back and, stored the
  // usual way, grows the still small ring. The headroom must be put back before that, into the
  // ring it belongs to, while unread bytes sit under it (B reads slowly).
  ScatteredPair net(65535);
  std::error_code ec;
  Instant now = instant_from_us(1'000'000);
  SocketId l = net.b.listen(5001, ec);
  SocketId out = net.a.connect(net.b.config().address, 5001, ec);
  net.a.set_nodelay(out, true);
  SocketId in = kNoSocket;
  for (int i = 0; i < 100000 && in == kNoSocket; ++i) {
    now += Duration(5);
    net.a.process(now);
    net.b.process(now);
    in = net.b.accept(l, ec);
  }
  ASSERT_NE(in, kNoSocket);
  const std::vector<uint8_t> data = pattern(3 << 20, 41);
  std::vector<uint8_t> got, buf(9'001);
  const size_t sizes[] = {17'000, 60'000, 23'000, 65'000, 40'000};
  size_t sent = 0;
  for (int round = 0; round < 2'000'000 && got.size() < data.size(); ++round) {
    now += Duration(5);
    if (sent < data.size()) {
      const size_t want = std::min(sizes[round % 5], data.size() - sent);
      sent += net.a.send(out, std::span(data).subspan(sent, want), ec);
    }
    net.a.process(now);
    net.b.process(now);
    const size_t n = net.b.recv(in, buf, ec);
    got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data) << "bytes differ";
  EXPECT_GT(counter(net.b, "dev.rx-placed"), 0u);
  EXPECT_GT(counter(net.b, "dev.rx-place-missed"), 0u);
}

TEST(DirectPlacement, NotUsedForSmallSegmentsOrDevicesWithoutScatter) {
  {
    // MTU 1500: segments far below the placement threshold.
    ScatteredPair net(1500);
    const std::vector<std::vector<uint8_t>> data{pattern(1 << 20, 9)};
    EXPECT_TRUE(same_streams(transfer(net.a, net.b, data, 65536), data));
    EXPECT_EQ(counter(net.b, "dev.rx-placed"), 0u);
    EXPECT_EQ(net.scatter.scattered, 0u);
  }
  {
    // The plain memory link cannot scatter: the stack never asks it to.
    dev::MemoryLink link(dev::MemoryLinkConfig{.mtu = 65535, .queue_packets = 256});
    Stack a(link.a(), config_for(Ipv4Addr(10, 77, 0, 2), 1));
    Stack b(link.b(), config_for(Ipv4Addr(10, 77, 0, 1), 101));
    const std::vector<std::vector<uint8_t>> data{pattern(2 << 20, 11)};
    EXPECT_TRUE(same_streams(transfer(a, b, data, 65536), data));
    EXPECT_EQ(counter(b, "dev.rx-placed") + counter(b, "dev.rx-place-missed"), 0u);
  }
}

}  // namespace
}  // namespace utcp
