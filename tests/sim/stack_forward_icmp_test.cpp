// SPDX-License-Identifier: BSD-2-Clause
// ICMP errors addressed to forwarded addresses (issue 13): the client's host answers what a
// forwarded connection or flow of stack B sent with an error sent to the original
// destination. B takes it as it would for its own address: a UDP flow's next call reports
// port unreachable (RFC 1122 §4.1.3.3); a forwarded TCP connection takes a "fragmentation
// needed" (RFC 1191) or Packet Too Big (RFC 8201) quoting a sequence number in its flight
// (RFC 5927 §4.1) and lowers its segment size, and ignores (and counts) one outside the
// flight. Both families. Virtual clock, fixed secrets (SimNetConfig).
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "support/forward_sim.hpp"
#include "utcp/memory_link.hpp"
#include "wire/icmp.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/tcp.hpp"

namespace utcp::test {
namespace {

void flow_told_port_unreachable(IpAddr dst) {
  SimNet net(forwarding_sim_config(true));
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

// Passes B's packets to the link, recording where its last data segment ended (in its flight
// until A's ACK is processed), either family.
class SeqRecorder : public dev::Device {
 public:
  explicit SeqRecorder(dev::Device& inner) : inner_(inner) {}
  uint32_t last_data_end = 0;

  size_t mtu() const override { return inner_.mtu(); }
  size_t receive(std::span<dev::PacketSlot> slots, Instant now) override {
    return inner_.receive(slots, now);
  }
  size_t transmit(std::span<const std::span<const uint8_t>> packets, Instant now) override {
    for (auto p : packets) {
      record(p);
      inner_.transmit_one(p, now);
    }
    return packets.size();
  }
  Instant next_deadline() const override { return inner_.next_deadline(); }

 private:
  void record(std::span<const uint8_t> p) {
    std::span<const uint8_t> payload;
    IpAddr src, dst;
    if (!p.empty() && p[0] >> 4 == 6) {
      auto ip = wire::Ipv6Packet::parse(p);
      if (!ip.ok() || ip->next_header() != wire::ip_proto::kTcp) return;
      payload = ip->payload();
      src = IpAddr(ip->src());
      dst = IpAddr(ip->dst());
    } else {
      auto ip = wire::Ipv4Packet::parse(p);
      if (!ip.ok() || ip->protocol() != wire::ip_proto::kTcp) return;
      payload = ip->payload();
      src = IpAddr(ip->src());
      dst = IpAddr(ip->dst());
    }
    auto tcp = wire::TcpPacket::parse(payload, src, dst);
    if (tcp.ok() && !tcp->payload().empty()) {
      last_data_end = tcp->seq().raw() + static_cast<uint32_t>(tcp->payload().size());
    }
  }
  dev::Device& inner_;
};

struct Net {
  Net() : rb(link.b()), sa(link.a(), cfg.a), sb(rb, cfg.b) {}
  SimNetConfig cfg = forwarding_sim_config(true);
  dev::MemoryLink link;
  SeqRecorder rb;
  Stack sa, sb;
  Instant now{};
  template <class Pred>
  bool run_until(Pred pred, Duration budget) {
    return run_pair_until(sa, sb, now, pred, budget);
  }
};

// A path MTU error from A's host to the forwarded address `fwd`, quoting a segment
// fwd:80 -> A:aport with sequence number `seq`: "fragmentation needed" (RFC 1191) over IPv4,
// Packet Too Big (RFC 8201) over IPv6.
std::vector<uint8_t> too_big(const Net& net, const IpAddr& fwd, uint16_t aport, uint32_t seq,
                             uint16_t mtu) {
  const bool v6 = fwd.is_v6();
  const IpAddr a = v6 ? IpAddr(net.cfg.a.address6) : IpAddr(net.cfg.a.address);
  const size_t hlen = v6 ? wire::kIpv6HeaderLen : wire::kIpv4HeaderMin;
  wire::TcpRepr t;
  t.src_port = 80;
  t.dst_port = aport;
  t.seq = wire::SeqNum(seq);
  t.flags = wire::tcp_flag::kAck;
  // The IP header and payload of a packet from `src` to `dst`, the payload written by `body`.
  auto packet = [&](const IpAddr& src, const IpAddr& dst, uint8_t proto, size_t len, auto body) {
    std::vector<uint8_t> p(hlen + len);
    if (v6) {
      wire::Ipv6Repr ip{.src = src.v6(), .dst = dst.v6(), .next_header = proto};
      ip.payload_len = static_cast<uint16_t>(len);
      EXPECT_GT(ip.emit(p), 0u);
    } else {
      wire::Ipv4Repr ip{.src = src.v4(), .dst = dst.v4(), .protocol = proto};
      ip.payload_len = static_cast<uint16_t>(len);
      EXPECT_GT(ip.emit(p), 0u);
    }
    EXPECT_GT(body(std::span(p).subspan(hlen)), 0u);
    return p;
  };
  const auto quoted = packet(fwd, a, wire::ip_proto::kTcp, t.total_len(),
                             [&](std::span<uint8_t> b) { return t.emit(b, fwd, a); });
  if (v6) {
    const auto icmp = wire::Icmpv6Repr::packet_too_big(mtu, quoted);
    return packet(a, fwd, wire::ipv6_next::kIcmpv6, icmp.total_len(),
                  [&](std::span<uint8_t> b) { return icmp.emit(b, a.v6(), fwd.v6()); });
  }
  const auto icmp = wire::IcmpRepr::dest_unreachable(wire::icmp_unreach::kFragmentationNeeded, mtu,
                                                     std::span(quoted).first(28));
  return packet(a, fwd, wire::ip_proto::kIcmp, icmp.total_len(),
                [&](std::span<uint8_t> b) { return icmp.emit(b); });
}

// B sends 400 KB to A on a forwarded connection to `fwd`; once A has half, a path MTU error
// quoting the last byte B sent (in_flight) or a sequence number far from anything sent (an
// attacker who knows the 4-tuple only) reaches B. A must receive exactly what B sent.
void forwarded_transfer_with_icmp(const IpAddr& fwd, bool in_flight, uint16_t mtu) {
  Net net;
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
          net.link.a().transmit_one(too_big(net, fwd, aport, seq, mtu), net.now);
          net.sb.process(net.now);
        }
        return got.size() == total;
      },
      std::chrono::seconds(60)));
  EXPECT_TRUE(injected);
  EXPECT_TRUE(got == data);
  const uint32_t headers = fwd.is_v6() ? 60u : 40u;
  const uint32_t expected = in_flight ? mtu - headers - (ts ? 12u : 0u) : mss;
  EXPECT_EQ(net.sb.tcp_info(server)->snd_mss, expected);
  EXPECT_EQ(counter(net.sb, "icmp.error-to-connection"), in_flight ? 1u : 0u);
  EXPECT_EQ(counter(net.sb, "icmp.drop.error-seq-not-in-flight"), in_flight ? 0u : 1u);
  EXPECT_EQ(counter(net.sb, fwd.is_v6() ? "ip6.drop.not-for-us" : "ip.drop.not-for-us"), 0u);
}

const IpAddr kFwd4 = *IpAddr::parse("198.18.0.80");
const IpAddr kFwd6 = *IpAddr::parse("2001:db8::80");

TEST(ForwardingIcmp, FragNeededInTheFlightLowersAForwardedConnectionsMss) {
  forwarded_transfer_with_icmp(kFwd4, true, 1200);
}

TEST(ForwardingIcmp, FragNeededOutsideTheFlightIsCountedAndIgnored) {
  forwarded_transfer_with_icmp(kFwd4, false, 1200);
}

TEST(ForwardingIcmp, PacketTooBigInTheFlightLowersAForwardedConnectionsMss) {
  forwarded_transfer_with_icmp(kFwd6, true, 1280);
}

TEST(ForwardingIcmp, PacketTooBigOutsideTheFlightIsCountedAndIgnored) {
  forwarded_transfer_with_icmp(kFwd6, false, 1280);
}

}  // namespace
}  // namespace utcp::test
