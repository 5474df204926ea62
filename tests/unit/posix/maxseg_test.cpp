// SPDX-License-Identifier: BSD-2-Clause
// TCP_MAXSEG on the facade: Linux's range check and answers, and the clamp reaching the SYNs
// (announced MSS) and the segments sent (effective send MSS), on both ends of a connection.
#include <gtest/gtest.h>
#include <netinet/tcp.h>

#include "sockets_fixture.hpp"

namespace utcp::posix {
namespace {

int get_maxseg(Sockets& s, int fd) {
  int v = -1;
  socklen_t len = sizeof v;
  EXPECT_EQ(s.getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, &len), 0);
  return v;
}

int set_maxseg(Sockets& s, int fd, int v) {
  return s.setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof v);
}

TEST_F(SocketsTest, MaxsegRangeAsLinux) {
  const int fd = a.socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(get_maxseg(a, fd), 536);  // Linux's TCP_MSS_DEFAULT before any connection
  for (int bad : {1, 87, 32768, -1}) {
    EXPECT_EQ(set_maxseg(a, fd, bad), -1) << bad;
    EXPECT_EQ(errno, EINVAL) << bad;
  }
  EXPECT_EQ(set_maxseg(a, fd, 88), 0);
  EXPECT_EQ(get_maxseg(a, fd), 88);
  EXPECT_EQ(set_maxseg(a, fd, 32767), 0);
  EXPECT_EQ(get_maxseg(a, fd), 32767);
  EXPECT_EQ(set_maxseg(a, fd, 0), 0);  // back to the default
  EXPECT_EQ(get_maxseg(a, fd), 536);
  {  // an option shorter than an int
    const int v = 500;
    EXPECT_EQ(a.setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, 2), -1);
    EXPECT_EQ(errno, EINVAL);
  }
}

TEST_F(SocketsTest, MaxsegBeforeConnectClampsBothDirections) {
  const int l = b.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in any = addr(wire::Ipv4Addr(), 80);
  ASSERT_EQ(b.bind(l, sa(any), sizeof any), 0);
  ASSERT_EQ(b.listen(l, 4), 0);
  const int c = a.socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(set_maxseg(a, c, 500), 0);
  const sockaddr_in to = addr(net.b().config().address, 80);
  EXPECT_EQ(a.connect(c, sa(to), sizeof to), -1);
  settle();
  const int s = b.accept(l, nullptr, nullptr);
  ASSERT_GE(s, 0);
  // Our SYN announced 500 (RFC 9293 §3.7.1), so the peer sends at most 500 less options.
  const auto peer = net.b().tcp_info(b.socket_id(s));
  ASSERT_TRUE(peer);
  EXPECT_EQ(peer->rcv_mss, 500u);
  EXPECT_LE(peer->snd_mss, 500u);
  // And we send no more than 500 either, though the peer announced 1460: the effective send MSS
  // (RFC 6691: options come out of it) is what getsockopt answers once connected.
  const int eff = get_maxseg(a, c);
  EXPECT_LE(eff, 500);
  EXPECT_GE(eff, 500 - 40);
  EXPECT_EQ(static_cast<uint32_t>(eff), net.a().tcp_info(a.socket_id(c))->snd_mss);
  // Set after the handshake, it changes nothing (Linux: mss_clamp was fixed by the SYNs).
  EXPECT_EQ(set_maxseg(a, c, 200), 0);
  EXPECT_EQ(get_maxseg(a, c), eff);
}

TEST_F(SocketsTest, MaxsegOnListenerReachesAcceptedConnections) {
  const int l = b.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in any = addr(wire::Ipv4Addr(), 80);
  ASSERT_EQ(b.bind(l, sa(any), sizeof any), 0);
  ASSERT_EQ(set_maxseg(b, l, 700), 0);
  ASSERT_EQ(b.listen(l, 4), 0);
  EXPECT_EQ(get_maxseg(b, l), 700);  // closed or listening: the value set
  const int c = a.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in to = addr(net.b().config().address, 80);
  EXPECT_EQ(a.connect(c, sa(to), sizeof to), -1);
  settle();
  const int s = b.accept(l, nullptr, nullptr);
  ASSERT_GE(s, 0);
  EXPECT_EQ(net.a().tcp_info(a.socket_id(c))->rcv_mss, 700u);  // the SYN-ACK announced 700
  EXPECT_LE(get_maxseg(b, s), 700);
  EXPECT_LE(get_maxseg(a, c), 700);
  // A value above the stack's own MSS cannot raise it.
  const int l2 = b.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in any2 = addr(wire::Ipv4Addr(), 81);
  ASSERT_EQ(b.bind(l2, sa(any2), sizeof any2), 0);
  ASSERT_EQ(set_maxseg(b, l2, 9000), 0);
  ASSERT_EQ(b.listen(l2, 4), 0);
  const int c2 = a.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in to2 = addr(net.b().config().address, 81);
  EXPECT_EQ(a.connect(c2, sa(to2), sizeof to2), -1);
  settle();
  EXPECT_EQ(net.a().tcp_info(a.socket_id(c2))->rcv_mss, net.b().config().tcp.mss);
}

}  // namespace
}  // namespace utcp::posix
