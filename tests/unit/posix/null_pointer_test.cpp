// SPDX-License-Identifier: BSD-2-Clause
// Null pointers handed to the POSIX facade and the Stack API: every call that takes a pointer
// with a length fails with EFAULT (std::errc::bad_address) rather than copying from or to NULL,
// and leaves the connection as it was.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <span>
#include <string>

#include "sockets_fixture.hpp"

namespace utcp::posix {
namespace {

// The call fails with -1 and errno EFAULT.
#define EXPECT_EFAULT(call)   \
  do {                        \
    errno = 0;                \
    EXPECT_EQ((call), -1);    \
    EXPECT_EQ(errno, EFAULT); \
  } while (0)

TEST_F(SocketsTest, NullBuffersOnTheSendSideAreEfaultAndSendNothing) {
  auto [c, s] = connected_pair();
  EXPECT_EFAULT(a.write(c, nullptr, 1000));
  EXPECT_EFAULT(a.send(c, nullptr, 1000, 0));
  EXPECT_EFAULT(a.send(c, nullptr, 1000, MSG_OOB));
  EXPECT_EFAULT(a.sendto(c, nullptr, 1000, 0, nullptr, 0));
  EXPECT_EFAULT(a.writev(c, nullptr, 2));
  char ok[4] = {'a', 'b', 'c', 'd'};
  iovec one_null[2] = {{ok, sizeof ok}, {nullptr, 1000}};
  EXPECT_EFAULT(a.writev(c, one_null, 2));
  msghdr msg{};
  msg.msg_iovlen = 1;  // msg_iov stays NULL
  EXPECT_EFAULT(a.sendmsg(c, &msg, 0));
  EXPECT_EFAULT(a.sendmsg(c, nullptr, 0));
  msg.msg_iov = one_null;
  msg.msg_iovlen = IOV_MAX + 1;
  errno = 0;
  EXPECT_EQ(a.sendmsg(c, &msg, 0), -1);
  EXPECT_EQ(errno, EMSGSIZE);
  // Length 0: nothing to copy, no error (as Linux).
  EXPECT_EQ(a.write(c, nullptr, 0), 0);
  settle();
  EXPECT_EQ(net.b().recv_available(b.socket_id(s)), 0u);
  // Not a byte went out; the connection still carries data.
  EXPECT_EQ(a.write(c, ok, sizeof ok), 4);
  settle();
  char buf[16] = {};
  EXPECT_EQ(b.read(s, buf, sizeof buf), 4);
  EXPECT_EQ(std::string(buf, 4), "abcd");
}

TEST_F(SocketsTest, NullBuffersOnTheReceiveSideAreEfaultAndLoseNoData) {
  auto [c, s] = connected_pair();
  const char msg[] = "hello";
  ASSERT_EQ(a.write(c, msg, 5), 5);
  settle();
  EXPECT_EFAULT(b.read(s, nullptr, 100));
  EXPECT_EFAULT(b.recv(s, nullptr, 100, 0));
  EXPECT_EFAULT(b.recvfrom(s, nullptr, 100, 0, nullptr, nullptr));
  char buf[16] = {};
  sockaddr_in from{};
  // An address to fill in but no length to say how much room it has.
  EXPECT_EFAULT(b.recvfrom(s, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), nullptr));
  EXPECT_EFAULT(b.readv(s, nullptr, 1));
  iovec one_null[2] = {{buf, 2}, {nullptr, 100}};
  EXPECT_EFAULT(b.readv(s, one_null, 2));
  msghdr m{};
  m.msg_iovlen = 1;
  EXPECT_EFAULT(b.recvmsg(s, &m, 0));
  EXPECT_EQ(b.read(s, nullptr, 0), 0);
  // Everything is still there.
  EXPECT_EQ(b.read(s, buf, sizeof buf), 5);
  EXPECT_EQ(std::string(buf, 5), "hello");
}

TEST_F(SocketsTest, NullOptionValuesAddressesAndListsAreEfault) {
  auto [c, s] = connected_pair();
  EXPECT_EFAULT(a.setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, nullptr, sizeof(int)));
  EXPECT_EFAULT(a.setsockopt(c, IPPROTO_TCP, TCP_NODELAY, nullptr, sizeof(int)));
  EXPECT_EFAULT(a.setsockopt(c, SOL_SOCKET, SO_LINGER, nullptr, sizeof(linger)));
  int v = 0;
  socklen_t len = sizeof v;
  EXPECT_EFAULT(a.getsockopt(c, SOL_SOCKET, SO_TYPE, nullptr, &len));
  EXPECT_EFAULT(a.getsockopt(c, SOL_SOCKET, SO_TYPE, &v, nullptr));
  EXPECT_EFAULT(a.getsockopt(c, IPPROTO_TCP, TCP_INFO, nullptr, &len));
  EXPECT_EFAULT(a.ioctl(c, FIONREAD, nullptr));
  EXPECT_EFAULT(a.ioctl(c, FIONBIO, nullptr));
  EXPECT_EFAULT(a.poll(nullptr, 1, 0));
  EXPECT_EQ(a.poll(nullptr, 0, 0), 0);  // nothing to look at: no pointer needed
  // Addresses: NULL with a length is EFAULT, NULL without one EINVAL (Linux's order).
  const int f = a.socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_EFAULT(a.bind(f, nullptr, sizeof(sockaddr_in)));
  EXPECT_EFAULT(a.connect(f, nullptr, sizeof(sockaddr_in)));
  errno = 0;
  EXPECT_EQ(a.bind(f, nullptr, 0), -1);
  EXPECT_EQ(errno, EINVAL);
  const int l = b.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in any = addr(wire::Ipv4Addr(), 81);
  ASSERT_EQ(b.bind(l, sa(any), sizeof any), 0);
  ASSERT_EQ(b.listen(l, 4), 0);
  sockaddr_in peer{};
  EXPECT_EFAULT(b.accept(l, reinterpret_cast<sockaddr*>(&peer), nullptr));
  // The options and the connection are as they were.
  len = sizeof v;
  EXPECT_EQ(a.getsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &v, &len), 0);
  EXPECT_EQ(v, 0);
  EXPECT_EQ(a.write(c, "x", 1), 1);
  settle();
  char buf[4];
  EXPECT_EQ(b.read(s, buf, sizeof buf), 1);
}

TEST_F(SocketsTest, StackApiRejectsASpanWithoutStorage) {
  auto [c, s] = connected_pair();
  Stack& st = net.a();
  const SocketId id = a.socket_id(c);
  std::error_code ec;
  EXPECT_EQ(st.send(id, std::span<const uint8_t>(static_cast<const uint8_t*>(nullptr), 1000), ec),
            0u);
  EXPECT_EQ(ec, std::errc::bad_address);
  ec.clear();
  EXPECT_EQ(
      st.send_urgent(id, std::span<const uint8_t>(static_cast<const uint8_t*>(nullptr), 10), ec),
      0u);
  EXPECT_EQ(ec, std::errc::bad_address);
  ec.clear();
  EXPECT_EQ(st.send(id, std::span<const uint8_t>(), ec), 0u);  // empty: nothing to reject
  EXPECT_FALSE(ec);
  ASSERT_EQ(b.write(s, "data", 4), 4);
  settle();
  EXPECT_EQ(st.recv(id, std::span<uint8_t>(static_cast<uint8_t*>(nullptr), 100), ec), 0u);
  EXPECT_EQ(ec, std::errc::bad_address);
  // Nothing was queued or consumed.
  EXPECT_EQ(st.send_unacked(id), 0u);
  EXPECT_EQ(st.recv_available(id), 4u);
  uint8_t buf[8];
  EXPECT_EQ(st.recv(id, buf, ec), 4u);
  EXPECT_FALSE(ec);
}

#undef EXPECT_EFAULT

}  // namespace
}  // namespace utcp::posix
