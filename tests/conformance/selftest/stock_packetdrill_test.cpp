// SPDX-License-Identifier: BSD-2-Clause
// libutcp_packetdrill.so driven as stock packetdrill (github.com/google/packetdrill,
// so_testing.c and run*.c) drives it, with no --so_flags. packetdrill is not packaged in
// Debian, so these tests stand in for it:
//  - it spins on gettimeofday() until an event is due, always before the first event;
//  - it runs a blocking call on a thread of its own, which reads the clock as soon as the call
//    returns, and at the end waits for that thread without calling into the port;
//  - a blocking call without `...` in the script runs on its main thread;
//  - it calls the real close(2) on every descriptor the script left open, then free();
//  - it injects whatever packet the script describes, even one the device cannot carry.
// Each step runs under a watchdog, so a port that would hang fails instead.
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "shared_object_fixture.hpp"

namespace utcp::drill_selftest {
namespace {

using namespace std::chrono_literals;
namespace flag = wire::tcp_flag;

std::set<int> open_descriptors() {
  std::set<int> out;
  for (int fd = 0; fd < 1024; ++fd) {
    if (fcntl(fd, F_GETFD) != -1) out.insert(fd);
  }
  return out;
}

bool is_open(int fd) {
  return fcntl(fd, F_GETFD) != -1;
}

class StockPacketdrill : public SharedObject {
 protected:
  long long now() {
    timeval tv{};
    EXPECT_EQ(ifc_.gettimeofday(ifc_.userdata, &tv, nullptr), 0);
    return tv.tv_sec * 1'000'000LL + tv.tv_usec;
  }

  // Runs f on a thread of its own. False if it has not finished within `limit`; then every
  // call blocked in the port is woken for good (it fails with EINTR) so the thread can end.
  bool within(std::chrono::milliseconds limit, const std::function<void()>& f) {
    std::promise<void> done;
    std::future<void> finished = done.get_future();
    std::thread t([&] {
      f();
      done.set_value();
    });
    const bool ok = finished.wait_for(limit) == std::future_status::ready;
    if (!ok) stop_waiting();
    t.join();
    return ok;
  }

  // packetdrill before its first event: read the clock until it passes start + 250 us.
  bool spin_to_first_event() {
    const long long start = now();
    for (int i = 0; i < 100'000; ++i) {
      if (now() >= start + 250) return true;
    }
    return false;
  }

  // A passive open as a script does it; the accepted descriptor, or -1.
  int passive_open(int& listener) {
    void* ud = ifc_.userdata;
    listener = ifc_.socket(ud, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (listener < 0 || bind_local(listener, 8080) != 0 || ifc_.listen(ud, listener, 1) != 0) {
      return -1;
    }
    auto syn = segment(flag::kSyn, 100, 0);
    if (ifc_.netdev_send(ud, syn.data(), syn.size()) != 0) return -1;
    std::vector<uint8_t> buf;
    auto synack = receive(buf);
    if (!synack) return -1;
    isn_ = synack->seq.raw();
    auto ack = segment(flag::kAck, 101, isn_ + 1);
    if (ifc_.netdev_send(ud, ack.data(), ack.size()) != 0) return -1;
    return ifc_.accept(ud, listener, nullptr, nullptr);
  }

  uint32_t isn_ = 0;
};

TEST_F(StockPacketdrill, SpinningOnGettimeofdayReachesTheFirstEvent) {
  init_(nullptr, &ifc_);  // packetdrill passes NULL without --so_flags
  ASSERT_NE(ifc_.userdata, nullptr);
  bool reached = false;
  ASSERT_TRUE(within(20s, [&] { reached = spin_to_first_event(); }));
  EXPECT_TRUE(reached) << "the clock never moved while packetdrill polled it";
}

// `+.1...0.2 connect(...)`: packetdrill's syscall thread waits for the call's start time itself,
// spinning on gettimeofday(), while the main thread waits for it without calling the port.
TEST_F(StockPacketdrill, SyscallThreadSpinsBeforeItsBlockingCall) {
  init_(nullptr, &ifc_);
  spin_to_first_event();  // the main thread drives the clock from here on
  bool reached = false;
  ASSERT_TRUE(within(20s, [&] { reached = spin_to_first_event(); }));
  EXPECT_TRUE(reached) << "the clock never moved while the syscall thread polled it";
}

TEST_F(StockPacketdrill, DescriptorsAreRealFilesTheCallerCanClose) {
  init_(nullptr, &ifc_);
  void* ud = ifc_.userdata;
  spin_to_first_event();  // checked by SpinningOnGettimeofdayReachesTheFirstEvent
  const std::set<int> before = open_descriptors();
  int listener = -1;
  const int conn = passive_open(listener);
  ASSERT_GE(listener, 0);
  ASSERT_GE(conn, 0);
  // Both are files this process opened for them, not numbers it already used.
  EXPECT_FALSE(before.count(listener)) << listener << " was open before socket()";
  EXPECT_FALSE(before.count(conn)) << conn << " was open before accept()";
  EXPECT_TRUE(is_open(listener));
  EXPECT_TRUE(is_open(conn));

  // close() through the table releases the file too.
  const int extra = ifc_.socket(ud, AF_INET, SOCK_STREAM, IPPROTO_TCP);
  ASSERT_GE(extra, 0);
  EXPECT_TRUE(is_open(extra));
  EXPECT_EQ(ifc_.close(ud, extra), 0);
  EXPECT_FALSE(is_open(extra));

  // packetdrill's close_all_fds(): the real close(2), which must succeed.
  EXPECT_EQ(::close(conn), 0) << "close: " << std::strerror(errno);
  EXPECT_EQ(::close(listener), 0) << "close: " << std::strerror(errno);
  // ... then a RST for each connection, then free(). The numbers are free again and the next
  // file the process opens reuses one: free() must leave that file alone.
  auto rst = segment(flag::kRst | flag::kAck, 101, isn_ + 1);
  EXPECT_EQ(ifc_.netdev_send(ud, rst.data(), rst.size()), 0);
  const int other = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(other, 0);
  EXPECT_TRUE(other == conn || other == listener || other < std::min(conn, listener));
  ifc_.free(ud);
  ifc_.free = nullptr;  // done: TearDown must not free it again
  EXPECT_TRUE(is_open(other)) << "free() closed a descriptor that was no longer the port's";
  ::close(other);
}

TEST_F(StockPacketdrill, PacketLongerThanTheMtuIsAnError) {
  init_(nullptr, &ifc_);
  void* ud = ifc_.userdata;
  const std::vector<uint8_t> fits_payload(1460), long_payload(1461);
  auto fits = segment(flag::kAck, 1, 1, fits_payload);  // 1500 bytes: the default MTU
  auto too_long = segment(flag::kAck, 1, 1, long_payload);
  ASSERT_EQ(fits.size(), 1500u);
  EXPECT_EQ(ifc_.netdev_send(ud, fits.data(), fits.size()), 0);
  errno = 0;
  EXPECT_EQ(ifc_.netdev_send(ud, too_long.data(), too_long.size()), -1);
  EXPECT_EQ(errno, EMSGSIZE);
}

TEST_F(StockPacketdrill, PacketLongerThanASmallerMtuIsAnError) {
  init_("mtu=1400", &ifc_);
  const std::vector<uint8_t> payload(1361);  // 1401 bytes
  auto pkt = segment(flag::kAck, 1, 1, payload);
  errno = 0;
  EXPECT_EQ(ifc_.netdev_send(ifc_.userdata, pkt.data(), pkt.size()), -1);
  EXPECT_EQ(errno, EMSGSIZE);
}

// The script's last event is `+0...0.5 poll(...)`: packetdrill then waits for its syscall
// thread (1 s of real time at most) without calling into the port.
TEST_F(StockPacketdrill, LastBlockingCallEndsWhileTheDriverWaits) {
  init_(nullptr, &ifc_);
  void* ud = ifc_.userdata;
  spin_to_first_event();  // checked by SpinningOnGettimeofdayReachesTheFirstEvent
  int listener = -1;
  const int conn = passive_open(listener);
  ASSERT_GE(conn, 0);
  const long long start = now();
  int r = -2;
  long long returned_at = 0;
  const bool ended = within(5s, [&] {
    pollfd p{conn, POLLIN, 0};
    r = ifc_.poll(ud, &p, 1, 500);
    returned_at = now();  // the syscall thread reads the clock right after the call
  });
  EXPECT_TRUE(ended) << "the blocked poll() never returned";
  EXPECT_EQ(r, 0);
  EXPECT_EQ(returned_at - start, 500'000);
}

// A blocking call on packetdrill's syscall thread returns; the main thread moves on (here a
// 1 s usleep) before the syscall thread reads the clock: it must still read the time the call
// returned.
TEST_F(StockPacketdrill, BlockedCallReadsTheTimeItReturned) {
  init_(nullptr, &ifc_);
  void* ud = ifc_.userdata;
  spin_to_first_event();  // checked by SpinningOnGettimeofdayReachesTheFirstEvent
  int listener = -1;
  const int conn = passive_open(listener);
  ASSERT_GE(conn, 0);
  auto blocked = reinterpret_cast<utcp_packetdrill_blocked_calls_t>(
      dlsym(dl_, "utcp_packetdrill_blocked_calls"));
  ASSERT_NE(blocked, nullptr);

  std::promise<void> main_moved_on;
  std::shared_future<void> moved = main_moved_on.get_future().share();
  ssize_t got = -2;
  long long read_at = 0;
  std::thread syscall_thread([&] {
    char buf[100];
    got = ifc_.read(ud, conn, buf, sizeof buf);
    moved.wait_for(10s);
    read_at = now();
  });
  bool is_blocked = false;
  for (int i = 0; i < 10'000 && !is_blocked; ++i) {
    is_blocked = blocked(ud) > 0;
    if (!is_blocked) std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(is_blocked);
  const long long sent_at = now();
  const uint8_t text[10] = {};
  auto data = segment(flag::kAck | flag::kPsh, 101, isn_ + 1, text);
  EXPECT_EQ(ifc_.netdev_send(ud, data.data(), data.size()), 0);
  EXPECT_EQ(ifc_.usleep(ud, 1'000'000), 0);
  main_moved_on.set_value();
  if (!is_blocked) stop_waiting();
  syscall_thread.join();
  EXPECT_EQ(got, 10);
  EXPECT_EQ(read_at, sent_at);
}

// A blocking call on the thread that drives the clock (a script line without `...`): nobody
// else will move the clock, so the call does.
TEST_F(StockPacketdrill, BlockingCallOnTheDrivingThreadMovesTheClock) {
  init_(nullptr, &ifc_);
  void* ud = ifc_.userdata;
  int r = -2, a = -2, accept_errno = 0;
  long long start = 0, end = 0;
  const bool ended = within(5s, [&] {
    start = now();  // this thread now drives the clock
    const int fd = ifc_.socket(ud, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (fd < 0 || bind_local(fd, 8080) != 0 || ifc_.listen(ud, fd, 1) != 0) return;
    pollfd p{fd, POLLIN, 0};
    r = ifc_.poll(ud, &p, 1, 500);
    end = now();
    // Nothing can ever arrive: the call fails rather than hang.
    a = ifc_.accept(ud, fd, nullptr, nullptr);
    accept_errno = errno;
  });
  EXPECT_TRUE(ended) << "a blocking call on the driving thread hung";
  EXPECT_EQ(r, 0);
  EXPECT_EQ(end - start, 500'000);
  EXPECT_EQ(a, -1);
  EXPECT_EQ(accept_errno, EINTR);
}

}  // namespace
}  // namespace utcp::drill_selftest
