// SPDX-License-Identifier: BSD-2-Clause
// CVE-2016-5696 (RFC 5961 §7): with only a stack-wide challenge-ACK budget, an off-path attacker
// learns whether its spoofed RSTs fell in another connection's window by counting the challenge
// ACKs its own connection gets at the same time. With a per-connection budget beside it, the
// count is the same either way. Two stacks on virtual time: A holds an "attacker" and a
// "victim" connection to a server on B; spoofed RSTs are injected into B.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <vector>

#include "support/sim_net.hpp"
#include "support/tcp_tap_device.hpp"
#include "utcp/memory_link.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace utcp::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// B's device: counts the pure ACKs B sends to each remote port and remembers the latest ACK
// number (B's RCV.NXT) for each.
class AckTap : public TcpTapDevice {
 public:
  using TcpTapDevice::TcpTapDevice;
  std::map<uint16_t, uint64_t> pure_acks;
  std::map<uint16_t, uint32_t> rcv_nxt;

 private:
  void on_tcp(const wire::TcpPacket& tcp) override {
    if (!(tcp.flags() & wire::tcp_flag::kAck)) return;
    rcv_nxt[tcp.dst_port()] = tcp.ack().raw();
    if (tcp.flags() == wire::tcp_flag::kAck && tcp.payload().empty()) ++pure_acks[tcp.dst_port()];
  }
};

struct Net {
  explicit Net(const SimNetConfig& c) : cfg(c), tb(link.b()), sa(link.a(), cfg.a), sb(tb, cfg.b) {}
  SimNetConfig cfg;
  dev::MemoryLink link;
  AckTap tb;
  Stack sa, sb;
  Instant now{};
  Stack& a() { return sa; }
  Stack& b() { return sb; }
  template <class Pred>
  bool run_until(Pred pred, Duration budget) {
    return run_pair_until(sa, sb, now, pred, budget);
  }
};

// A RST from A's address and `sport` to B's port 80, as an off-path attacker forges it.
std::vector<uint8_t> rst(Net& net, uint16_t sport, uint32_t seq) {
  wire::TcpRepr t;
  t.src_port = sport;
  t.dst_port = 80;
  t.seq = wire::SeqNum(seq);
  t.flags = wire::tcp_flag::kRst;
  std::vector<uint8_t> out(wire::kIpv4HeaderMin + t.total_len());
  wire::Ipv4Repr ip;
  ip.src = net.a().config().address;
  ip.dst = net.b().config().address;
  ip.protocol = wire::ip_proto::kTcp;
  ip.payload_len = static_cast<uint16_t>(t.total_len());
  EXPECT_GT(ip.emit(out), 0u);
  EXPECT_GT(t.emit(std::span(out).subspan(wire::kIpv4HeaderMin), ip.src, ip.dst), 0u);
  return out;
}

struct Observed {
  uint64_t attacker = 0;  // challenge ACKs on the attacker's own connection
  uint64_t victim = 0;    // challenge ACKs the spoofed RSTs drew from the victim's
};

// For 10 s, every 10 ms: 10 in-window RSTs at the attacker's own connection and 10 spoofed RSTs
// at the victim's, in its window (`hit`) or far outside it. 1,000 per second each, as much as
// the whole stack-wide budget.
Observed attack(bool hit, uint32_t per_connection) {
  SimNetConfig cfg;
  cfg.b.challenge_acks_per_connection = per_connection;
  Net net(cfg);
  std::error_code ec;
  const SocketId l = net.b().listen(80, ec);
  EXPECT_FALSE(ec);
  const SocketId attacker = net.a().connect(net.b().config().address, 80, ec);
  const SocketId victim = net.a().connect(net.b().config().address, 80, ec);
  int accepted = 0;
  EXPECT_TRUE(net.run_until(
      [&] {
        while (net.b().accept(l, ec) != kNoSocket) ++accepted;
        return accepted == 2;
      },
      seconds(5)));
  net.run_until([] { return false; }, seconds(1));  // let the handshakes' ACKs settle
  const uint16_t pa = net.a().local_endpoint(attacker).port;
  const uint16_t pv = net.a().local_endpoint(victim).port;
  const uint64_t before_a = net.tb.pure_acks[pa], before_v = net.tb.pure_acks[pv];
  const uint32_t rcv_a = net.tb.rcv_nxt.at(pa), rcv_v = net.tb.rcv_nxt.at(pv);
  for (int tick = 0; tick < 1000; ++tick) {
    for (int i = 0; i < 10; ++i) {
      // In the window but not at RCV.NXT: a challenge ACK, never a reset (RFC 5961 §3.2).
      net.link.a().transmit_one(rst(net, pa, rcv_a + 1000 + i), net.now);
      net.link.a().transmit_one(rst(net, pv, hit ? rcv_v + 1000 + i : rcv_v + 0x80000000u + i),
                                net.now);
    }
    net.run_until([] { return false; }, milliseconds(10));
  }
  EXPECT_EQ(net.b().connection_count(), 2u);  // nothing was reset
  return {net.tb.pure_acks[pa] - before_a, net.tb.pure_acks[pv] - before_v};
}

TEST(ChallengeAckSideChannel, AttackersOwnCountDoesNotTellHitFromMiss) {
  const Observed hit = attack(true, 2), miss = attack(false, 2);
  std::printf("per connection 2/s: attacker sees %llu (hit) vs %llu (miss)\n",
              static_cast<unsigned long long>(hit.attacker),
              static_cast<unsigned long long>(miss.attacker));
  EXPECT_GT(hit.victim, 0u);   // the spoofed RSTs did land in the victim's window
  EXPECT_EQ(miss.victim, 0u);  // and missed it
  EXPECT_EQ(hit.attacker, miss.attacker);
  // 10 s at 2 per second, plus the first second's burst of 2.
  EXPECT_GE(hit.attacker, 20u);
  EXPECT_LE(hit.attacker, 22u);
}

// The same measurement without the per-connection budget shows the leak the test above closes,
// so that test can fail: the victim's challenge ACKs come out of the attacker's share.
TEST(ChallengeAckSideChannel, WithOnlyTheStackWideBudgetTheCountLeaks) {
  const Observed hit = attack(true, 0), miss = attack(false, 0);
  std::printf("stack-wide only: attacker sees %llu (hit) vs %llu (miss)\n",
              static_cast<unsigned long long>(hit.attacker),
              static_cast<unsigned long long>(miss.attacker));
  EXPECT_LT(hit.attacker * 10, miss.attacker * 8);  // at least 20 % fewer when the RSTs hit
}

}  // namespace
}  // namespace utcp::test
