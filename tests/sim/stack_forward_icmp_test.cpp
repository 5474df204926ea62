// SPDX-License-Identifier: BSD-2-Clause
// ICMP errors addressed to forwarded addresses (issue 13): the client's host answers what a
// forwarded connection or flow of stack B sent with an error sent to the original
// destination. B takes it as it would for its own address: a UDP flow's next call reports
// port unreachable (RFC 1122 §4.1.3.3), both families; a forwarded TCP connection takes a
// "fragmentation needed" quoting a sequence number in its flight (RFC 1191, RFC 5927 §4.1)
// and lowers its segment size, and ignores (and counts) one outside the flight. Virtual clock,
// fixed secrets (SimNetConfig).
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "support/sim_net.hpp"
#include "support/tcp_tap_device.hpp"
#include "utcp/memory_link.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace utcp::test {
namespace {

uint64_t counter(const Stack& s, std::string_view name) {
  for (auto [n, v] : s.counters()) {
    if (n == name) return v;
  }
  ADD_FAILURE() << "no counter " << name;
  return 0;
}

SimNetConfig forwarding() {
  SimNetConfig c;
  c.b.forward = {*IpPrefix::parse("198.18.0.0/15"), *IpPrefix::parse("2001:db8::/32")};
  c.b.forward_udp = true;
  return c;
}

std::vector<uint8_t> bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

void flow_told_port_unreachable(IpAddr dst) {
  SimNet net(forwarding());
  std::error_code ec;
  const Endpoint to{dst, 53};
  const SocketId a = net.a().udp_connect(to, ec);
  ASSERT_FALSE(ec) << ec.message();
  net.a().send_to(a, bytes("q"), nullptr, ec);
  net.advance(std::chrono::milliseconds(1));
  auto flow = net.b().next_udp_flow();
  ASSERT_TRUE(flow.has_value());
  // The client's socket goes; A's stack answers B's reply with port unreachable, sent to the
  // forwarded address the reply came from.
  net.a().close(a);
  net.b().send_to(flow->socket, bytes("answer"), nullptr, ec);
  ASSERT_FALSE(ec);
  net.advance(std::chrono::milliseconds(1));
  EXPECT_TRUE(net.b().readiness(flow->socket) & ready::kError);
  uint8_t buf[16];
  net.b().recv_from(flow->socket, buf, ec);
  EXPECT_EQ(ec, std::errc::connection_refused);
  EXPECT_EQ(counter(net.b(), "udp.icmp.error-reported"), 1u);
  EXPECT_EQ(counter(net.b(), dst.is_v4() ? "ip.drop.not-for-us" : "ip6.drop.not-for-us"), 0u);
}

TEST(ForwardingIcmp, Ipv4FlowToldPortUnreachable) {
  flow_told_port_unreachable(*IpAddr::parse("198.18.0.53"));
}

TEST(ForwardingIcmp, Ipv6FlowToldPortUnreachable) {
  flow_told_port_unreachable(*IpAddr::parse("2001:db8::53"));
}

// Records where B's last data segment ended (in its flight until A's ACK is processed).
class SeqRecorder : public TcpTapDevice {
 public:
  using TcpTapDevice::TcpTapDevice;
  uint32_t last_data_end = 0;

 private:
  void on_tcp(const wire::TcpPacket& tcp) override {
    if (!tcp.payload().empty()) {
      last_data_end = tcp.seq().raw() + static_cast<uint32_t>(tcp.payload().size());
    }
  }
};

struct Net {
  Net() : rb(link.b()), sa(link.a(), cfg.a), sb(rb, cfg.b) {}
  SimNetConfig cfg = forwarding();
  dev::MemoryLink link;
  SeqRecorder rb;
  Stack sa, sb;
  Instant now{};
  template <class Pred>
  bool run_until(Pred pred, Duration budget) {
    return run_pair_until(sa, sb, now, pred, budget);
  }
};

// "Fragmentation needed" from A's host to the forwarded address `fwd`, quoting a segment
// fwd:80 -> A:aport with sequence number `seq`.
std::vector<uint8_t> frag_needed(const Net& net, Ipv4Addr fwd, uint16_t aport, uint32_t seq,
                                 uint16_t mtu) {
  wire::TcpRepr t;
  t.src_port = 80;
  t.dst_port = aport;
  t.seq = wire::SeqNum(seq);
  t.flags = wire::tcp_flag::kAck;
  std::vector<uint8_t> quoted(wire::kIpv4HeaderMin + t.total_len());
  wire::Ipv4Repr qip;
  qip.src = fwd;
  qip.dst = net.cfg.a.address;
  qip.protocol = wire::ip_proto::kTcp;
  qip.payload_len = static_cast<uint16_t>(t.total_len());
  EXPECT_GT(qip.emit(quoted), 0u);
  EXPECT_GT(t.emit(std::span(quoted).subspan(wire::kIpv4HeaderMin), qip.src, qip.dst), 0u);
  const wire::IcmpRepr icmp = wire::IcmpRepr::dest_unreachable(
      wire::icmp_unreach::kFragmentationNeeded, mtu, std::span(quoted).first(28));
  std::vector<uint8_t> out(wire::kIpv4HeaderMin + icmp.total_len());
  wire::Ipv4Repr ip;
  ip.src = net.cfg.a.address;
  ip.dst = fwd;
  ip.protocol = wire::ip_proto::kIcmp;
  ip.payload_len = static_cast<uint16_t>(icmp.total_len());
  EXPECT_GT(ip.emit(out), 0u);
  EXPECT_GT(icmp.emit(std::span(out).subspan(wire::kIpv4HeaderMin)), 0u);
  return out;
}

// B sends 400 KB to A on a forwarded connection; once A has half, a "fragmentation needed"
// quoting the last byte B sent (in_flight) or a sequence number far from anything sent (an
// attacker who knows the 4-tuple only) reaches B. A must receive exactly what B sent.
void forwarded_transfer_with_icmp(bool in_flight, uint16_t mtu) {
  Net net;
  const Ipv4Addr fwd(198, 18, 0, 80);
  std::error_code ec;
  const SocketId client = net.sa.connect(fwd, 80, ec);
  ASSERT_FALSE(ec);
  std::optional<ConnectionRequest> req;
  ASSERT_TRUE(net.run_until([&] { return (req = net.sb.next_request()).has_value(); },
                            std::chrono::milliseconds(50)));
  const SocketId server = net.sb.accept_request(req->id, ec);
  ASSERT_FALSE(ec);
  ASSERT_TRUE(net.run_until([&] { return net.sa.readiness(client) & ready::kConnected; },
                            std::chrono::seconds(5)));
  const uint32_t mss = net.sb.tcp_info(server)->snd_mss;
  const bool ts = net.sb.tcp_info(server)->ts_enabled;
  const uint16_t aport = net.sa.local_endpoint(client).port;
  const size_t total = 400'000;
  std::vector<uint8_t> data(total);
  for (size_t i = 0; i < total; ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
  std::vector<uint8_t> got;
  size_t sent = 0;
  bool injected = false;
  ASSERT_TRUE(net.run_until(
      [&] {
        if (sent < total) sent += net.sb.send(server, std::span(data).subspan(sent), ec);
        uint8_t buf[65536];
        for (size_t n; (n = net.sa.recv(client, buf, ec)) > 0;) got.insert(got.end(), buf, buf + n);
        if (!injected && got.size() >= total / 2) {
          injected = true;
          const uint32_t seq =
              in_flight ? net.rb.last_data_end - 1 : net.rb.last_data_end + 0x40000000u;
          net.link.a().transmit_one(frag_needed(net, fwd, aport, seq, mtu), net.now);
          net.sb.process(net.now);
        }
        return got.size() == total;
      },
      std::chrono::seconds(60)));
  EXPECT_TRUE(injected);
  EXPECT_TRUE(got == data);
  const uint32_t expected = in_flight ? mtu - 40u - (ts ? 12u : 0u) : mss;
  EXPECT_EQ(net.sb.tcp_info(server)->snd_mss, expected);
  EXPECT_EQ(counter(net.sb, "icmp.error-to-connection"), in_flight ? 1u : 0u);
  EXPECT_EQ(counter(net.sb, "icmp.drop.error-seq-not-in-flight"), in_flight ? 0u : 1u);
  EXPECT_EQ(counter(net.sb, "ip.drop.not-for-us"), 0u);
}

TEST(ForwardingIcmp, FragNeededInTheFlightLowersAForwardedConnectionsMss) {
  forwarded_transfer_with_icmp(true, 1200);
}

TEST(ForwardingIcmp, FragNeededOutsideTheFlightIsCountedAndIgnored) {
  forwarded_transfer_with_icmp(false, 1200);
}

}  // namespace
}  // namespace utcp::test
