// SPDX-License-Identifier: BSD-2-Clause
// libutcp_packetdrill.so as packetdrill uses it: dlopen, packetdrill_interface_init, and the
// table's functions driven by hand, including a blocking accept() on a second thread.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <thread>
#include <vector>

#include "shared_object_fixture.hpp"
#include "wire/checksum.hpp"
#include "wire/endian.hpp"

namespace utcp::drill_selftest {
namespace {

TEST_F(SharedObject, FillsEveryPointer) {
  init_("", &ifc_);
  ASSERT_NE(ifc_.userdata, nullptr);
  // Every slot after userdata is a function pointer; packetdrill never checks for NULL.
  const auto* slots = reinterpret_cast<void* const*>(&ifc_);
  const size_t n = sizeof ifc_ / sizeof(void*);
  EXPECT_EQ(n, 33u);
  for (size_t i = 1; i < n; ++i) EXPECT_NE(slots[i], nullptr) << "slot " << i;
  EXPECT_EQ(ifc_.epoll_create(ifc_.userdata, 1), -1);
  EXPECT_EQ(errno, ENOSYS);
  int fds[2];
  EXPECT_EQ(ifc_.pipe(ifc_.userdata, fds), -1);
  EXPECT_EQ(errno, ENOSYS);
}

TEST_F(SharedObject, BadFlagsLeaveAPortThatRefusesCalls) {
  init_("no_such_flag=1", &ifc_);
  EXPECT_EQ(ifc_.userdata, nullptr);
  EXPECT_EQ(ifc_.socket(ifc_.userdata, AF_INET, SOCK_STREAM, 0), -1);
  EXPECT_EQ(errno, EINVAL);
}

long long usecs_of(const timeval& tv) {
  return tv.tv_sec * 1'000'000LL + tv.tv_usec;
}

// The default clock: usleep() moves it exactly; one read does not move it; a read right after
// another read moves it by 1 us (packetdrill spins on gettimeofday() until an event is due).
TEST_F(SharedObject, VirtualClockMovesWithUsleepAndWithSpinningReads) {
  init_("", &ifc_);
  timeval a{}, b{}, c{};
  ifc_.gettimeofday(ifc_.userdata, &a, nullptr);
  ifc_.usleep(ifc_.userdata, 250'000);
  ifc_.gettimeofday(ifc_.userdata, &b, nullptr);
  EXPECT_EQ(usecs_of(b) - usecs_of(a), 250'000);
  for (int i = 0; i < 10; ++i) ifc_.gettimeofday(ifc_.userdata, &c, nullptr);
  EXPECT_EQ(usecs_of(c) - usecs_of(b), 10);
}

// driven_clock (utcp-drill's mode): only usleep() and netdev_receive() move the clock.
TEST_F(SharedObject, DrivenClockMovesOnlyWithUsleep) {
  init_("driven_clock", &ifc_);
  timeval a{}, b{};
  ifc_.gettimeofday(ifc_.userdata, &a, nullptr);
  for (int i = 0; i < 10; ++i) ifc_.gettimeofday(ifc_.userdata, &b, nullptr);
  EXPECT_EQ(usecs_of(b), usecs_of(a));
  ifc_.usleep(ifc_.userdata, 250'000);
  ifc_.gettimeofday(ifc_.userdata, &b, nullptr);
  EXPECT_EQ(usecs_of(b) - usecs_of(a), 250'000);
}

TEST_F(SharedObject, HandshakeWithBlockingAcceptOnASecondThread) {
  init_("driven_clock receive_wait_usecs=2000000", &ifc_);
  void* ud = ifc_.userdata;
  const int lfd = ifc_.socket(ud, AF_INET, SOCK_STREAM, IPPROTO_TCP);
  ASSERT_GE(lfd, 0);
  ASSERT_EQ(bind_local(lfd, 8080), 0);
  ASSERT_EQ(ifc_.listen(ud, lfd, 1), 0);

  int accepted = -2;
  sockaddr_in peer{};
  std::thread t([&] {
    socklen_t len = sizeof peer;
    accepted = ifc_.accept(ud, lfd, reinterpret_cast<sockaddr*>(&peer), &len);
  });
  auto blocked = reinterpret_cast<utcp_packetdrill_blocked_calls_t>(
      dlsym(dl_, "utcp_packetdrill_blocked_calls"));
  ASSERT_NE(blocked, nullptr);
  while (blocked(ud) == 0) std::this_thread::yield();

  auto syn = segment(wire::tcp_flag::kSyn, 100, 0);
  ASSERT_EQ(ifc_.netdev_send(ud, syn.data(), syn.size()), 0);
  std::vector<uint8_t> buf;
  auto synack = receive(buf);
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->flags, wire::tcp_flag::kSyn | wire::tcp_flag::kAck);
  EXPECT_EQ(synack->ack.raw(), 101u);
  EXPECT_EQ(accepted, -2);  // still blocked: the handshake is not complete

  auto ack = segment(wire::tcp_flag::kAck, 101, synack->seq.raw() + 1);
  ASSERT_EQ(ifc_.netdev_send(ud, ack.data(), ack.size()), 0);
  t.join();
  EXPECT_GE(accepted, 0);
  EXPECT_NE(accepted, lfd);
  EXPECT_EQ(ntohl(peer.sin_addr.s_addr), remote.value);  // accept() fills in the peer
  EXPECT_EQ(ntohs(peer.sin_port), 40000);

  // Nothing else to send: netdev_receive reports an empty packet after its deadline.
  long long at = 0;
  EXPECT_FALSE(receive(buf, &at));
  EXPECT_EQ(buf.size(), 2048u);
}

// setsockopt(TCP_MAXSEG) and the variadic ioctl() reach the facade through the table.
TEST_F(SharedObject, MaxsegAndIoctlPassThroughTheTable) {
  init_("", &ifc_);
  void* ud = ifc_.userdata;
  const int lfd = ifc_.socket(ud, AF_INET, SOCK_STREAM, IPPROTO_TCP);
  ASSERT_GE(lfd, 0);
  ASSERT_EQ(bind_local(lfd, 8080), 0);
  const int maxseg = 700;
  ASSERT_EQ(ifc_.setsockopt(ud, lfd, IPPROTO_TCP, TCP_MAXSEG, &maxseg, sizeof maxseg), 0);
  ASSERT_EQ(ifc_.listen(ud, lfd, 1), 0);
  int v = -1;
  EXPECT_EQ(ifc_.ioctl(ud, lfd, FIONREAD, &v), -1);  // Linux: EINVAL on a listener
  EXPECT_EQ(errno, EINVAL);

  auto syn = segment(wire::tcp_flag::kSyn, 100, 0);
  ASSERT_EQ(ifc_.netdev_send(ud, syn.data(), syn.size()), 0);
  std::vector<uint8_t> buf;
  auto synack = receive(buf);
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->options.mss, std::optional<uint16_t>(700));
  auto ack = segment(wire::tcp_flag::kAck, 101, synack->seq.raw() + 1);
  ASSERT_EQ(ifc_.netdev_send(ud, ack.data(), ack.size()), 0);
  const int fd = ifc_.accept(ud, lfd, nullptr, nullptr);
  ASSERT_GE(fd, 0);
  const uint8_t text[10] = {};
  auto data =
      segment(wire::tcp_flag::kAck | wire::tcp_flag::kPsh, 101, synack->seq.raw() + 1, text);
  ASSERT_EQ(ifc_.netdev_send(ud, data.data(), data.size()), 0);
  EXPECT_EQ(ifc_.ioctl(ud, fd, FIONREAD, &v), 0);
  EXPECT_EQ(v, 10);
  EXPECT_EQ(ifc_.ioctl(ud, fd, SIOCATMARK, &v), 0);
  EXPECT_EQ(v, 0);
  socklen_t len = sizeof v;
  EXPECT_EQ(ifc_.getsockopt(ud, fd, IPPROTO_TCP, TCP_MAXSEG, &v, &len), 0);
  EXPECT_EQ(v, 700);  // no timestamps on this connection: the whole MSS is payload
}

TEST_F(SharedObject, RealTimeFlagUsesTheRealClock) {
  init_("real_time receive_wait_usecs=3000000", &ifc_);
  void* ud = ifc_.userdata;
  timeval a{}, b{};
  ifc_.gettimeofday(ud, &a, nullptr);
  ASSERT_EQ(ifc_.usleep(ud, 20'000), 0);
  ifc_.gettimeofday(ud, &b, nullptr);
  const long long d = (b.tv_sec - a.tv_sec) * 1'000'000LL + (b.tv_usec - a.tv_usec);
  EXPECT_GE(d, 20'000);
  EXPECT_LT(d, 5'000'000);  // generous: the machine may be loaded
  // Wall-clock based: close to the system's time of day.
  EXPECT_LT(std::abs(static_cast<long long>(b.tv_sec) - static_cast<long long>(time(nullptr))), 5);

  const int lfd = ifc_.socket(ud, AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(lfd, 0);
  ASSERT_EQ(bind_local(lfd, 8080), 0);
  ASSERT_EQ(ifc_.listen(ud, lfd, 1), 0);
  auto syn = segment(wire::tcp_flag::kSyn, 1, 0);
  ASSERT_EQ(ifc_.netdev_send(ud, syn.data(), syn.size()), 0);
  std::vector<uint8_t> buf;
  long long at = 0;
  auto synack = receive(buf, &at);
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->ack.raw(), 2u);
  // No final ACK: the SYN-ACK is retransmitted one initial RTO (1 s) of real time later.
  long long again_at = 0;
  auto again = receive(buf, &again_at);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->flags, wire::tcp_flag::kSyn | wire::tcp_flag::kAck);
  EXPECT_GE(again_at - at, 900'000);
}

TEST_F(SharedObject, GarbageFromTheNetworkIsDropped) {
  init_("receive_wait_usecs=1000", &ifc_);
  void* ud = ifc_.userdata;
  const unsigned seed = 20261124;
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  const int lfd = ifc_.socket(ud, AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(lfd, 0);
  ASSERT_EQ(bind_local(lfd, 8080), 0);
  ASSERT_EQ(ifc_.listen(ud, lfd, 1), 0);
  const auto syn = segment(wire::tcp_flag::kSyn, 1, 0);
  for (int i = 0; i < 2000; ++i) {
    // Valid packets with a few random bytes changed, and plain noise.
    std::vector<uint8_t> p = syn;
    if (i % 2) {
      p.resize(1 + rng() % 120);
      for (auto& b : p) b = static_cast<uint8_t>(rng());
    } else {
      for (int k = 0; k < 3; ++k) p[rng() % p.size()] = static_cast<uint8_t>(rng());
    }
    EXPECT_EQ(ifc_.netdev_send(ud, p.data(), p.size()), 0);
    std::vector<uint8_t> buf;
    while (receive(buf)) {
    }
  }
  // The listener still works afterwards.
  const auto good = segment(wire::tcp_flag::kSyn, 5000, 0);
  ASSERT_EQ(ifc_.netdev_send(ud, good.data(), good.size()), 0);
  std::vector<uint8_t> buf;
  std::optional<wire::TcpRepr> reply;
  while (auto r = receive(buf)) reply = r;
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->ack.raw(), 5001u);
}

TEST_F(SharedObject, BindMovesTheStackToTheNamedAddress) {
  init_("local_ip=10.0.0.1", &ifc_);
  void* ud = ifc_.userdata;
  const int lfd = ifc_.socket(ud, AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(lfd, 0);
  // 192.168.0.1, not the flag's address
  ASSERT_EQ(bind_local(lfd, 8080), 0);
  ASSERT_EQ(ifc_.listen(ud, lfd, 1), 0);
  auto syn = segment(wire::tcp_flag::kSyn, 7, 0);
  ASSERT_EQ(ifc_.netdev_send(ud, syn.data(), syn.size()), 0);
  std::vector<uint8_t> buf;
  auto synack = receive(buf);
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->ack.raw(), 8u);
}

}  // namespace
}  // namespace utcp::drill_selftest
