// SPDX-License-Identifier: BSD-2-Clause
// The facade's ioctl() queue sizes (FIONREAD/SIOCINQ, SIOCOUTQ, SIOCOUTQNSD) and urgent data
// with Linux's SO_OOBINLINE semantics (send/recv MSG_OOB, SIOCATMARK, POLLPRI), and the iovec
// cursor that readv/writev share.
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <cstring>
#include <string>

#include "posix/iovec_cursor.hpp"
#include "sockets_fixture.hpp"

namespace utcp::posix {
namespace {

int ioctl_int(Sockets& s, int fd, unsigned long request) {
  int v = -1;
  EXPECT_EQ(s.ioctl(fd, request, &v), 0) << request;
  return v;
}

TEST_F(SocketsTest, QueueSizesAsLinux) {
  const int fresh = a.socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(ioctl_int(a, fresh, FIONREAD), 0);
  EXPECT_EQ(ioctl_int(a, fresh, SIOCOUTQ), 0);
  int v = 0;
  EXPECT_EQ(a.ioctl(fresh, SIOCINQ, nullptr), -1);
  EXPECT_EQ(errno, EFAULT);
  EXPECT_EQ(a.ioctl(fresh, 0x12345, &v), -1);
  EXPECT_EQ(errno, ENOTTY);
  EXPECT_EQ(a.ioctl(99, FIONREAD, &v), -1);
  EXPECT_EQ(errno, EBADF);

  auto [c, s] = connected_pair();
  // Linux's tcp_ioctl(): the queue sizes of a listener are EINVAL.
  const int l = 3;  // connected_pair's listener on B
  EXPECT_EQ(b.ioctl(l, SIOCINQ, &v), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(b.ioctl(l, SIOCOUTQ, &v), -1);
  EXPECT_EQ(errno, EINVAL);

  // More than the initial window (RFC 6928: 10 segments): part waits unsent.
  const std::string data(30000, 'q');
  ASSERT_EQ(a.write(c, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  EXPECT_EQ(ioctl_int(a, c, SIOCOUTQ), 30000);      // nothing acknowledged yet
  EXPECT_EQ(ioctl_int(a, c, TIOCOUTQ), 30000);      // the same request number
  const int unsent = ioctl_int(a, c, SIOCOUTQNSD);  // less what the window let out
  EXPECT_GT(unsent, 0);
  EXPECT_LT(unsent, 30000);
  EXPECT_EQ(ioctl_int(a, c, FIONREAD), 0);
  net.advance(milliseconds(500));
  EXPECT_EQ(ioctl_int(a, c, SIOCOUTQ), 0);  // all acknowledged
  EXPECT_EQ(ioctl_int(a, c, SIOCOUTQNSD), 0);
  EXPECT_EQ(ioctl_int(b, s, FIONREAD), 30000);
  EXPECT_EQ(ioctl_int(b, s, SIOCINQ), 30000);
  char buf[1000];
  ASSERT_EQ(b.read(s, buf, sizeof buf), 1000);
  EXPECT_EQ(ioctl_int(b, s, FIONREAD), 29000);
}

TEST_F(SocketsTest, UrgentDataIsInlineAsWithSoOobinline) {
  auto [c, s] = connected_pair();
  int v = 0;
  socklen_t len = sizeof v;
  EXPECT_EQ(b.getsockopt(s, SOL_SOCKET, SO_OOBINLINE, &v, &len), 0);
  EXPECT_EQ(v, 1);
  int off = 0, on = 1;
  EXPECT_EQ(b.setsockopt(s, SOL_SOCKET, SO_OOBINLINE, &off, sizeof off), -1);
  EXPECT_EQ(errno, ENOPROTOOPT);
  EXPECT_EQ(b.setsockopt(s, SOL_SOCKET, SO_OOBINLINE, &on, sizeof on), 0);

  ASSERT_EQ(a.write(c, "hello ", 6), 6);
  ASSERT_EQ(a.send(c, "ab!", 3, MSG_OOB), 3);  // '!' is the last urgent byte
  ASSERT_EQ(a.write(c, "tail", 4), 4);
  settle();
  pollfd p{s, POLLIN | POLLPRI, 0};
  EXPECT_EQ(b.poll(&p, 1, 0), 1);
  EXPECT_EQ(p.revents & (POLLIN | POLLPRI), POLLIN | POLLPRI);
  EXPECT_EQ(ioctl_int(b, s, FIONREAD), 13);  // urgent bytes count like any other
  EXPECT_EQ(ioctl_int(b, s, SIOCATMARK), 0);
  char buf[64] = {};
  EXPECT_EQ(b.recv(s, buf, sizeof buf, MSG_OOB), -1);  // no out-of-band byte to fetch
  EXPECT_EQ(errno, EINVAL);
  // The read stops just before the last urgent byte (the mark)...
  ASSERT_EQ(b.read(s, buf, sizeof buf), 8);
  EXPECT_EQ(std::string(buf, 8), "hello ab");
  EXPECT_EQ(ioctl_int(b, s, SIOCATMARK), 1);
  // ...and the next one starts with it and goes on past it.
  ASSERT_EQ(b.read(s, buf, sizeof buf), 5);
  EXPECT_EQ(std::string(buf, 5), "!tail");
  EXPECT_EQ(ioctl_int(b, s, SIOCATMARK), 0);
  EXPECT_EQ(b.poll(&p, 1, 0), 0);  // POLLPRI is gone with the urgent data
  // MSG_OOB on a listener is ENOTCONN, as Linux's tcp_recvmsg checks LISTEN first.
  EXPECT_EQ(b.recv(3, buf, sizeof buf, MSG_OOB), -1);
  EXPECT_EQ(errno, ENOTCONN);
}

TEST_F(SocketsTest, SendmsgOobMarksTheEndOfAllIovecs) {
  auto [c, s] = connected_pair();
  char one[] = "abc", two[] = "defg";
  iovec iov[] = {{one, 3}, {nullptr, 0}, {two, 4}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 3;
  ASSERT_EQ(a.sendmsg(c, &msg, MSG_OOB), 7);
  settle();
  EXPECT_EQ(net.b().urgent_mark(b.socket_id(s)), std::optional<size_t>(7));
  char x[4] = {}, y[8] = {};
  iovec in[] = {{x, 4}, {y, 8}};
  EXPECT_EQ(b.readv(s, in, 2), 6);  // readv stops at the mark too, across its iovecs
  EXPECT_EQ(std::string(x, 4) + std::string(y, 2), "abcdef");
}

TEST(IovecCursor, WalksPiecesSkippingEmptyOnes) {
  char p[3], q[5];
  const iovec iov[] = {{nullptr, 0}, {p, 3}, {nullptr, 0}, {q, 5}};
  IovecCursor cur(iov, 4);
  EXPECT_EQ(cur.total(), 8u);
  EXPECT_FALSE(cur.done());
  EXPECT_EQ(cur.chunk().data(), reinterpret_cast<uint8_t*>(p));
  EXPECT_EQ(cur.chunk(2).size(), 2u);
  cur.advance(2);
  EXPECT_EQ(cur.chunk().size(), 1u);
  cur.advance(1);
  EXPECT_EQ(cur.chunk().data(), reinterpret_cast<uint8_t*>(q));
  cur.advance(5);
  EXPECT_TRUE(cur.done());
  EXPECT_TRUE(cur.chunk().empty());
  IovecCursor none(iov, 0);
  EXPECT_TRUE(none.done());
  EXPECT_EQ(none.total(), 0u);
}

}  // namespace
}  // namespace utcp::posix
