// SPDX-License-Identifier: BSD-2-Clause
// The facade's AF_INET6 SOCK_DGRAM sockets, as Linux's: dual stack unless IPV6_V6ONLY
// (RFC 3493 §5.3), IPv4 senders and peers as ::ffff:a.b.c.d (RFC 3493 §3.7, RFC 4291
// §2.5.5.2), ICMPv6 port unreachable as ECONNREFUSED (RFC 4443 §3.1), the IPv6 size limit.
#include <netinet/in.h>

#include "dgram_fixture.hpp"

namespace utcp::posix {
namespace {

Ipv6Addr addr_of(const sockaddr_in6& s) {
  return Ipv6Addr::from_bytes(s.sin6_addr.s6_addr);
}

TEST_F(DgramTest, DualStackSocketHearsBothFamiliesWithMappedSenders) {
  const int srv = bound(b, AF_INET6, 8000);
  sockaddr_in6 name{};
  socklen_t len = sizeof name;
  ASSERT_EQ(b.getsockname(srv, msa(name), &len), 0);
  EXPECT_EQ(len, sizeof(sockaddr_in6));
  EXPECT_EQ(addr_of(name), Ipv6Addr());  // ::, not 0.0.0.0
  EXPECT_EQ(ntohs(name.sin6_port), 8000);
  const int c4 = bound(a, AF_INET, 8104);
  const int c6 = bound(a, AF_INET6, 8106);
  const sockaddr_in to4 = in4(kDgramB4, 8000);
  const sockaddr_in6 to6 = in6(kDgramB6, 8000);
  ASSERT_EQ(a.sendto(c4, "over-v4", 7, 0, csa(to4), sizeof to4), 7);
  settle();
  ASSERT_EQ(a.sendto(c6, "over-v6", 7, 0, csa(to6), sizeof to6), 7);
  settle();
  for (int i = 0; i < 2; ++i) {
    char buf[16];
    sockaddr_in6 from{};
    len = sizeof from;
    ASSERT_EQ(b.recvfrom(srv, buf, sizeof buf, 0, msa(from), &len), 7);
    EXPECT_EQ(len, sizeof(sockaddr_in6));
    EXPECT_EQ(from.sin6_family, AF_INET6);
    const std::string got(buf, 7);
    if (got == "over-v4") {
      EXPECT_EQ(addr_of(from), IpAddr(kDgramA4).v6());  // ::ffff:10.77.0.2
      EXPECT_EQ(ntohs(from.sin6_port), 8104);
    } else {
      EXPECT_EQ(got, "over-v6");
      EXPECT_EQ(addr_of(from), kDgramA6);
      EXPECT_EQ(ntohs(from.sin6_port), 8106);
    }
    // The answer goes to the address recvfrom gave, mapped or not.
    ASSERT_EQ(b.sendto(srv, buf, 7, 0, csa(from), len), 7);
  }
  settle();
  char back[16];
  sockaddr_in from4{};
  len = sizeof from4;
  ASSERT_EQ(a.recvfrom(c4, back, sizeof back, 0, msa(from4), &len), 7);
  EXPECT_EQ(std::string(back, 7), "over-v4");
  EXPECT_EQ(ntohl(from4.sin_addr.s_addr), kDgramB4.value);
  sockaddr_in6 from6{};
  len = sizeof from6;
  ASSERT_EQ(a.recvfrom(c6, back, sizeof back, 0, msa(from6), &len), 7);
  EXPECT_EQ(std::string(back, 7), "over-v6");
  EXPECT_EQ(addr_of(from6), kDgramB6);
}

TEST_F(DgramTest, V6OnlySocketTakesNoIpv4AndSharesThePortWithAnInetSocket) {
  const int v6 = b.socket(AF_INET6, SOCK_DGRAM, 0);
  const int one = 1;
  ASSERT_EQ(b.setsockopt(v6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
  const sockaddr_in6 any6 = in6(Ipv6Addr(), 8001);
  ASSERT_EQ(b.bind(v6, csa(any6), sizeof any6), 0);
  EXPECT_EQ(b.setsockopt(v6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), -1);
  EXPECT_EQ(errno, EINVAL);  // Linux: not once the socket has a port
  // The IPv4 half of the port is free for an AF_INET socket.
  const int v4 = bound(b, AF_INET, 8001);
  const sockaddr_in6 to_mapped = mapped(kDgramB4, 8001);
  EXPECT_EQ(b.sendto(v6, "x", 1, 0, csa(to_mapped), sizeof to_mapped), -1);
  EXPECT_EQ(errno, ENETUNREACH);
  EXPECT_EQ(b.connect(v6, csa(to_mapped), sizeof to_mapped), -1);
  EXPECT_EQ(errno, ENETUNREACH);
  const sockaddr_in6 mapped_any = mapped(Ipv4Addr(), 8002);
  const int v6b = b.socket(AF_INET6, SOCK_DGRAM, 0);
  ASSERT_EQ(b.setsockopt(v6b, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
  EXPECT_EQ(b.bind(v6b, csa(mapped_any), sizeof mapped_any), -1);
  EXPECT_EQ(errno, EINVAL);
  // A's IPv4 datagram reaches the AF_INET socket; the IPv6 one the IPv6-only socket.
  const int cli = a.socket(AF_INET6, SOCK_DGRAM, 0);
  const sockaddr_in6 b_mapped = mapped(kDgramB4, 8001);
  const sockaddr_in6 b6 = in6(kDgramB6, 8001);
  ASSERT_EQ(a.sendto(cli, "four", 4, 0, csa(b_mapped), sizeof b_mapped), 4);
  ASSERT_EQ(a.sendto(cli, "six", 3, 0, csa(b6), sizeof b6), 3);
  settle();
  char buf[8];
  EXPECT_EQ(b.recv(v4, buf, sizeof buf, 0), 4);
  EXPECT_EQ(std::string(buf, 4), "four");
  EXPECT_EQ(b.recv(v6, buf, sizeof buf, 0), 3);
  EXPECT_EQ(std::string(buf, 3), "six");
  EXPECT_EQ(b.recv(v6, buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST_F(DgramTest, DualStackSocketConnectedToAMappedPeerTalksIpv4Only) {
  const int srv4 = bound(b, AF_INET, 8003);
  const int srv6 = bound(b, AF_INET6, 8004);
  const int cli = a.socket(AF_INET6, SOCK_DGRAM, 0);
  const sockaddr_in6 to = mapped(kDgramB4, 8003);
  ASSERT_EQ(a.connect(cli, csa(to), sizeof to), 0);
  sockaddr_in6 name{};
  socklen_t len = sizeof name;
  ASSERT_EQ(a.getsockname(cli, msa(name), &len), 0);
  EXPECT_EQ(addr_of(name), IpAddr(kDgramA4).v6());  // ::ffff:10.77.0.2
  const uint16_t cport = ntohs(name.sin6_port);
  len = sizeof name;
  ASSERT_EQ(a.getpeername(cli, msa(name), &len), 0);
  EXPECT_EQ(addr_of(name), IpAddr(kDgramB4).v6());
  EXPECT_EQ(ntohs(name.sin6_port), 8003);
  ASSERT_EQ(a.send(cli, "mapped", 6, 0), 6);
  settle();
  char buf[16];
  sockaddr_in from{};
  len = sizeof from;
  ASSERT_EQ(b.recvfrom(srv4, buf, sizeof buf, 0, msa(from), &len), 6);
  EXPECT_EQ(ntohl(from.sin_addr.s_addr), kDgramA4.value);
  EXPECT_EQ(ntohs(from.sin_port), cport);
  // Only the peer is heard: an IPv6 datagram to the same port is not delivered.
  const sockaddr_in6 a6 = in6(kDgramA6, cport);
  ASSERT_EQ(b.sendto(srv6, "six", 3, 0, csa(a6), sizeof a6), 3);
  ASSERT_EQ(b.sendto(srv4, "four", 4, 0, csa(from), len), 4);
  settle();
  EXPECT_EQ(a.recv(cli, buf, sizeof buf, 0), 4);
  EXPECT_EQ(std::string(buf, 4), "four");
  EXPECT_EQ(a.recv(cli, buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
  // IPv4's limit applies to a mapped peer.
  const std::string over(65508, 'o');
  EXPECT_EQ(a.send(cli, over.data(), over.size(), 0), -1);
  EXPECT_EQ(errno, EMSGSIZE);
  // Reconnected to an IPv6 peer (its port was taken implicitly, so it may change family).
  const sockaddr_in6 to6 = in6(kDgramB6, 8004);
  ASSERT_EQ(a.connect(cli, csa(to6), sizeof to6), 0);
  ASSERT_EQ(a.send(cli, "now-v6", 6, 0), 6);
  settle();
  sockaddr_in6 from6{};
  len = sizeof from6;
  ASSERT_EQ(b.recvfrom(srv6, buf, sizeof buf, 0, msa(from6), &len), 6);
  EXPECT_EQ(addr_of(from6), kDgramA6);
}

TEST_F(DgramTest, DualStackSocketHearsBothFamiliesAgainAfterAfUnspec) {
  const int srv = bound(b, AF_INET6, 8009);
  const int cli = bound(a, AF_INET6, 8109);
  const sockaddr_in6 to4 = mapped(kDgramB4, 8009);
  ASSERT_EQ(a.connect(cli, csa(to4), sizeof to4), 0);
  sockaddr unspec{};
  unspec.sa_family = AF_UNSPEC;
  ASSERT_EQ(a.connect(cli, &unspec, sizeof unspec), 0);
  EXPECT_EQ(port_of(a, cli), 8109);
  // Both families reach the bound port again, in turn.
  const sockaddr_in6 at6 = in6(kDgramA6, 8109);
  const sockaddr_in6 at4 = mapped(kDgramA4, 8109);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(b.sendto(srv, "six", 3, 0, csa(at6), sizeof at6), 3);
    ASSERT_EQ(b.sendto(srv, "four", 4, 0, csa(at4), sizeof at4), 4);
  }
  settle();
  std::string order;
  char buf[8];
  for (int i = 0; i < 4; ++i) {
    const ssize_t n = a.recv(cli, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    order += std::string(buf, static_cast<size_t>(n)) + " ";
  }
  EXPECT_EQ(order, "six four six four ");
}

TEST_F(DgramTest, DualStackSocketTakesAPlainSockaddrInForItsPeer) {
  const int srv = bound(b, AF_INET, 8010);
  const int cli = a.socket(AF_INET6, SOCK_DGRAM, 0);
  const sockaddr_in to = in4(kDgramB4, 8010);
  // Linux's udpv6_sendmsg and ip6_datagram_connect accept AF_INET on a dual-stack socket.
  ASSERT_EQ(a.sendto(cli, "plain", 5, 0, csa(to), sizeof to), 5);
  ASSERT_EQ(a.connect(cli, csa(to), sizeof to), 0);
  sockaddr_in6 name{};
  socklen_t len = sizeof name;
  ASSERT_EQ(a.getpeername(cli, msa(name), &len), 0);
  EXPECT_EQ(len, sizeof(sockaddr_in6));
  EXPECT_EQ(addr_of(name), IpAddr(kDgramB4).v6());  // named as ::ffff:10.77.0.1
  ASSERT_EQ(a.send(cli, "again", 5, 0), 5);
  settle();
  char buf[8];
  EXPECT_EQ(b.recv(srv, buf, sizeof buf, 0), 5);
  EXPECT_EQ(std::string(buf, 5), "plain");
  EXPECT_EQ(b.recv(srv, buf, sizeof buf, 0), 5);
  EXPECT_EQ(std::string(buf, 5), "again");
  // An IPv6-only socket: sendto is unreachable, connect refuses the family.
  const int v6 = a.socket(AF_INET6, SOCK_DGRAM, 0);
  const int one = 1;
  ASSERT_EQ(a.setsockopt(v6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
  EXPECT_EQ(a.sendto(v6, "x", 1, 0, csa(to), sizeof to), -1);
  EXPECT_EQ(errno, ENETUNREACH);
  EXPECT_EQ(a.connect(v6, csa(to), sizeof to), -1);
  EXPECT_EQ(errno, EAFNOSUPPORT);
  // bind() keeps to sockaddr_in6 (Linux's inet6_bind: EINVAL for a short AF_INET address).
  const sockaddr_in any4 = in4(Ipv4Addr(), 8011);
  const int dual = a.socket(AF_INET6, SOCK_DGRAM, 0);
  EXPECT_EQ(a.bind(dual, csa(any4), sizeof any4), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(DgramTest, Ipv6SizeLimitAndRecvmsgNameLength) {
  const int srv = bound(b, AF_INET6, 8005);
  const int cli = a.socket(AF_INET6, SOCK_DGRAM, 0);
  const sockaddr_in6 to = in6(kDgramB6, 8005);
  const std::string max(65527, 'x');  // 65535 - 8: the IPv6 payload length holds the UDP header
  ASSERT_EQ(a.sendto(cli, max.data(), max.size(), 0, csa(to), sizeof to), 65527);
  const std::string over(65528, 'y');
  EXPECT_EQ(a.sendto(cli, over.data(), over.size(), 0, csa(to), sizeof to), -1);
  EXPECT_EQ(errno, EMSGSIZE);
  settle();
  std::string got(70000, '\0');
  sockaddr_in6 from{};
  iovec iov{got.data(), got.size()};
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ASSERT_EQ(b.recvmsg(srv, &msg, 0), 65527);
  EXPECT_EQ(msg.msg_namelen, sizeof(sockaddr_in6));
  EXPECT_EQ(msg.msg_flags, 0);
  EXPECT_EQ(addr_of(from), kDgramA6);
  got.resize(65527);
  EXPECT_EQ(got, max);
}

TEST_F(DgramTest, Icmpv6PortUnreachableIsEconnrefusedOnAConnectedSocket) {
  const int cli = a.socket(AF_INET6, SOCK_DGRAM, 0);
  const sockaddr_in6 to = in6(kDgramB6, 9);  // nobody on B's port 9
  ASSERT_EQ(a.connect(cli, csa(to), sizeof to), 0);
  ASSERT_EQ(a.write(cli, "knock", 5), 5);
  settle();
  EXPECT_EQ(a.poll_events(cli) & POLLERR, POLLERR);
  EXPECT_EQ(a.write(cli, "again", 5), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  EXPECT_EQ(a.write(cli, "again", 5), 5);  // reported once
}

TEST_F(DgramTest, BindToAMappedAddressTakesIpv4Only) {
  const int fd = b.socket(AF_INET6, SOCK_DGRAM, 0);
  const sockaddr_in6 at = mapped(kDgramB4, 8006);
  ASSERT_EQ(b.bind(fd, csa(at), sizeof at), 0);
  sockaddr_in6 name{};
  socklen_t len = sizeof name;
  ASSERT_EQ(b.getsockname(fd, msa(name), &len), 0);
  EXPECT_EQ(addr_of(name), IpAddr(kDgramB4).v6());
  // The IPv6 half of the port stays free.
  const int six = b.socket(AF_INET6, SOCK_DGRAM, 0);
  const int one = 1;
  ASSERT_EQ(b.setsockopt(six, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
  const sockaddr_in6 any6 = in6(Ipv6Addr(), 8006);
  EXPECT_EQ(b.bind(six, csa(any6), sizeof any6), 0);
  // A dual-stack wildcard bind finds the IPv4 half taken.
  const int dual = b.socket(AF_INET6, SOCK_DGRAM, 0);
  const sockaddr_in6 any = in6(Ipv6Addr(), 8007);
  ASSERT_EQ(b.bind(dual, csa(any), sizeof any), 0);
  const int clash = b.socket(AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in any4 = in4(Ipv4Addr(), 8007);
  EXPECT_EQ(b.bind(clash, csa(any4), sizeof any4), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  // Sent from the IPv4-bound socket, a datagram reaches an IPv4 peer.
  const int peer = bound(a, AF_INET, 8008);
  const sockaddr_in6 to = mapped(kDgramA4, 8008);
  ASSERT_EQ(b.sendto(fd, "v4", 2, 0, csa(to), sizeof to), 2);
  const sockaddr_in6 to6 = in6(kDgramA6, 8008);
  EXPECT_EQ(b.sendto(fd, "v6", 2, 0, csa(to6), sizeof to6), -1);
  EXPECT_EQ(errno, ENETUNREACH);
  settle();
  char buf[4];
  EXPECT_EQ(a.recv(peer, buf, sizeof buf, 0), 2);
}

}  // namespace
}  // namespace utcp::posix
