// SPDX-License-Identifier: BSD-2-Clause
// The engine's MSS over IPv6 (RFC 9293 §3.7.1 with RFC 8200's 40-byte header): it announces
// MTU - 60, sends segments of at most MTU - 60 less options, and assumes 1220 when the peer's
// SYN has no MSS option (MUST-15); over IPv4 the same connection would use MTU - 40 and 536.
#include <gtest/gtest.h>

#include <array>

#include "tcp/connection.hpp"
#include "wire/tcp.hpp"

namespace utcp::tcp {
namespace {

const Ipv6Addr kLocal(0xfd77, 0, 0, 0, 0, 0, 0, 2);
const Ipv6Addr kRemote(0xfd77, 0, 0, 0, 0, 0, 0, 1);

Config plain(uint16_t mtu) {
  Config c;
  c.path_mtu = mtu;
  c.timestamps = false;
  c.sack = false;
  c.window_scaling = false;
  return c;
}

// Opens actively towards `remote`, returns the SYN's MSS option, and answers with a SYN-ACK
// carrying `peer_mss` (none when nullopt).
struct ActiveOpen {
  ActiveOpen(const IpAddr& l, const IpAddr& r, uint16_t mtu)
      : conn(Endpoints{l, 40000, r, 80}, plain(mtu)), local(l), remote(r) {}
  std::optional<uint16_t> syn_mss() {
    conn.open_active(now, wire::SeqNum(1000));
    const size_t n = conn.poll_transmit(now, buf);
    auto syn = wire::TcpPacket::parse(std::span(buf).first(n), local, remote);
    EXPECT_TRUE(syn) << "the SYN's checksum must verify over the family's pseudo-header";
    return syn ? syn->repr().options.mss : std::nullopt;
  }
  void syn_ack(std::optional<uint16_t> peer_mss) {
    wire::TcpRepr r;
    r.src_port = 80;
    r.dst_port = 40000;
    r.seq = wire::SeqNum(5000);
    r.ack = wire::SeqNum(1001);
    r.flags = wire::tcp_flag::kSyn | wire::tcp_flag::kAck;
    r.window = 65535;
    r.options.mss = peer_mss;
    conn.on_segment(r, now);
  }
  Connection conn;
  IpAddr local, remote;
  Instant now = instant_from_us(1'000'000);
  std::array<uint8_t, 2048> buf{};
};

TEST(MssIpv6, AnnouncesMtuMinus60AndSendsAtMostThat) {
  ActiveOpen o(kLocal, kRemote, 1500);
  EXPECT_EQ(o.syn_mss(), 1440);
  o.syn_ack(9000);
  EXPECT_EQ(o.conn.effective_mss(), 1440u);
  ActiveOpen v4(Ipv4Addr(10, 77, 0, 2), Ipv4Addr(10, 77, 0, 1), 1500);
  EXPECT_EQ(v4.syn_mss(), 1460);
  v4.syn_ack(9000);
  EXPECT_EQ(v4.conn.effective_mss(), 1460u);
}

TEST(MssIpv6, PeerWithoutMssOptionMeans1220OverIpv6) {
  ActiveOpen o(kLocal, kRemote, 1500);
  o.syn_mss();
  o.syn_ack(std::nullopt);
  EXPECT_EQ(o.conn.effective_mss(), 1220u);
  ActiveOpen v4(Ipv4Addr(10, 77, 0, 2), Ipv4Addr(10, 77, 0, 1), 1500);
  v4.syn_mss();
  v4.syn_ack(std::nullopt);
  EXPECT_EQ(v4.conn.effective_mss(), 536u);
}

TEST(MssIpv6, PathMtuOf1280GivesMss1220) {
  ActiveOpen o(kLocal, kRemote, 1500);
  o.syn_mss();
  o.syn_ack(1440);
  o.conn.set_path_mtu(1280);
  EXPECT_EQ(o.conn.effective_mss(), 1220u);
}

}  // namespace
}  // namespace utcp::tcp
