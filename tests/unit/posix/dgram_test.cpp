// SPDX-License-Identifier: BSD-2-Clause
// The POSIX facade's SOCK_DGRAM sockets over IPv4, against Linux's answers: datagrams whole
// with their sender's address, truncation (MSG_TRUNC), MSG_PEEK, sendmsg/recvmsg, connect and
// AF_UNSPEC, poll, SO_RCVBUF, ICMP port unreachable as ECONNREFUSED, EMSGSIZE, errnos.
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>

#include "dgram_fixture.hpp"

namespace utcp::posix {
namespace {

std::string pattern(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i % 251);
  return s;
}

TEST_F(DgramTest, SendtoRecvfromCarryBytesAndAddressesBothWays) {
  const int srv = bound(b, AF_INET, 5353);
  const int cli = a.socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(cli, 0);
  EXPECT_EQ(port_of(a, cli), 0);  // unbound until the first send (Linux's autobind)
  const sockaddr_in to = in4(kDgramB4, 5353);
  const std::string msg = "hello over udp";
  ASSERT_EQ(a.sendto(cli, msg.data(), msg.size(), 0, csa(to), sizeof to),
            static_cast<ssize_t>(msg.size()));
  const uint16_t cport = port_of(a, cli);
  EXPECT_NE(cport, 0);
  settle();
  char buf[64] = {};
  sockaddr_in from{};
  socklen_t len = sizeof from;
  ASSERT_EQ(b.recvfrom(srv, buf, sizeof buf, 0, msa(from), &len), static_cast<ssize_t>(msg.size()));
  EXPECT_EQ(std::string(buf, msg.size()), msg);
  EXPECT_EQ(len, sizeof(sockaddr_in));
  EXPECT_EQ(from.sin_family, AF_INET);
  EXPECT_EQ(ntohl(from.sin_addr.s_addr), kDgramA4.value);
  EXPECT_EQ(ntohs(from.sin_port), cport);
  // The answer to the address recvfrom gave.
  const std::string reply = "and back";
  ASSERT_EQ(b.sendto(srv, reply.data(), reply.size(), 0, csa(from), len),
            static_cast<ssize_t>(reply.size()));
  settle();
  sockaddr_in from2{};
  len = sizeof from2;
  ASSERT_EQ(a.recvfrom(cli, buf, sizeof buf, 0, msa(from2), &len),
            static_cast<ssize_t>(reply.size()));
  EXPECT_EQ(std::string(buf, reply.size()), reply);
  EXPECT_EQ(ntohl(from2.sin_addr.s_addr), kDgramB4.value);
  EXPECT_EQ(ntohs(from2.sin_port), 5353);
}

TEST_F(DgramTest, EachRecvReturnsOneDatagramAndAnEmptyOneCounts) {
  const int srv = bound(b, AF_INET, 7000);
  const int cli = a.socket(AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in to = in4(kDgramB4, 7000);
  ASSERT_EQ(a.sendto(cli, "first", 5, 0, csa(to), sizeof to), 5);
  ASSERT_EQ(a.sendto(cli, "", 0, 0, csa(to), sizeof to), 0);
  ASSERT_EQ(a.sendto(cli, "third!", 6, 0, csa(to), sizeof to), 6);
  settle();
  char buf[64];
  EXPECT_EQ(b.recv(srv, buf, sizeof buf, 0), 5);  // boundaries kept: never merged
  EXPECT_EQ(std::string(buf, 5), "first");
  EXPECT_EQ(b.read(srv, buf, sizeof buf), 0);  // the empty datagram
  EXPECT_EQ(b.recv(srv, buf, sizeof buf, 0), 6);
  EXPECT_EQ(std::string(buf, 6), "third!");
  EXPECT_EQ(b.recv(srv, buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST_F(DgramTest, ShortBufferTruncatesDiscardsTheRestAndMsgTruncTellsTheLength) {
  const int srv = bound(b, AF_INET, 7001);
  const int cli = a.socket(AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in to = in4(kDgramB4, 7001);
  const std::string big = pattern(300, 'a');
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(a.sendto(cli, big.data(), big.size(), 0, csa(to), sizeof to), 300);
  }
  settle();
  char buf[10];
  EXPECT_EQ(b.recv(srv, buf, sizeof buf, 0), 10);  // Linux: the first 10 bytes
  EXPECT_EQ(std::string(buf, 10), big.substr(0, 10));
  // The rest of that datagram is gone: the next read starts the next datagram.
  EXPECT_EQ(b.recv(srv, buf, sizeof buf, MSG_TRUNC), 300);  // MSG_TRUNC: the real length
  EXPECT_EQ(std::string(buf, 10), big.substr(0, 10));
  // recvmsg says so in msg_flags.
  char part1[4], part2[6];
  iovec iov[2] = {{part1, sizeof part1}, {part2, sizeof part2}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  EXPECT_EQ(b.recvmsg(srv, &msg, 0), 10);
  EXPECT_EQ(msg.msg_flags, MSG_TRUNC);
  EXPECT_EQ(std::string(part1, 4) + std::string(part2, 6), big.substr(0, 10));
  EXPECT_EQ(b.recv(srv, buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST_F(DgramTest, PeekLeavesTheDatagramAndFionreadGivesItsLength) {
  const int srv = bound(b, AF_INET, 7002);
  const int cli = a.socket(AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in to = in4(kDgramB4, 7002);
  int avail = -1;
  EXPECT_EQ(b.ioctl(srv, FIONREAD, &avail), 0);
  EXPECT_EQ(avail, 0);
  ASSERT_EQ(a.sendto(cli, "peekaboo", 8, 0, csa(to), sizeof to), 8);
  ASSERT_EQ(a.sendto(cli, "second", 6, 0, csa(to), sizeof to), 6);
  settle();
  EXPECT_EQ(b.ioctl(srv, FIONREAD, &avail), 0);
  EXPECT_EQ(avail, 8);  // Linux's udp_ioctl: the next datagram's length, not the total
  char buf[32];
  EXPECT_EQ(b.recv(srv, buf, 4, MSG_PEEK), 4);
  EXPECT_EQ(std::string(buf, 4), "peek");
  sockaddr_in from{};
  socklen_t len = sizeof from;
  EXPECT_EQ(b.recvfrom(srv, buf, sizeof buf, MSG_PEEK, msa(from), &len), 8);
  EXPECT_EQ(ntohl(from.sin_addr.s_addr), kDgramA4.value);
  EXPECT_EQ(b.recv(srv, buf, sizeof buf, 0), 8);
  EXPECT_EQ(std::string(buf, 8), "peekaboo");
  EXPECT_EQ(b.recv(srv, buf, sizeof buf, 0), 6);
  EXPECT_EQ(std::string(buf, 6), "second");
}

TEST_F(DgramTest, SendmsgGathersAndRecvmsgScattersWithTheSourceAddress) {
  const int srv = bound(b, AF_INET, 7003);
  const int cli = bound(a, AF_INET, 7103);
  sockaddr_in to = in4(kDgramB4, 7003);
  char h[] = "head-", m[] = "middle-", t[] = "tail";
  iovec out[3] = {{h, 5}, {m, 7}, {t, 4}};
  msghdr smsg{};
  smsg.msg_name = &to;
  smsg.msg_namelen = sizeof to;
  smsg.msg_iov = out;
  smsg.msg_iovlen = 3;
  ASSERT_EQ(a.sendmsg(cli, &smsg, 0), 16);
  settle();
  char p1[6], p2[20];
  iovec in[2] = {{p1, sizeof p1}, {p2, sizeof p2}};
  sockaddr_in from{};
  msghdr rmsg{};
  rmsg.msg_name = &from;
  rmsg.msg_namelen = sizeof from;
  rmsg.msg_iov = in;
  rmsg.msg_iovlen = 2;
  ASSERT_EQ(b.recvmsg(srv, &rmsg, 0), 16);
  EXPECT_EQ(rmsg.msg_flags, 0);
  EXPECT_EQ(rmsg.msg_namelen, sizeof(sockaddr_in));
  EXPECT_EQ(ntohl(from.sin_addr.s_addr), kDgramA4.value);
  EXPECT_EQ(ntohs(from.sin_port), 7103);
  EXPECT_EQ(std::string(p1, 6) + std::string(p2, 10), "head-middle-tail");
  // writev is one datagram too.
  const int c2 = a.socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_EQ(a.connect(c2, csa(to), sizeof to), 0);
  ASSERT_EQ(a.writev(c2, out, 3), 16);
  settle();
  char buf[32];
  EXPECT_EQ(b.recv(srv, buf, sizeof buf, 0), 16);
}

TEST_F(DgramTest, ConnectFixesThePeerFiltersOthersAndAfUnspecDissolvesIt) {
  const int srv = bound(b, AF_INET, 7004);
  const int other = bound(b, AF_INET, 7005);
  const int cli = a.socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in peer{};
  socklen_t len = sizeof peer;
  EXPECT_EQ(a.getpeername(cli, msa(peer), &len), -1);
  EXPECT_EQ(errno, ENOTCONN);
  EXPECT_EQ(a.send(cli, "x", 1, 0), -1);
  EXPECT_EQ(errno, EDESTADDRREQ);  // Linux: no address and no peer
  const sockaddr_in to = in4(kDgramB4, 7004);
  ASSERT_EQ(a.connect(cli, csa(to), sizeof to), 0);
  EXPECT_EQ(a.getpeername(cli, msa(peer), &len), 0);
  EXPECT_EQ(ntohl(peer.sin_addr.s_addr), kDgramB4.value);
  EXPECT_EQ(ntohs(peer.sin_port), 7004);
  sockaddr_in self{};
  len = sizeof self;
  ASSERT_EQ(a.getsockname(cli, msa(self), &len), 0);
  EXPECT_EQ(ntohl(self.sin_addr.s_addr), kDgramA4.value);  // the source chosen for the peer
  const uint16_t cport = ntohs(self.sin_port);
  ASSERT_NE(cport, 0);
  ASSERT_EQ(a.write(cli, "to-peer", 7), 7);
  settle();
  char buf[32];
  EXPECT_EQ(b.recv(srv, buf, sizeof buf, 0), 7);
  // Only the peer is heard: a datagram from B's other port is dropped.
  const sockaddr_in back = in4(kDgramA4, cport);
  ASSERT_EQ(b.sendto(other, "stranger", 8, 0, csa(back), sizeof back), 8);
  ASSERT_EQ(b.sendto(srv, "peer", 4, 0, csa(back), sizeof back), 4);
  settle();
  EXPECT_EQ(a.read(cli, buf, sizeof buf), 4);
  EXPECT_EQ(std::string(buf, 4), "peer");
  EXPECT_EQ(a.read(cli, buf, sizeof buf), -1);
  EXPECT_EQ(errno, EAGAIN);
  // connect(AF_UNSPEC): no peer any more (Linux's udp_disconnect).
  sockaddr unspec{};
  unspec.sa_family = AF_UNSPEC;
  ASSERT_EQ(a.connect(cli, &unspec, sizeof unspec), 0);
  len = sizeof peer;
  EXPECT_EQ(a.getpeername(cli, msa(peer), &len), -1);
  EXPECT_EQ(errno, ENOTCONN);
  EXPECT_EQ(a.send(cli, "x", 1, 0), -1);
  EXPECT_EQ(errno, EDESTADDRREQ);
  // An explicitly bound socket keeps its port across AF_UNSPEC and hears everyone again.
  const int fixed = bound(a, AF_INET, 7105);
  ASSERT_EQ(a.connect(fixed, csa(to), sizeof to), 0);
  ASSERT_EQ(a.connect(fixed, &unspec, sizeof unspec), 0);
  EXPECT_EQ(port_of(a, fixed), 7105);
  const sockaddr_in fixed_addr = in4(kDgramA4, 7105);
  ASSERT_EQ(b.sendto(other, "anyone", 6, 0, csa(fixed_addr), sizeof fixed_addr), 6);
  settle();
  EXPECT_EQ(a.recv(fixed, buf, sizeof buf, 0), 6);
}

TEST_F(DgramTest, PortUnreachableBecomesEconnrefusedOnTheNextCallOnce) {
  const int cli = a.socket(AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in to = in4(kDgramB4, 9);  // nobody listens on B's port 9
  ASSERT_EQ(a.connect(cli, csa(to), sizeof to), 0);
  ASSERT_EQ(a.send(cli, "knock", 5, 0), 5);
  settle();  // B answers with ICMP port unreachable (RFC 1122 §4.1.3.1)
  EXPECT_EQ(a.poll_events(cli) & POLLERR, POLLERR);
  char buf[8];
  EXPECT_EQ(a.recv(cli, buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, ECONNREFUSED);  // RFC 1122 §4.1.3.3; Linux reports it once
  EXPECT_EQ(a.poll_events(cli) & POLLERR, 0);
  EXPECT_EQ(a.recv(cli, buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
  // The next one, on send this time; then SO_ERROR's reading of a third.
  ASSERT_EQ(a.send(cli, "knock", 5, 0), 5);
  settle();
  EXPECT_EQ(a.send(cli, "knock", 5, 0), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  // The ICMP limiter of B lets one error out per token; give it time to refill.
  net.advance(std::chrono::seconds(2));
  ASSERT_EQ(a.send(cli, "knock", 5, 0), 5);
  settle();
  int err = 0;
  socklen_t len = sizeof err;
  ASSERT_EQ(a.getsockopt(cli, SOL_SOCKET, SO_ERROR, &err, &len), 0);
  EXPECT_EQ(err, ECONNREFUSED);
  ASSERT_EQ(a.getsockopt(cli, SOL_SOCKET, SO_ERROR, &err, &len), 0);
  EXPECT_EQ(err, 0);  // taken by the first read
  // An unconnected socket is not told (Linux without IP_RECVERR).
  const int loose = a.socket(AF_INET, SOCK_DGRAM, 0);
  net.advance(std::chrono::seconds(2));
  ASSERT_EQ(a.sendto(loose, "knock", 5, 0, csa(to), sizeof to), 5);
  settle();
  EXPECT_EQ(a.recv(loose, buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST_F(DgramTest, PollReportsWritableAlwaysAndReadableWithADatagram) {
  const int srv = bound(b, AF_INET, 7006);
  EXPECT_EQ(b.poll_events(srv), POLLOUT | POLLWRNORM);
  const int fresh = a.socket(AF_INET, SOCK_DGRAM, 0);
  EXPECT_EQ(a.poll_events(fresh), POLLOUT | POLLWRNORM);  // no POLLHUP, unlike a TCP socket
  const sockaddr_in to = in4(kDgramB4, 7006);
  ASSERT_EQ(a.sendto(fresh, "x", 1, 0, csa(to), sizeof to), 1);
  settle();
  pollfd p{srv, POLLIN, 0};
  EXPECT_EQ(b.poll(&p, 1, 0), 1);
  EXPECT_EQ(p.revents, POLLIN);
  char c;
  EXPECT_EQ(b.recv(srv, &c, 1, MSG_PEEK), 1);
  EXPECT_EQ(b.poll_events(srv) & POLLIN, POLLIN);  // a peeked datagram is still there
  EXPECT_EQ(b.recv(srv, &c, 1, 0), 1);
  EXPECT_EQ(b.poll_events(srv) & POLLIN, 0);
}

TEST_F(DgramTest, SoRcvbufSizesTheReceiveQueueAndAFullQueueDrops) {
  const int srv = b.socket(AF_INET, SOCK_DGRAM, 0);
  const int small = 1000;  // Linux doubles it, then floors at 2304: 1152 bytes of payload here
  ASSERT_EQ(b.setsockopt(srv, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  int got = 0;
  socklen_t len = sizeof got;
  ASSERT_EQ(b.getsockopt(srv, SOL_SOCKET, SO_RCVBUF, &got, &len), 0);
  EXPECT_EQ(got, 2304);
  const sockaddr_in any = in4(Ipv4Addr(), 7007);
  ASSERT_EQ(b.bind(srv, csa(any), sizeof any), 0);
  const int cli = a.socket(AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in to = in4(kDgramB4, 7007);
  const std::string d = pattern(500, 'k');
  const uint64_t dropped = counter(net.b(), "udp.drop.queue-full");
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(a.sendto(cli, d.data(), d.size(), 0, csa(to), sizeof to), 500);
  }
  settle();
  EXPECT_EQ(counter(net.b(), "udp.drop.queue-full"), dropped + 1);  // 1500 > 1152
  char buf[600];
  EXPECT_EQ(b.recv(srv, buf, sizeof buf, 0), 500);
  EXPECT_EQ(b.recv(srv, buf, sizeof buf, 0), 500);
  EXPECT_EQ(b.recv(srv, buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
  // A UDP socket's default reads back as Linux's rmem_default.
  const int plain = b.socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_EQ(b.getsockopt(plain, SOL_SOCKET, SO_RCVBUF, &got, &len), 0);
  EXPECT_EQ(got, 212992);
}

TEST_F(DgramTest, LargestDatagramGoesInFragmentsAndOneByteMoreIsEmsgsize) {
  const int srv = bound(b, AF_INET, 7008);
  const int cli = a.socket(AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in to = in4(kDgramB4, 7008);
  const std::string max = pattern(65507, 'm');  // 65535 - 20 (IPv4) - 8 (UDP)
  ASSERT_EQ(a.sendto(cli, max.data(), max.size(), 0, csa(to), sizeof to), 65507);
  const std::string over = pattern(65508, 'o');
  EXPECT_EQ(a.sendto(cli, over.data(), over.size(), 0, csa(to), sizeof to), -1);
  EXPECT_EQ(errno, EMSGSIZE);
  const std::string huge(70000, 'h');
  EXPECT_EQ(a.sendto(cli, huge.data(), huge.size(), 0, csa(to), sizeof to), -1);
  EXPECT_EQ(errno, EMSGSIZE);
  settle();
  std::string got(70000, '\0');
  ASSERT_EQ(b.recv(srv, got.data(), got.size(), 0), 65507);
  got.resize(65507);
  EXPECT_EQ(got, max);
}

TEST_F(DgramTest, SoReuseaddrLetsTwoSocketsShareAPortAndTheLastBoundHears) {
  const int one = 1;
  const int first = b.socket(AF_INET, SOCK_DGRAM, 0);
  const int second = b.socket(AF_INET, SOCK_DGRAM, 0);
  const int third = b.socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_EQ(b.setsockopt(first, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
  ASSERT_EQ(b.setsockopt(second, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
  const sockaddr_in any = in4(Ipv4Addr(), 7012);
  ASSERT_EQ(b.bind(first, csa(any), sizeof any), 0);
  ASSERT_EQ(b.bind(second, csa(any), sizeof any), 0);
  EXPECT_EQ(b.bind(third, csa(any), sizeof any), -1);  // did not set it
  EXPECT_EQ(errno, EADDRINUSE);
  const int cli = a.socket(AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in to = in4(kDgramB4, 7012);
  ASSERT_EQ(a.sendto(cli, "hi", 2, 0, csa(to), sizeof to), 2);
  settle();
  char buf[4];
  EXPECT_EQ(b.recv(second, buf, sizeof buf, 0), 2);  // docs/udp.md: the one bound last
  EXPECT_EQ(b.recv(first, buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST_F(DgramTest, ErrnosAsLinux) {
  const int fd = a.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_UDP);
  ASSERT_GE(fd, 0);
  int v = 0;
  socklen_t len = sizeof v;
  ASSERT_EQ(a.getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len), 0);
  EXPECT_EQ(v, SOCK_DGRAM);
  ASSERT_EQ(a.getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len), 0);
  EXPECT_EQ(v, IPPROTO_UDP);
  EXPECT_EQ(a.fcntl(fd, F_GETFL, 0) & O_NONBLOCK, O_NONBLOCK);
  EXPECT_EQ(a.listen(fd, 1), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  EXPECT_EQ(a.accept(fd, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  const int one = 1;
  EXPECT_EQ(a.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), -1);
  EXPECT_EQ(errno, ENOPROTOOPT);
  char buf[4];
  EXPECT_EQ(a.recv(fd, buf, sizeof buf, 0), -1);  // nothing bound, nothing queued
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(a.recv(fd, nullptr, 4, 0), -1);
  EXPECT_EQ(errno, EFAULT);
  const sockaddr_in foreign = in4(Ipv4Addr(192, 0, 2, 1), 7009);
  EXPECT_EQ(a.bind(fd, csa(foreign), sizeof foreign), -1);
  EXPECT_EQ(errno, EADDRNOTAVAIL);
  const sockaddr_in mine = in4(kDgramA4, 7009);
  ASSERT_EQ(a.bind(fd, csa(mine), sizeof mine), 0);
  EXPECT_EQ(a.bind(fd, csa(mine), sizeof mine), -1);
  EXPECT_EQ(errno, EINVAL);  // a second bind
  const int fd2 = a.socket(AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in any = in4(Ipv4Addr(), 7009);
  EXPECT_EQ(a.bind(fd2, csa(any), sizeof any), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  // TCP and UDP ports are apart: a TCP socket takes the same port.
  const int tcp = a.socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(a.bind(tcp, csa(any), sizeof any), 0);
  const sockaddr_in to = in4(kDgramB4, 7010);
  EXPECT_EQ(a.sendto(fd, "x", 1, MSG_OOB, csa(to), sizeof to), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  const sockaddr_in port0 = in4(kDgramB4, 0);
  EXPECT_EQ(a.sendto(fd, "x", 1, 0, csa(port0), sizeof port0), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(a.sendto(fd, "x", 1, 0, csa(to), sizeof to - 1), -1);
  EXPECT_EQ(errno, EINVAL);  // shorter than a sockaddr_in
  const sockaddr_in6 six = in6(kDgramB6, 7010);
  EXPECT_EQ(a.sendto(fd, "x", 1, 0, csa(six), sizeof six), -1);
  EXPECT_EQ(errno, EAFNOSUPPORT);
  EXPECT_EQ(a.shutdown(fd, SHUT_WR), -1);
  EXPECT_EQ(errno, ENOTCONN);  // unconnected (Linux sets the flag all the same)
  EXPECT_EQ(a.sendto(fd, "x", 1, 0, csa(to), sizeof to), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(a.close(fd), 0);
  EXPECT_EQ(a.recv(fd, buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, EBADF);
  // The port is free again.
  const int fd3 = a.socket(AF_INET, SOCK_DGRAM, 0);
  EXPECT_EQ(a.bind(fd3, csa(mine), sizeof mine), 0);
}

// A host whose wait() moves the simulated network on; it gives up after `limit` waits.
class SimHost final : public SocketHost {
 public:
  SimHost(test::SimNet& net, int limit) : net_(net), limit_(limit) {}
  Instant now() override { return net_.now(); }
  bool wait(Instant deadline) override {
    if (++waits > limit_) return false;
    net_.step(std::min(deadline, net_.now() + std::chrono::milliseconds(10)));
    return true;
  }
  int waits = 0;

 private:
  test::SimNet& net_;
  int limit_;
};

TEST_F(DgramTest, BlockingRecvWaitsForTheDatagramUnlessToldNotTo) {
  SimHost host(net, 100);
  Sockets blocking(net.a(), &host);
  const int fd = bound(blocking, AF_INET, 7011);
  const int peer = b.socket(AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in to = in4(kDgramA4, 7011);
  ASSERT_EQ(b.sendto(peer, "wake up", 7, 0, csa(to), sizeof to), 7);  // still on B's side
  char buf[16];
  EXPECT_EQ(blocking.recv(fd, buf, sizeof buf, 0), 7);  // waits until it has come
  EXPECT_EQ(std::string(buf, 7), "wake up");
  EXPECT_GT(host.waits, 0);
  const int before = host.waits;
  EXPECT_EQ(blocking.recv(fd, buf, sizeof buf, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
  ASSERT_EQ(blocking.fcntl(fd, F_SETFL, O_NONBLOCK), 0);
  EXPECT_EQ(blocking.recv(fd, buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(host.waits, before);  // neither waited
  // Blocking again, with nothing coming: the host gives up and the call says EINTR.
  ASSERT_EQ(blocking.fcntl(fd, F_SETFL, 0), 0);
  EXPECT_EQ(blocking.recv(fd, buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, EINTR);
}

}  // namespace
}  // namespace utcp::posix
