// SPDX-License-Identifier: BSD-2-Clause
// The POSIX facade over a Stack: descriptors, errno values, poll bits and options, checked
// against a second stack on a simulated link (virtual clock, fixed secrets).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "sockets_fixture.hpp"

namespace utcp::posix {
namespace {

TEST_F(SocketsTest, DescriptorsStartAtThreeAndReuseTheLowest) {
  EXPECT_EQ(a.socket(AF_INET, SOCK_STREAM, 0), 3);
  EXPECT_EQ(a.socket(AF_INET, SOCK_STREAM, IPPROTO_TCP), 4);
  EXPECT_EQ(a.socket(AF_INET, SOCK_STREAM, 0), 5);
  EXPECT_EQ(a.close(4), 0);
  EXPECT_EQ(a.socket(AF_INET, SOCK_STREAM, 0), 4);
  EXPECT_EQ(a.close(4), 0);
  EXPECT_EQ(a.close(4), -1);
  EXPECT_EQ(errno, EBADF);
}

TEST_F(SocketsTest, SocketRejectsWhatItCannotBe) {
  EXPECT_EQ(a.socket(AF_UNIX, SOCK_STREAM, 0), -1);  // AF_INET6: see ipv6_sockets_test.cpp
  EXPECT_EQ(errno, EAFNOSUPPORT);
  EXPECT_EQ(a.socket(AF_INET, SOCK_RAW, 0), -1);  // SOCK_DGRAM: see dgram_test.cpp
  EXPECT_EQ(errno, EPROTONOSUPPORT);
  EXPECT_EQ(a.socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP), -1);
  EXPECT_EQ(errno, EPROTONOSUPPORT);
  EXPECT_EQ(a.socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), -1);
  EXPECT_EQ(errno, EPROTONOSUPPORT);
  const int fd = a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  EXPECT_EQ(a.fcntl(fd, F_GETFL, 0) & O_NONBLOCK, O_NONBLOCK);
}

TEST_F(SocketsTest, BadDescriptorsGiveEbadf) {
  char buf[4];
  EXPECT_EQ(a.read(42, buf, sizeof buf), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(a.write(-1, buf, sizeof buf), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(a.listen(7, 1), -1);
  EXPECT_EQ(errno, EBADF);
  pollfd p{42, POLLIN, 0};
  EXPECT_EQ(a.poll(&p, 1, 0), 1);
  EXPECT_EQ(p.revents, POLLNVAL);
}

TEST_F(SocketsTest, BindChecksAddressFamilyAndConflicts) {
  const int s1 = a.socket(AF_INET, SOCK_STREAM, 0);
  const int s2 = a.socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in other = addr(wire::Ipv4Addr(10, 9, 9, 9), 80);
  EXPECT_EQ(a.bind(s1, sa(other), sizeof other), -1);
  EXPECT_EQ(errno, EADDRNOTAVAIL);
  sockaddr_in wrong = addr(net.a().config().address, 80);
  wrong.sin_family = AF_UNIX;
  EXPECT_EQ(a.bind(s1, sa(wrong), sizeof wrong), -1);
  EXPECT_EQ(errno, EAFNOSUPPORT);
  const sockaddr_in mine = addr(net.a().config().address, 80);
  EXPECT_EQ(a.bind(s1, sa(mine), 4), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(a.bind(s1, sa(mine), sizeof mine), 0);
  EXPECT_EQ(a.bind(s1, sa(mine), sizeof mine), -1);  // already bound
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(a.bind(s2, sa(mine), sizeof mine), -1);
  EXPECT_EQ(errno, EADDRINUSE);
}

TEST_F(SocketsTest, UnconnectedSocketErrorsMatchLinux) {
  const int fd = a.socket(AF_INET, SOCK_STREAM, 0);
  char buf[8] = {};
  EXPECT_EQ(a.read(fd, buf, sizeof buf), -1);
  EXPECT_EQ(errno, ENOTCONN);
  EXPECT_EQ(a.write(fd, buf, sizeof buf), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(a.shutdown(fd, SHUT_WR), -1);
  EXPECT_EQ(errno, ENOTCONN);
  EXPECT_EQ(a.accept(fd, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(a.poll_events(fd), POLLOUT | POLLWRNORM | POLLHUP);
}

TEST_F(SocketsTest, DataBothWaysAndEndOfStream) {
  auto [c, s] = connected_pair();
  EXPECT_EQ(a.poll_events(c) & (POLLOUT | POLLIN), POLLOUT);
  const char msg[] = "hello, utcp";
  EXPECT_EQ(a.write(c, msg, sizeof msg), static_cast<ssize_t>(sizeof msg));
  settle();
  EXPECT_EQ(b.poll_events(s) & POLLIN, POLLIN);
  char buf[64] = {};
  EXPECT_EQ(b.read(s, buf, sizeof buf), static_cast<ssize_t>(sizeof msg));
  EXPECT_STREQ(buf, msg);
  EXPECT_EQ(b.read(s, buf, sizeof buf), -1);
  EXPECT_EQ(errno, EAGAIN);

  iovec out[2] = {{const_cast<char*>("ab"), 2}, {const_cast<char*>("cde"), 3}};
  EXPECT_EQ(b.writev(s, out, 2), 5);
  settle();
  char x[2], y[8];
  iovec in[2] = {{x, 2}, {y, 8}};
  EXPECT_EQ(a.readv(c, in, 2), 5);
  EXPECT_EQ(std::memcmp(x, "ab", 2), 0);
  EXPECT_EQ(std::memcmp(y, "cde", 3), 0);

  EXPECT_EQ(b.shutdown(s, SHUT_WR), 0);
  settle();
  EXPECT_EQ(a.poll_events(c) & (POLLIN | POLLRDHUP), POLLIN | POLLRDHUP);
  EXPECT_EQ(a.read(c, buf, sizeof buf), 0);
  EXPECT_EQ(b.write(s, msg, 1), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(a.close(c), 0);
  EXPECT_EQ(b.close(s), 0);
  settle();
}

TEST_F(SocketsTest, ConnectToClosedPortReportsRefusedOnce) {
  const int c = a.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in to = addr(net.b().config().address, 9);
  EXPECT_EQ(a.connect(c, sa(to), sizeof to), -1);
  EXPECT_EQ(errno, EINPROGRESS);
  EXPECT_EQ(a.connect(c, sa(to), sizeof to), -1);
  EXPECT_EQ(errno, EALREADY);
  settle();
  EXPECT_TRUE(a.poll_events(c) & POLLERR);
  int err = -1;
  socklen_t len = sizeof err;
  EXPECT_EQ(a.getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len), 0);
  EXPECT_EQ(err, ECONNREFUSED);
  EXPECT_EQ(a.getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len), 0);
  EXPECT_EQ(err, 0);  // reported once, as Linux clears sk_err
  EXPECT_FALSE(a.poll_events(c) & POLLERR);
}

TEST_F(SocketsTest, ResetReportsEconnresetThenEndOfStream) {
  auto [c, s] = connected_pair();
  const linger l{1, 0};
  EXPECT_EQ(b.setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof l), 0);
  EXPECT_EQ(b.close(s), 0);  // abortive close: RST
  settle();
  char buf[8];
  EXPECT_EQ(a.read(c, buf, sizeof buf), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_EQ(a.read(c, buf, sizeof buf), 0);
  EXPECT_EQ(a.write(c, buf, 1), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(a.poll_events(c) & POLLHUP, POLLHUP);
}

TEST_F(SocketsTest, OptionsAppliedOrRefused) {
  auto [c, s] = connected_pair();
  int one = 1, v = 0;
  socklen_t len = sizeof v;
  EXPECT_EQ(a.setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
  EXPECT_EQ(a.getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
  EXPECT_EQ(v, 1);
  EXPECT_EQ(a.getsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
  EXPECT_EQ(static_cast<size_t>(v), net.a().config().tcp.recv_buffer);
  // Per-socket options reach the connection and read back.
  int buf_bytes = 65536, idle = 30, timeout_ms = 5000;
  EXPECT_EQ(a.setsockopt(c, SOL_SOCKET, SO_RCVBUF, &buf_bytes, sizeof buf_bytes), 0);
  EXPECT_EQ(a.getsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
  EXPECT_EQ(v, 2 * 65536);  // Linux reports the doubled value (see send_controls_test)
  EXPECT_EQ(a.setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one), 0);
  EXPECT_EQ(a.setsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle), 0);
  EXPECT_EQ(a.getsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &v, &len), 0);
  EXPECT_EQ(v, 1);
  EXPECT_EQ(a.getsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &v, &len), 0);
  EXPECT_EQ(v, 30);
  EXPECT_EQ(a.setsockopt(c, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout_ms, sizeof timeout_ms), 0);
  EXPECT_EQ(a.getsockopt(c, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, &len), 0);
  EXPECT_EQ(v, 5000);
  int zero = 0;
  EXPECT_EQ(a.setsockopt(c, IPPROTO_TCP, TCP_KEEPCNT, &zero, sizeof zero), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(a.setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, 1), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(a.getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &v, &len), 0);
  EXPECT_EQ(static_cast<uint32_t>(v), net.a().tcp_info(a.socket_id(c))->snd_mss);
  TcpInfo info;
  socklen_t ilen = sizeof info;
  EXPECT_EQ(a.getsockopt(c, IPPROTO_TCP, TCP_INFO, &info, &ilen), 0);
  EXPECT_EQ(info.tcpi_state, 1);  // TCP_ESTABLISHED
  EXPECT_EQ(info.tcpi_remote_port, 80u);
  EXPECT_GT(info.stats.cwnd, 0u);  // the engine's statistics come along
  EXPECT_GT(info.stats.snd_mss, 0u);
  EXPECT_GT(info.stats.srtt_us + info.stats.rto_us, 0u);
  EXPECT_EQ(a.getsockopt(c, SOL_SOCKET, 12345, &v, &len), -1);
  EXPECT_EQ(errno, ENOPROTOOPT);
}

TEST_F(SocketsTest, FcntlAndIoctlSwitchNonBlocking) {
  const int fd = a.socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(a.fcntl(fd, F_GETFL, 0), O_RDWR);
  EXPECT_EQ(a.fcntl(fd, F_SETFL, O_RDWR | O_NONBLOCK), 0);
  EXPECT_EQ(a.fcntl(fd, F_GETFL, 0), O_RDWR | O_NONBLOCK);
  int off = 0;
  EXPECT_EQ(a.ioctl(fd, FIONBIO, &off), 0);
  EXPECT_EQ(a.fcntl(fd, F_GETFL, 0), O_RDWR);
  EXPECT_EQ(a.fcntl(fd, 9999, 0), -1);
  EXPECT_EQ(errno, EINVAL);
}

// A host whose wait() advances the simulated network: blocking calls then complete.
class SimHost final : public SocketHost {
 public:
  explicit SimHost(test::SimNet& net) : net_(net) {}
  Instant now() override { return net_.now(); }
  bool wait(Instant deadline) override {
    ++waits;
    if (net_.now() >= deadline || waits > 10000) return false;
    net_.step(deadline);
    return true;
  }
  int waits = 0;

 private:
  test::SimNet& net_;
};

TEST_F(SocketsTest, BlockingCallsWaitThroughTheHost) {
  SimHost host(net);
  Sockets blocking(net.a(), &host);
  const int l = b.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in any = addr(wire::Ipv4Addr(), 81);
  ASSERT_EQ(b.bind(l, sa(any), sizeof any), 0);
  ASSERT_EQ(b.listen(l, 4), 0);
  const int c = blocking.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in to = addr(net.b().config().address, 81);
  EXPECT_EQ(blocking.connect(c, sa(to), sizeof to), 0);  // waits for the handshake
  EXPECT_GT(host.waits, 0);
  // poll() with a timeout returns 0 after that much virtual time.
  pollfd p{c, POLLIN, 0};
  const Instant before = net.now();
  EXPECT_EQ(blocking.poll(&p, 1, 300), 0);
  EXPECT_GE(net.now() - before, milliseconds(300));
}

}  // namespace
}  // namespace utcp::posix
