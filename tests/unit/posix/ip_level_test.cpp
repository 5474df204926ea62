// SPDX-License-Identifier: BSD-2-Clause
// The POSIX facade's IP-level parts of an OPEN, with Linux semantics: bind()'s address used
// by connect() (RFC 9293 §3.9.1.1, MUST-43), IP_TOS (§3.9.1.9, MUST-48/SHLD-21), and SO_ERROR
// reporting a soft error (§3.9.2.2, SHLD-25) as Linux's sk_err_soft.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/ip.h>

#include <cerrno>
#include <vector>

#include "support/sim_net.hpp"
#include "utcp/posix.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace utcp::posix {
namespace {

using std::chrono::milliseconds;

sockaddr_in addr(wire::Ipv4Addr a, uint16_t port) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  in.sin_addr.s_addr = htonl(a.value);
  return in;
}

const sockaddr* sa(const sockaddr_in& in) {
  return reinterpret_cast<const sockaddr*>(&in);
}

class IpLevelTest : public ::testing::Test {
 protected:
  test::SimNet net;
  Sockets a{net.a()};
  Sockets b{net.b()};

  void settle() { net.advance(milliseconds(50)); }

  int listener(uint16_t port) {
    const int l = b.socket(AF_INET, SOCK_STREAM, 0);
    const sockaddr_in any = addr(wire::Ipv4Addr(), port);
    EXPECT_EQ(b.bind(l, sa(any), sizeof any), 0);
    EXPECT_EQ(b.listen(l, 4), 0);
    return l;
  }
  int get_tos(Sockets& s, int fd) {
    int v = -1;
    socklen_t len = sizeof v;
    EXPECT_EQ(s.getsockopt(fd, IPPROTO_IP, IP_TOS, &v, &len), 0);
    EXPECT_EQ(len, sizeof v);
    return v;
  }
};

TEST_F(IpLevelTest, ConnectUsesTheBoundAddressAndPort) {
  const int l = listener(80);
  const int c = a.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in mine = addr(net.a().config().address, 40123);
  ASSERT_EQ(a.bind(c, sa(mine), sizeof mine), 0);
  const sockaddr_in to = addr(net.b().config().address, 80);
  EXPECT_EQ(a.connect(c, sa(to), sizeof to), -1);
  EXPECT_EQ(errno, EINPROGRESS);
  settle();
  const Endpoint local = net.a().local_endpoint(a.socket_id(c));
  EXPECT_EQ(local.addr, net.a().config().address);
  EXPECT_EQ(local.port, 40123);
  sockaddr_in peer{};
  socklen_t len = sizeof peer;
  ASSERT_GE(b.accept(l, reinterpret_cast<sockaddr*>(&peer), &len), 0);
  EXPECT_EQ(ntohs(peer.sin_port), 40123);
  // A foreign local address is refused at bind(), as on Linux, so connect() never sees one.
  const int d = a.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in foreign = addr(wire::Ipv4Addr(10, 77, 0, 99), 0);
  EXPECT_EQ(a.bind(d, sa(foreign), sizeof foreign), -1);
  EXPECT_EQ(errno, EADDRNOTAVAIL);
}

TEST_F(IpLevelTest, IpTosHasLinuxSemantics) {
  const int fd = a.socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(get_tos(a, fd), 0);
  int v = IPTOS_DSCP_EF | 0x03;  // the ECN bits are ignored on a TCP socket
  ASSERT_EQ(a.setsockopt(fd, IPPROTO_IP, IP_TOS, &v, sizeof v), 0);
  EXPECT_EQ(get_tos(a, fd), IPTOS_DSCP_EF);
  const uint8_t one = IPTOS_DSCP_AF11;  // a single byte is accepted too
  ASSERT_EQ(a.setsockopt(fd, IPPROTO_IP, IP_TOS, &one, 1), 0);
  EXPECT_EQ(get_tos(a, fd), IPTOS_DSCP_AF11);
  EXPECT_EQ(a.setsockopt(fd, IPPROTO_IP, IP_TOS, &v, 0), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(a.setsockopt(fd, IPPROTO_IP, IP_TTL, &v, sizeof v), -1);
  EXPECT_EQ(errno, ENOPROTOOPT);
}

// Set before connect() it is the connection's from the SYN on; changed later the connection
// follows; a listener's is inherited by what accept() returns.
TEST_F(IpLevelTest, IpTosReachesTheConnectionAndIsInheritedFromTheListener) {
  const int l = listener(80);
  int v = IPTOS_DSCP_AF41;
  ASSERT_EQ(b.setsockopt(l, IPPROTO_IP, IP_TOS, &v, sizeof v), 0);
  EXPECT_EQ(net.b().tos(b.socket_id(l)), IPTOS_DSCP_AF41);
  const int c = a.socket(AF_INET, SOCK_STREAM, 0);
  v = IPTOS_DSCP_EF;
  ASSERT_EQ(a.setsockopt(c, IPPROTO_IP, IP_TOS, &v, sizeof v), 0);
  const sockaddr_in to = addr(net.b().config().address, 80);
  EXPECT_EQ(a.connect(c, sa(to), sizeof to), -1);
  EXPECT_EQ(net.a().tos(a.socket_id(c)), IPTOS_DSCP_EF);
  settle();
  const int s = b.accept(l, nullptr, nullptr);
  ASSERT_GE(s, 0);
  EXPECT_EQ(get_tos(b, s), IPTOS_DSCP_AF41);
  EXPECT_EQ(net.b().tos(b.socket_id(s)), IPTOS_DSCP_AF41);
  v = (8 << 2);
  ASSERT_EQ(a.setsockopt(c, IPPROTO_IP, IP_TOS, &v, sizeof v), 0);
  EXPECT_EQ(net.a().tos(a.socket_id(c)), (8 << 2));
  EXPECT_EQ(get_tos(a, c), (8 << 2));
}

// Linux's SO_ERROR: with no hard error, the pending soft error, cleared by reading it; the
// connection goes on.
TEST_F(IpLevelTest, SoErrorReportsASoftIcmpErrorOnce) {
  const int l = listener(80);
  const int c = a.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in to = addr(net.b().config().address, 80);
  a.connect(c, sa(to), sizeof to);
  // The ICMP must quote a sequence number in flight (RFC 5927 §4.1): read A's SYN off the link
  // for its ISN, then hand it on to B.
  net.a().process(net.now());
  std::vector<uint8_t> syn(2048);
  dev::PacketSlot slot;
  slot.buf = syn;
  ASSERT_EQ(net.link().b().receive(std::span(&slot, 1), net.now()), 1u);
  auto syn_ip = wire::Ipv4Packet::parse(slot.data());
  ASSERT_TRUE(syn_ip.ok());
  auto syn_tcp = wire::TcpPacket::parse(syn_ip->payload(), syn_ip->src(), syn_ip->dst());
  ASSERT_TRUE(syn_tcp.ok());
  const wire::SeqNum snd_nxt = syn_tcp->seq() + 1;
  net.b().input(slot.data(), net.now());
  settle();
  const int s = b.accept(l, nullptr, nullptr);
  ASSERT_GE(s, 0);
  int err = -1;
  socklen_t len = sizeof err;
  ASSERT_EQ(a.getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len), 0);
  EXPECT_EQ(err, 0);
  // A router says the host is unreachable, quoting the connection's 4-tuple.
  wire::TcpRepr quoted_tcp;
  quoted_tcp.src_port = net.a().local_endpoint(a.socket_id(c)).port;
  quoted_tcp.dst_port = 80;
  quoted_tcp.seq = snd_nxt;
  std::vector<uint8_t> quoted(wire::kIpv4HeaderMin + quoted_tcp.header_len());
  wire::Ipv4Repr qip;
  qip.src = net.a().config().address;
  qip.dst = net.b().config().address;
  qip.protocol = wire::ip_proto::kTcp;
  qip.payload_len = static_cast<uint16_t>(quoted_tcp.header_len());
  ASSERT_GT(qip.emit(quoted), 0u);
  ASSERT_GT(quoted_tcp.emit(std::span(quoted).subspan(wire::kIpv4HeaderMin), qip.src, qip.dst), 0u);
  const wire::IcmpRepr icmp =
      wire::IcmpRepr::dest_unreachable(1, 0, std::span(quoted).first(wire::kIpv4HeaderMin + 8));
  std::vector<uint8_t> packet(wire::kIpv4HeaderMin + icmp.total_len());
  wire::Ipv4Repr ip;
  ip.src = wire::Ipv4Addr(10, 77, 0, 254);
  ip.dst = net.a().config().address;
  ip.protocol = wire::ip_proto::kIcmp;
  ip.payload_len = static_cast<uint16_t>(icmp.total_len());
  ASSERT_GT(ip.emit(packet), 0u);
  ASSERT_GT(icmp.emit(std::span(packet).subspan(wire::kIpv4HeaderMin)), 0u);
  net.link().b().transmit_one(packet, net.now());
  settle();
  len = sizeof err;
  ASSERT_EQ(a.getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len), 0);
  EXPECT_EQ(err, EHOSTUNREACH);
  len = sizeof err;
  ASSERT_EQ(a.getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len), 0);
  EXPECT_EQ(err, 0);  // read once
  EXPECT_EQ(a.poll_events(c) & (POLLERR | POLLHUP), 0);
  const char msg[] = "still fine";
  EXPECT_EQ(a.write(c, msg, sizeof msg), static_cast<ssize_t>(sizeof msg));
  settle();
  char buf[32];
  EXPECT_EQ(b.read(s, buf, sizeof buf), static_cast<ssize_t>(sizeof msg));
}

}  // namespace
}  // namespace utcp::posix
