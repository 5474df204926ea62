// SPDX-License-Identifier: BSD-2-Clause
// A blind "fragmentation needed" during a transfer (RFC 5927 §4.1, §7.2; RFC 9293 §3.9.2.2):
// with a sequence number outside the flight it changes nothing and is counted; with one inside
// and an MTU of 68 it lowers the segment size only to the TCP floor (552 - 40). Two stacks on
// virtual time, the ICMP injected into A's side of the link as a router would send it.
#include <gtest/gtest.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "stack/icmp_errors.hpp"
#include "support/counters.hpp"
#include "support/sim_net.hpp"
#include "support/tcp_tap_device.hpp"
#include "utcp/memory_link.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace utcp::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Passes A's packets to the link, remembering where the last data segment ended (SND.MAX, in
// the flight until B's ACK for it is processed) and the largest payload since reset_largest().
class SeqRecorder : public TcpTapDevice {
 public:
  using TcpTapDevice::TcpTapDevice;
  uint32_t last_data_end = 0;
  size_t largest = 0;
  void reset_largest() { largest = 0; }

 private:
  void on_tcp(const wire::TcpPacket& tcp) override {
    if (tcp.payload().empty()) return;
    last_data_end = tcp.seq().raw() + static_cast<uint32_t>(tcp.payload().size());
    largest = std::max(largest, tcp.payload().size());
  }
};

struct Net {
  Net() : ra(link.a()), sa(ra, cfg.a), sb(link.b(), cfg.b) {}
  SimNetConfig cfg;
  dev::MemoryLink link;
  SeqRecorder ra;
  Stack sa, sb;
  Instant now{};
  Stack& a() { return sa; }
  Stack& b() { return sb; }
  template <class Pred>
  bool run_until(Pred pred, Duration budget) {
    return run_pair_until(sa, sb, now, pred, budget);
  }
};

// ICMP "fragmentation needed" (RFC 1191) from a router at 10.77.0.254 to A, quoting a segment
// A -> B with the given ports and sequence number.
std::vector<uint8_t> frag_needed(Net& net, uint16_t mtu, uint16_t sport, uint16_t dport,
                                 uint32_t seq) {
  wire::TcpRepr t;
  t.src_port = sport;
  t.dst_port = dport;
  t.seq = wire::SeqNum(seq);
  t.flags = wire::tcp_flag::kAck;
  std::vector<uint8_t> quoted(wire::kIpv4HeaderMin + t.total_len());
  wire::Ipv4Repr qip;
  qip.src = net.a().config().address;
  qip.dst = net.b().config().address;
  qip.protocol = wire::ip_proto::kTcp;
  qip.payload_len = static_cast<uint16_t>(t.total_len());
  EXPECT_GT(qip.emit(quoted), 0u);
  EXPECT_GT(t.emit(std::span(quoted).subspan(wire::kIpv4HeaderMin), qip.src, qip.dst), 0u);
  const wire::IcmpRepr icmp = wire::IcmpRepr::dest_unreachable(
      wire::icmp_unreach::kFragmentationNeeded, mtu, std::span(quoted).first(28));
  std::vector<uint8_t> out(wire::kIpv4HeaderMin + icmp.total_len());
  wire::Ipv4Repr ip;
  ip.src = wire::Ipv4Addr(10, 77, 0, 254);
  ip.dst = net.a().config().address;
  ip.protocol = wire::ip_proto::kIcmp;
  ip.payload_len = static_cast<uint16_t>(icmp.total_len());
  EXPECT_GT(ip.emit(out), 0u);
  EXPECT_GT(icmp.emit(std::span(out).subspan(wire::kIpv4HeaderMin)), 0u);
  return out;
}

// Moves `total` bytes A -> B, injecting `forge(SND.MAX of A)` once half is through; B must
// receive exactly what was sent.
template <class Forge>
void transfer_with_icmp(Net& net, SimPair p, size_t total, Forge forge) {
  std::vector<uint8_t> data(total);
  for (size_t i = 0; i < total; ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
  std::vector<uint8_t> got;
  size_t sent = 0;
  bool injected = false;
  std::error_code ec;
  ASSERT_TRUE(net.run_until(
      [&] {
        if (sent < total) sent += net.a().send(p.client, std::span(data).subspan(sent), ec);
        uint8_t buf[65536];
        for (size_t n; (n = net.b().recv(p.server, buf, ec)) > 0;)
          got.insert(got.end(), buf, buf + n);
        if (!injected && got.size() >= total / 2) {
          injected = true;
          net.link.b().transmit_one(forge(net.ra.last_data_end), net.now);
          net.a().process(net.now);
          net.ra.reset_largest();
        }
        return got.size() == total;
      },
      seconds(60)));
  EXPECT_TRUE(injected);
  EXPECT_TRUE(got == data);
}

TEST(IcmpForgery, FragNeededWithASequenceOutsideTheFlightLeavesTheMssUnchanged) {
  Net net;
  const SimPair p = establish(net, 80, seconds(5));
  ASSERT_NE(p.server, kNoSocket);
  const uint32_t mss = net.a().tcp_info(p.client)->snd_mss;
  ASSERT_GT(mss, 1400u);
  const uint16_t sport = net.a().local_endpoint(p.client).port;
  transfer_with_icmp(net, p, 400'000, [&](uint32_t seq) {
    // An attacker who knows the 4-tuple but not the flight: far from anything sent.
    return frag_needed(net, 68, sport, 80, seq + 0x40000000u);
  });
  EXPECT_EQ(net.a().tcp_info(p.client)->snd_mss, mss);
  EXPECT_EQ(net.ra.largest, mss);  // full-sized segments went on after the forgery
  EXPECT_EQ(counter(net.a(), "icmp.drop.error-seq-not-in-flight"), 1u);
  EXPECT_EQ(counter(net.a(), "icmp.error-to-connection"), 0u);
}

TEST(IcmpForgery, FragNeededInTheFlightWithMtu68GoesOnlyDownToTheFloor) {
  Net net;
  const SimPair p = establish(net, 80, seconds(5));
  ASSERT_NE(p.server, kNoSocket);
  const uint16_t sport = net.a().local_endpoint(p.client).port;
  const bool ts = net.a().tcp_info(p.client)->ts_enabled;
  transfer_with_icmp(net, p, 400'000,
                     [&](uint32_t seq) { return frag_needed(net, 68, sport, 80, seq); });
  // 552 - 20 (IPv4) - 20 (TCP), less the 12 bytes of timestamps when they are on.
  const uint32_t floor_mss = stack::kTcpMinPathMtu - 40u - (ts ? 12u : 0u);
  EXPECT_EQ(net.a().tcp_info(p.client)->snd_mss, floor_mss);
  EXPECT_EQ(net.ra.largest, floor_mss);
  EXPECT_EQ(counter(net.a(), "icmp.drop.error-seq-not-in-flight"), 0u);
  EXPECT_EQ(counter(net.a(), "icmp.error-to-connection"), 1u);
}

}  // namespace
}  // namespace utcp::test
