// SPDX-License-Identifier: BSD-2-Clause
// The POSIX facade's AF_INET6 sockets, with Linux semantics: sockaddr_in6 in bind, connect,
// accept, getsockname and getpeername; dual stack by default (RFC 3493 §3.7: IPv4 peers as
// ::ffff:a.b.c.d), IPV6_V6ONLY (§5.3), connect() to an IPv4-mapped address going over IPv4,
// and IPV6_TCLASS (RFC 3542 §6.5). Two stacks on a virtual clock (support/sim_net.hpp).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "support/sim_net.hpp"
#include "utcp/posix.hpp"

namespace utcp::posix {
namespace {

using std::chrono::milliseconds;

const Ipv6Addr kA6(0xfd77, 0, 0, 0, 0, 0, 0, 2);
const Ipv6Addr kB6(0xfd77, 0, 0, 0, 0, 0, 0, 1);
const Ipv4Addr kA4(10, 77, 0, 2);
const Ipv4Addr kB4(10, 77, 0, 1);

sockaddr_in6 addr6(const Ipv6Addr& a, uint16_t port) {
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(port);
  std::memcpy(in6.sin6_addr.s6_addr, a.bytes.data(), 16);
  return in6;
}

sockaddr_in addr4(Ipv4Addr a, uint16_t port) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  in.sin_addr.s_addr = htonl(a.value);
  return in;
}

template <class T>
const sockaddr* sa(const T& in) {
  return reinterpret_cast<const sockaddr*>(&in);
}

Ipv6Addr addr_of(const sockaddr_in6& in6) {
  return Ipv6Addr::from_bytes(in6.sin6_addr.s6_addr);
}

test::SimNetConfig dual_stack() {
  test::SimNetConfig cfg;
  cfg.a.address6 = kA6;
  cfg.b.address6 = kB6;
  return cfg;
}

class Ipv6SocketsTest : public ::testing::Test {
 protected:
  test::SimNet net{dual_stack()};
  Sockets a{net.a()};
  Sockets b{net.b()};

  void settle() { net.advance(milliseconds(50)); }

  int listener6(uint16_t port, bool v6only = false) {
    const int l = b.socket(AF_INET6, SOCK_STREAM, 0);
    if (v6only) {
      const int one = 1;
      EXPECT_EQ(b.setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
    }
    const sockaddr_in6 any = addr6(Ipv6Addr(), port);
    EXPECT_EQ(b.bind(l, sa(any), sizeof any), 0);
    EXPECT_EQ(b.listen(l, 4), 0);
    return l;
  }
  // Sends `text` from a's fd to b's fd and back, checking both arrive whole.
  void exchange(int fa, int fb, const std::string& text) {
    ASSERT_EQ(a.write(fa, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    settle();
    std::string got(text.size() + 10, '\0');
    ASSERT_EQ(b.read(fb, got.data(), got.size()), static_cast<ssize_t>(text.size()));
    got.resize(text.size());
    EXPECT_EQ(got, text);
    ASSERT_EQ(b.write(fb, got.data(), got.size()), static_cast<ssize_t>(got.size()));
    settle();
    std::string back(text.size() + 10, '\0');
    ASSERT_EQ(a.read(fa, back.data(), back.size()), static_cast<ssize_t>(text.size()));
    back.resize(text.size());
    EXPECT_EQ(back, text);
  }
};

TEST_F(Ipv6SocketsTest, ConnectAcceptAndNamesOverIpv6) {
  const int l = listener6(80);
  const int c = a.socket(AF_INET6, SOCK_STREAM, 0);
  ASSERT_GE(c, 0);
  const sockaddr_in6 to = addr6(kB6, 80);
  EXPECT_EQ(a.connect(c, sa(to), sizeof to), -1);
  EXPECT_EQ(errno, EINPROGRESS);
  sockaddr_in6 name{};
  socklen_t len = sizeof name;
  EXPECT_EQ(a.getpeername(c, reinterpret_cast<sockaddr*>(&name), &len), -1);
  EXPECT_EQ(errno, ENOTCONN);  // Linux: no peer while SYN-SENT
  settle();
  sockaddr_in6 peer{};
  len = sizeof peer;
  const int s = b.accept(l, reinterpret_cast<sockaddr*>(&peer), &len);
  ASSERT_GE(s, 0);
  EXPECT_EQ(len, sizeof(sockaddr_in6));
  EXPECT_EQ(peer.sin6_family, AF_INET6);
  EXPECT_EQ(addr_of(peer), kA6);
  const uint16_t client_port = ntohs(peer.sin6_port);
  EXPECT_NE(client_port, 0);

  len = sizeof name;
  ASSERT_EQ(a.getsockname(c, reinterpret_cast<sockaddr*>(&name), &len), 0);
  EXPECT_EQ(name.sin6_family, AF_INET6);
  EXPECT_EQ(addr_of(name), kA6);
  EXPECT_EQ(ntohs(name.sin6_port), client_port);
  len = sizeof name;
  ASSERT_EQ(a.getpeername(c, reinterpret_cast<sockaddr*>(&name), &len), 0);
  EXPECT_EQ(addr_of(name), kB6);
  EXPECT_EQ(ntohs(name.sin6_port), 80);
  len = sizeof name;
  ASSERT_EQ(b.getsockname(s, reinterpret_cast<sockaddr*>(&name), &len), 0);
  EXPECT_EQ(addr_of(name), kB6);
  len = sizeof name;
  ASSERT_EQ(b.getsockname(l, reinterpret_cast<sockaddr*>(&name), &len), 0);
  EXPECT_EQ(addr_of(name), Ipv6Addr());  // the listener is bound to ::
  EXPECT_EQ(ntohs(name.sin6_port), 80);
  int domain = 0;
  len = sizeof domain;
  ASSERT_EQ(b.getsockopt(s, SOL_SOCKET, SO_DOMAIN, &domain, &len), 0);
  EXPECT_EQ(domain, AF_INET6);
  TcpInfo info;
  len = sizeof info;
  ASSERT_EQ(a.getsockopt(c, IPPROTO_TCP, TCP_INFO, &info, &len), 0);
  EXPECT_EQ(info.tcpi_remote_port, 80u);
  EXPECT_EQ(info.tcpi_remote_addr, 0u);  // IPv4 only
  EXPECT_EQ(Ipv6Addr::from_bytes(info.tcpi_remote_addr6), kB6);
  exchange(c, s, "over IPv6");
}

TEST_F(Ipv6SocketsTest, DualStackListenerTakesIpv4PeersAsMappedAddresses) {
  const int l = listener6(80);
  const int c = a.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in to = addr4(kB4, 80);
  EXPECT_EQ(a.connect(c, sa(to), sizeof to), -1);
  EXPECT_EQ(errno, EINPROGRESS);
  settle();
  sockaddr_in6 peer{};
  socklen_t len = sizeof peer;
  const int s = b.accept(l, reinterpret_cast<sockaddr*>(&peer), &len);
  ASSERT_GE(s, 0);
  EXPECT_EQ(peer.sin6_family, AF_INET6);
  EXPECT_EQ(addr_of(peer), Ipv6Addr::v4_mapped(kA4));
  sockaddr_in6 name{};
  len = sizeof name;
  ASSERT_EQ(b.getsockname(s, reinterpret_cast<sockaddr*>(&name), &len), 0);
  EXPECT_EQ(addr_of(name), Ipv6Addr::v4_mapped(kB4));
  // The connection itself is IPv4.
  EXPECT_TRUE(net.b().remote_endpoint(b.socket_id(s)).addr.is_v4());
  exchange(c, s, "IPv4 to a dual-stack socket");
}

TEST_F(Ipv6SocketsTest, V6OnlyListenerRefusesIpv4AndSharesItsPort) {
  const int l = listener6(80, /*v6only=*/true);
  int v = -1;
  socklen_t len = sizeof v;
  ASSERT_EQ(b.getsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len), 0);
  EXPECT_EQ(v, 1);
  // An IPv4 SYN to the port finds no listener: RST, connect() reports ECONNREFUSED.
  const int c = a.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in to = addr4(kB4, 80);
  EXPECT_EQ(a.connect(c, sa(to), sizeof to), -1);
  settle();
  int err = 0;
  len = sizeof err;
  ASSERT_EQ(a.getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len), 0);
  EXPECT_EQ(err, ECONNREFUSED);
  // An AF_INET listener may take the same port beside it, as on Linux.
  const int l4 = b.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in any4 = addr4(Ipv4Addr(), 80);
  EXPECT_EQ(b.bind(l4, sa(any4), sizeof any4), 0);
  EXPECT_EQ(b.listen(l4, 4), 0);
  const int c2 = a.socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(a.connect(c2, sa(to), sizeof to), -1);
  settle();
  EXPECT_GE(b.accept(l4, nullptr, nullptr), 0);
  EXPECT_EQ(b.accept(l, nullptr, nullptr), -1);  // nothing for the IPv6-only one
  EXPECT_EQ(errno, EAGAIN);
}

TEST_F(Ipv6SocketsTest, DualStackSocketConflictsWithAnIpv4OneOnItsPort) {
  listener6(80);
  const int l4 = b.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in any4 = addr4(Ipv4Addr(), 80);
  EXPECT_EQ(b.bind(l4, sa(any4), sizeof any4), -1);
  EXPECT_EQ(errno, EADDRINUSE);
}

TEST_F(Ipv6SocketsTest, ConnectToAMappedAddressGoesOverIpv4) {
  const int l4 = b.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in any4 = addr4(Ipv4Addr(), 81);
  ASSERT_EQ(b.bind(l4, sa(any4), sizeof any4), 0);
  ASSERT_EQ(b.listen(l4, 4), 0);
  const int c = a.socket(AF_INET6, SOCK_STREAM, 0);
  const sockaddr_in6 to = addr6(Ipv6Addr::v4_mapped(kB4), 81);
  EXPECT_EQ(a.connect(c, sa(to), sizeof to), -1);
  EXPECT_EQ(errno, EINPROGRESS);
  settle();
  sockaddr_in peer{};
  socklen_t len = sizeof peer;
  const int s = b.accept(l4, reinterpret_cast<sockaddr*>(&peer), &len);
  ASSERT_GE(s, 0);
  EXPECT_EQ(peer.sin_family, AF_INET);
  EXPECT_EQ(ntohl(peer.sin_addr.s_addr), kA4.value);
  sockaddr_in6 name{};
  len = sizeof name;
  ASSERT_EQ(a.getpeername(c, reinterpret_cast<sockaddr*>(&name), &len), 0);
  EXPECT_EQ(addr_of(name), Ipv6Addr::v4_mapped(kB4));
  len = sizeof name;
  ASSERT_EQ(a.getsockname(c, reinterpret_cast<sockaddr*>(&name), &len), 0);
  EXPECT_EQ(addr_of(name), Ipv6Addr::v4_mapped(kA4));
  exchange(c, s, "mapped");

  // RFC 3493 §5.3: an IPv6-only socket has no IPv4 peers.
  const int d = a.socket(AF_INET6, SOCK_STREAM, 0);
  const int one = 1;
  ASSERT_EQ(a.setsockopt(d, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
  EXPECT_EQ(a.connect(d, sa(to), sizeof to), -1);
  EXPECT_EQ(errno, ENETUNREACH);
}

TEST_F(Ipv6SocketsTest, BindChecksAsLinux) {
  const int s = a.socket(AF_INET6, SOCK_STREAM, 0);
  const sockaddr_in6 foreign = addr6(Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 99), 0);
  EXPECT_EQ(a.bind(s, sa(foreign), sizeof foreign), -1);
  EXPECT_EQ(errno, EADDRNOTAVAIL);
  const sockaddr_in v4 = addr4(kA4, 0);
  EXPECT_EQ(a.bind(s, sa(v4), sizeof v4), -1);  // too short for sockaddr_in6
  EXPECT_EQ(errno, EINVAL);
  sockaddr_in6 wrong_family = addr6(kA6, 0);
  wrong_family.sin6_family = AF_INET;
  EXPECT_EQ(a.bind(s, sa(wrong_family), sizeof wrong_family), -1);
  EXPECT_EQ(errno, EAFNOSUPPORT);
  const int one = 1;
  ASSERT_EQ(a.setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
  const sockaddr_in6 mapped = addr6(Ipv6Addr::v4_mapped(kA4), 0);
  EXPECT_EQ(a.bind(s, sa(mapped), sizeof mapped), -1);  // IPv6-only: no IPv4 address
  EXPECT_EQ(errno, EINVAL);
  const sockaddr_in6 own = addr6(kA6, 5555);
  ASSERT_EQ(a.bind(s, sa(own), sizeof own), 0);
  // Once bound, IPV6_V6ONLY is fixed.
  const int zero = 0;
  EXPECT_EQ(a.setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero), -1);
  EXPECT_EQ(errno, EINVAL);
  sockaddr_in6 name{};
  socklen_t len = sizeof name;
  ASSERT_EQ(a.getsockname(s, reinterpret_cast<sockaddr*>(&name), &len), 0);
  EXPECT_EQ(addr_of(name), kA6);
  EXPECT_EQ(ntohs(name.sin6_port), 5555);
  // IPv6 options are not for AF_INET sockets.
  const int s4 = a.socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(a.setsockopt(s4, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), -1);
  EXPECT_EQ(errno, ENOPROTOOPT);
  // An unbound AF_INET6 socket names [::]:0.
  const int fresh = a.socket(AF_INET6, SOCK_STREAM, 0);
  len = sizeof name;
  ASSERT_EQ(a.getsockname(fresh, reinterpret_cast<sockaddr*>(&name), &len), 0);
  EXPECT_EQ(name.sin6_family, AF_INET6);
  EXPECT_EQ(addr_of(name), Ipv6Addr());
  EXPECT_EQ(name.sin6_port, 0);
  // A short buffer gets the start of the address and the full length.
  socklen_t short_len = 8;
  ASSERT_EQ(a.getsockname(s, reinterpret_cast<sockaddr*>(&name), &short_len), 0);
  EXPECT_EQ(short_len, sizeof(sockaddr_in6));
}

TEST_F(Ipv6SocketsTest, TrafficClassIsSetAndReadBack) {
  const int c = a.socket(AF_INET6, SOCK_STREAM, 0);
  int v = -5;
  socklen_t len = sizeof v;
  ASSERT_EQ(a.getsockopt(c, IPPROTO_IPV6, IPV6_TCLASS, &v, &len), 0);
  EXPECT_EQ(v, 0);
  v = 256;
  EXPECT_EQ(a.setsockopt(c, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof v), -1);
  EXPECT_EQ(errno, EINVAL);
  v = IPTOS_DSCP_EF;
  ASSERT_EQ(a.setsockopt(c, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof v), 0);
  len = sizeof v;
  v = 0;
  ASSERT_EQ(a.getsockopt(c, IPPROTO_IPV6, IPV6_TCLASS, &v, &len), 0);
  EXPECT_EQ(v, IPTOS_DSCP_EF);
  // The connection's IPv6 traffic carries it from the SYN on.
  listener6(80);
  const sockaddr_in6 to = addr6(kB6, 80);
  EXPECT_EQ(a.connect(c, sa(to), sizeof to), -1);
  settle();
  EXPECT_EQ(net.a().tos(a.socket_id(c)), IPTOS_DSCP_EF);
  v = IPTOS_DSCP_AF11;
  ASSERT_EQ(a.setsockopt(c, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof v), 0);
  EXPECT_EQ(net.a().tos(a.socket_id(c)), IPTOS_DSCP_AF11);
  // IP_TOS on the same socket is for IPv4 only: the IPv6 connection keeps its class.
  v = IPTOS_DSCP_AF41;
  ASSERT_EQ(a.setsockopt(c, IPPROTO_IP, IP_TOS, &v, sizeof v), 0);
  EXPECT_EQ(net.a().tos(a.socket_id(c)), IPTOS_DSCP_AF11);
  v = -1;  // the default again
  ASSERT_EQ(a.setsockopt(c, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof v), 0);
  len = sizeof v;
  ASSERT_EQ(a.getsockopt(c, IPPROTO_IPV6, IPV6_TCLASS, &v, &len), 0);
  EXPECT_EQ(v, 0);
  EXPECT_EQ(net.a().tos(a.socket_id(c)), 0);
}

TEST(Ipv6SocketsNoIpv6, Af6IsRefusedOnAStackWithoutIpv6) {
  test::SimNetConfig cfg;
  cfg.a.ipv6 = false;
  test::SimNet net(cfg);
  Sockets a(net.a());
  EXPECT_EQ(a.socket(AF_INET6, SOCK_STREAM, 0), -1);
  EXPECT_EQ(errno, EAFNOSUPPORT);
  EXPECT_GE(a.socket(AF_INET, SOCK_STREAM, 0), 0);
}

}  // namespace
}  // namespace utcp::posix
