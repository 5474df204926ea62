// SPDX-License-Identifier: BSD-2-Clause
// Linux's send-side socket options through the facade: SO_SNDBUF / SO_RCVBUF read back doubled
// with Linux's clamps (and the send buffer is what was asked, pinned against autotuning),
// TCP_CORK and MSG_MORE hold a short segment (until uncorked, the next plain send, or the
// 200 ms ceiling), TCP_NOTSENT_LOWAT bounds unsent bytes and POLLOUT.
#include <netinet/tcp.h>
#include <poll.h>

#include <vector>

#include "sockets_fixture.hpp"

namespace utcp::posix {
namespace {

int get_int_opt(Sockets& s, int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  EXPECT_EQ(s.getsockopt(fd, level, name, &v, &len), 0);
  return v;
}

void set_int_opt(Sockets& s, int fd, int level, int name, int v) {
  EXPECT_EQ(s.setsockopt(fd, level, name, &v, sizeof v), 0);
}

// Bytes B can read now (non-blocking; 0 when none).
size_t drain(Sockets& s, int fd) {
  std::vector<char> buf(1 << 16);
  size_t got = 0;
  for (;;) {
    const ssize_t n = s.recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n <= 0) return got;
    got += static_cast<size_t>(n);
  }
}

using SendControlsTest = SocketsTest;

TEST_F(SendControlsTest, BufferSizesReadBackDoubledWithLinuxClamps) {
  auto [c, s] = connected_pair();
  set_int_opt(a, c, SOL_SOCKET, SO_SNDBUF, 65536);
  EXPECT_EQ(get_int_opt(a, c, SOL_SOCKET, SO_SNDBUF), 131072);
  set_int_opt(a, c, SOL_SOCKET, SO_RCVBUF, 50000);
  EXPECT_EQ(get_int_opt(a, c, SOL_SOCKET, SO_RCVBUF), 100000);
  // Floors: SOCK_MIN_SNDBUF 4608, SOCK_MIN_RCVBUF 2304 (also for 0 and negative values).
  set_int_opt(a, c, SOL_SOCKET, SO_SNDBUF, 1);
  EXPECT_EQ(get_int_opt(a, c, SOL_SOCKET, SO_SNDBUF), 4608);
  set_int_opt(a, c, SOL_SOCKET, SO_RCVBUF, -5);
  EXPECT_EQ(get_int_opt(a, c, SOL_SOCKET, SO_RCVBUF), 2304);
  // Ceiling: net.core.wmem_max / rmem_max (212992), doubled.
  set_int_opt(a, c, SOL_SOCKET, SO_SNDBUF, 1 << 30);
  EXPECT_EQ(get_int_opt(a, c, SOL_SOCKET, SO_SNDBUF), 425984);
  set_int_opt(a, c, SOL_SOCKET, SO_RCVBUF, 1 << 30);
  EXPECT_EQ(get_int_opt(a, c, SOL_SOCKET, SO_RCVBUF), 425984);
  (void)s;
}

TEST_F(SendControlsTest, SndbufGivesTheBufferAskedForAndStopsAutotuning) {
  auto [c, s] = connected_pair();
  set_int_opt(a, c, SOL_SOCKET, SO_SNDBUF, 10000);
  std::vector<char> big(200000, 'x');
  // The peer does not read: the send buffer alone bounds what send() takes.
  EXPECT_EQ(a.send(c, big.data(), big.size(), MSG_DONTWAIT), 10000);
  size_t total = 10000;
  for (int i = 0; i < 50; ++i) {
    settle();
    total += drain(b, s);
    const ssize_t n = a.send(c, big.data(), big.size(), MSG_DONTWAIT);
    if (n > 0) {
      // Autotuning would have grown the buffer past 10000 by now.
      EXPECT_LE(n, 10000);
    }
  }
  EXPECT_GT(total, 10000u);
}

TEST_F(SendControlsTest, CorkHoldsAShortSegmentUntilUncorked) {
  auto [c, s] = connected_pair();
  const int mss = get_int_opt(a, c, IPPROTO_TCP, TCP_MAXSEG);
  ASSERT_GT(mss, 1000);
  set_int_opt(a, c, IPPROTO_TCP, TCP_CORK, 1);
  EXPECT_EQ(get_int_opt(a, c, IPPROTO_TCP, TCP_CORK), 1);
  std::vector<char> data(3000, 'c');
  EXPECT_EQ(a.send(c, data.data(), data.size(), 0), 3000);
  net.advance(milliseconds(100));
  // Full segments go; the short tail waits for more.
  EXPECT_EQ(drain(b, s), 2u * mss);
  EXPECT_EQ(a.send(c, data.data(), 100, 0), 100);
  net.advance(milliseconds(50));
  EXPECT_EQ(drain(b, s), 0u);
  set_int_opt(a, c, IPPROTO_TCP, TCP_CORK, 0);
  net.advance(milliseconds(10));
  EXPECT_EQ(drain(b, s), 3100u - 2u * mss);
}

TEST_F(SendControlsTest, CorkedTailGoesAfterThe200msCeiling) {
  auto [c, s] = connected_pair();
  set_int_opt(a, c, IPPROTO_TCP, TCP_CORK, 1);
  EXPECT_EQ(a.send(c, "hello", 5, 0), 5);
  net.advance(milliseconds(190));
  EXPECT_EQ(drain(b, s), 0u);
  net.advance(milliseconds(20));
  EXPECT_EQ(drain(b, s), 5u);
  EXPECT_EQ(get_int_opt(a, c, IPPROTO_TCP, TCP_CORK), 1);  // still corked for what follows
}

TEST_F(SendControlsTest, MsgMoreHoldsTheTailUntilAPlainSend) {
  auto [c, s] = connected_pair();
  EXPECT_EQ(a.send(c, "head", 4, MSG_MORE), 4);
  net.advance(milliseconds(100));
  EXPECT_EQ(drain(b, s), 0u);
  EXPECT_EQ(a.send(c, "tail", 4, 0), 4);
  net.advance(milliseconds(10));
  EXPECT_EQ(drain(b, s), 8u);
}

TEST_F(SendControlsTest, MsgMoreTailGoesAfterTheCeilingAndCorkNeverHoldsTheFin) {
  auto [c, s] = connected_pair();
  EXPECT_EQ(a.send(c, "more", 4, MSG_MORE), 4);
  net.advance(milliseconds(190));
  EXPECT_EQ(drain(b, s), 0u);
  net.advance(milliseconds(20));
  EXPECT_EQ(drain(b, s), 4u);
  // Corked, then shut down: the FIN goes at once and takes the held bytes with it.
  set_int_opt(a, c, IPPROTO_TCP, TCP_CORK, 1);
  EXPECT_EQ(a.send(c, "last", 4, 0), 4);
  net.advance(milliseconds(50));
  EXPECT_EQ(drain(b, s), 0u);
  EXPECT_EQ(a.shutdown(c, SHUT_WR), 0);
  net.advance(milliseconds(10));
  char buf[16];
  EXPECT_EQ(b.recv(s, buf, sizeof buf, MSG_DONTWAIT), 4);
  EXPECT_EQ(b.recv(s, buf, sizeof buf, MSG_DONTWAIT), 0);  // end of stream
}

TEST_F(SendControlsTest, NotsentLowatBoundsUnsentBytesAndPollout) {
  auto [c, s] = connected_pair();
  EXPECT_EQ(get_int_opt(a, c, IPPROTO_TCP, TCP_NOTSENT_LOWAT), 0);
  set_int_opt(a, c, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 1000);
  EXPECT_EQ(get_int_opt(a, c, IPPROTO_TCP, TCP_NOTSENT_LOWAT), 1000);
  // Cork keeps what is written unsent, so the unsent count is exact.
  set_int_opt(a, c, IPPROTO_TCP, TCP_CORK, 1);
  std::vector<char> data(600, 'n');
  EXPECT_NE(a.poll_events(c) & POLLOUT, 0);
  EXPECT_EQ(a.send(c, data.data(), 400, MSG_DONTWAIT), 400);
  EXPECT_NE(a.poll_events(c) & POLLOUT, 0);  // 2 x 400 < 1000
  EXPECT_EQ(a.send(c, data.data(), 500, MSG_DONTWAIT), 500);
  // 900 unsent: send() still takes data (900 < 1000), POLLOUT is off (2 x 900 >= 1000).
  EXPECT_EQ(a.poll_events(c) & POLLOUT, 0);
  EXPECT_EQ(a.send(c, data.data(), 100, MSG_DONTWAIT), 100);
  // 1000 unsent (less than one segment, so all held): the mark is reached.
  EXPECT_EQ(a.send(c, data.data(), 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
  set_int_opt(a, c, IPPROTO_TCP, TCP_CORK, 0);
  net.advance(milliseconds(50));
  EXPECT_EQ(drain(b, s), 1000u);
  EXPECT_NE(a.poll_events(c) & POLLOUT, 0);
  // 0 turns the mark off again.
  set_int_opt(a, c, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 0);
  set_int_opt(a, c, IPPROTO_TCP, TCP_CORK, 1);
  EXPECT_EQ(a.send(c, data.data(), 600, MSG_DONTWAIT), 600);
  EXPECT_EQ(a.send(c, data.data(), 600, MSG_DONTWAIT), 600);
  EXPECT_NE(a.poll_events(c) & POLLOUT, 0);
}

}  // namespace
}  // namespace utcp::posix
