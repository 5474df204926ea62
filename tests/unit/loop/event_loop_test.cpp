// SPDX-License-Identifier: BSD-2-Clause
// EventLoop: sleeps in epoll until the device, the stack's deadline, an extra fd or a post()
// wakes it; never spins.
#include "utcp/event_loop.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "utcp/memory_link.hpp"

namespace utcp {
namespace {

using namespace std::chrono_literals;

// Packets either end has sent (both directions, whether or not they arrived).
uint64_t packets_sent(const dev::MemoryLink& link) {
  const dev::MemoryLinkCounters ab = link.a_to_b();
  const dev::MemoryLinkCounters ba = link.b_to_a();
  return ab.sent + ab.dropped_full + ab.dropped_down + ba.sent + ba.dropped_full + ba.dropped_down;
}

StackConfig config_for(Ipv4Addr addr) {
  StackConfig c;
  c.address = addr;
  for (size_t i = 0; i < c.secret.size(); ++i) c.secret[i] = static_cast<uint8_t>(i + 1);
  return c;
}

TEST(EventLoop, ClockIsMonotonicMicroseconds) {
  const Instant a = EventLoop::clock_now();
  std::this_thread::sleep_for(5ms);
  const Instant b = EventLoop::clock_now();
  EXPECT_GE(to_us(b) - to_us(a), 5'000);
  EXPECT_LT(to_us(b) - to_us(a), 5'000'000);
}

TEST(EventLoop, IdleStackCausesNoWakeups) {
  dev::MemoryLink link;
  Stack stack(link.a(), config_for(Ipv4Addr(10, 0, 0, 1)));
  EventLoop loop(stack, link.a());
  std::error_code ec;
  stack.listen(80, ec);
  ASSERT_FALSE(ec) << ec.message();
  loop.run_until([] { return false; }, EventLoop::clock_now() + 50ms);  // settle
  const uint64_t before = loop.wakeups();
  const Instant start = EventLoop::clock_now();
  EXPECT_FALSE(loop.run_until([] { return false; }, start + 300ms));
  EXPECT_GE(EventLoop::clock_now(), start + 300ms);
  // Only the wakeup at run_until's own deadline; a spinning loop would count thousands.
  EXPECT_LE(loop.wakeups() - before, 2u);
  EXPECT_EQ(packets_sent(link), 0u);
}

TEST(EventLoop, TimerFiresAtStackDeadline) {
  // A SYN to a peer that never answers: the stack's only deadline is the retransmission.
  dev::MemoryLink link;
  StackConfig cfg = config_for(Ipv4Addr(10, 0, 0, 1));
  cfg.tcp.rto_initial = Duration(100'000);
  Stack stack(link.a(), cfg);
  EventLoop loop(stack, link.a());
  std::error_code ec;
  const SocketId s = stack.connect(Ipv4Addr(10, 0, 0, 2), 80, ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(loop.run_until([&] { return packets_sent(link) >= 1; }, EventLoop::clock_now() + 1s));
  EXPECT_EQ(packets_sent(link), 1u);
  const Instant deadline = stack.next_deadline();
  ASSERT_NE(deadline, kNever);
  const uint64_t before = loop.wakeups();
  ASSERT_TRUE(loop.run_until([&] { return packets_sent(link) >= 2; }, EventLoop::clock_now() + 3s));
  EXPECT_GE(EventLoop::clock_now(), deadline);  // not early
  EXPECT_LE(loop.wakeups() - before, 3u);       // slept until the timer, did not poll
  EXPECT_EQ(stack.state(s), tcp::State::kSynSent);
}

TEST(EventLoop, PostRunsOnLoopThreadAndStopEndsRun) {
  dev::MemoryLink link;
  Stack stack(link.a(), config_for(Ipv4Addr(10, 0, 0, 1)));
  EventLoop loop(stack, link.a());
  std::atomic<bool> ran_on_loop_thread = false;
  std::thread::id loop_thread;
  std::thread poster([&] {
    std::this_thread::sleep_for(20ms);
    loop.post([&] { ran_on_loop_thread = std::this_thread::get_id() == loop_thread; });
    std::this_thread::sleep_for(20ms);
    loop.stop();
  });
  loop_thread = std::this_thread::get_id();
  loop.run();
  poster.join();
  EXPECT_TRUE(ran_on_loop_thread);
  EXPECT_TRUE(!loop.stopped());  // run() re-arms itself for a later run
}

// post() from several threads at once while the loop runs (the TSan preset's target: the
// queue's mutex and the eventfd wake-up): every task runs exactly once, on the loop thread.
TEST(EventLoop, PostsFromManyThreadsRunOnceEachOnTheLoopThread) {
  dev::MemoryLink link;
  Stack stack(link.a(), config_for(Ipv4Addr(10, 0, 0, 1)));
  EventLoop loop(stack, link.a());
  constexpr int kThreads = 4, kPosts = 2000;
  int ran = 0;  // touched only on the loop thread
  bool off_thread = false;
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::atomic<int> done_posting = 0;
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < kPosts; ++i) {
        loop.post([&] {
          off_thread |= std::this_thread::get_id() != loop_thread;
          ++ran;
        });
      }
      // The last poster stops the loop with a task of its own, after every other task.
      if (++done_posting == kThreads) loop.post([&] { loop.stop(); });
    });
  }
  loop.run();
  for (auto& p : posters) p.join();
  EXPECT_EQ(ran, kThreads * kPosts);
  EXPECT_FALSE(off_thread);
}

TEST(EventLoop, ExtraFdCallbackSeesDataAndMayRemoveItself) {
  dev::MemoryLink link;
  Stack stack(link.a(), config_for(Ipv4Addr(10, 0, 0, 1)));
  EventLoop loop(stack, link.a());
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  std::string got;
  int calls = 0;
  loop.add_fd(p[0], EPOLLIN, [&](uint32_t events) {
    ++calls;
    EXPECT_TRUE(events & EPOLLIN);
    char buf[16];
    const ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n > 0) got.append(buf, size_t(n));
    loop.remove_fd(p[0]);
  });
  ASSERT_EQ(::write(p[1], "abc", 3), 3);
  EXPECT_TRUE(loop.run_until([&] { return calls > 0; }, EventLoop::clock_now() + 1s));
  ASSERT_EQ(::write(p[1], "def", 3), 3);  // removed: no second call
  loop.run_until([] { return false; }, EventLoop::clock_now() + 50ms);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got, "abc");
  ::close(p[0]);
  ::close(p[1]);
}

TEST(EventLoop, FdCallbackMayReplaceItselfAndAddManyFds) {
  dev::MemoryLink link;
  Stack stack(link.a(), config_for(Ipv4Addr(10, 0, 0, 1)));
  EventLoop loop(stack, link.a());
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  // The first callback registers 200 more descriptors (the table grows under it), then puts
  // a second callback in its own place; the second one must get the next readiness, and the
  // first (moved out while it ran) must not come back.
  std::vector<int> extra;
  int first = 0, second = 0;
  loop.add_fd(p[0], EPOLLIN, [&](uint32_t) {
    ++first;
    char c;
    ASSERT_EQ(::read(p[0], &c, 1), 1);
    for (int i = 0; i < 100; ++i) {
      int q[2];
      ASSERT_EQ(::pipe(q), 0);
      extra.push_back(q[0]);
      extra.push_back(q[1]);
      loop.add_fd(q[0], EPOLLIN, [](uint32_t) {});
      loop.add_fd(q[1], EPOLLOUT, [](uint32_t) {});
    }
    loop.remove_fd(p[0]);
    loop.add_fd(p[0], EPOLLIN, [&](uint32_t) {
      ++second;
      char d;
      ASSERT_EQ(::read(p[0], &d, 1), 1);
    });
  });
  ASSERT_EQ(::write(p[1], "a", 1), 1);
  EXPECT_TRUE(loop.run_until([&] { return first > 0; }, EventLoop::clock_now() + 1s));
  ASSERT_EQ(::write(p[1], "b", 1), 1);
  EXPECT_TRUE(loop.run_until([&] { return second > 0; }, EventLoop::clock_now() + 1s));
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);
  for (const int fd : extra) {
    loop.remove_fd(fd);
    ::close(fd);
  }
  loop.remove_fd(p[0]);
  loop.remove_fd(p[0]);  // twice: nothing
  ::close(p[0]);
  ::close(p[1]);
}

TEST(EventLoop, AddFdRejectsRegularFileAndReservedFds) {
  dev::MemoryLink link;
  Stack stack(link.a(), config_for(Ipv4Addr(10, 0, 0, 1)));
  EventLoop loop(stack, link.a());
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  EXPECT_THROW(loop.add_fd(::fileno(f), EPOLLIN, [](uint32_t) {}), std::system_error);
  std::fclose(f);
  EXPECT_THROW(loop.add_fd(link.a().fd(), EPOLLIN, [](uint32_t) {}), std::system_error);
  EXPECT_THROW(loop.add_fd(-1, EPOLLIN, [](uint32_t) {}), std::system_error);
}

TEST(EventLoop, TwoLoopsOverALinkCompleteAHandshake) {
  dev::MemoryLink link;
  Stack server(link.a(), config_for(Ipv4Addr(10, 0, 0, 1)));
  Stack client(link.b(), config_for(Ipv4Addr(10, 0, 0, 2)));
  EventLoop server_loop(server, link.a());
  EventLoop client_loop(client, link.b());
  std::error_code ec;
  const SocketId l = server.listen(7, ec);
  ASSERT_FALSE(ec);
  std::thread t([&] { server_loop.run(); });
  const SocketId c = client.connect(Ipv4Addr(10, 0, 0, 1), 7, ec);
  ASSERT_FALSE(ec);
  const bool connected = client_loop.run_until(
      [&] { return (client.readiness(c) & ready::kConnected) != 0; }, EventLoop::clock_now() + 5s);
  server_loop.post([&] { server_loop.stop(); });
  t.join();
  EXPECT_TRUE(connected);
  EXPECT_EQ(client.state(c), tcp::State::kEstablished);
  EXPECT_TRUE(server.readiness(l) & ready::kAcceptable);
}

// Stops `loop` after 2 s unless disarmed first: a loop that would sleep forever ends the test
// with `fired` set instead of hanging it.
class Watchdog {
 public:
  explicit Watchdog(EventLoop& loop)
      : thread_([this, &loop] {
          std::unique_lock lock(mu_);
          if (!cv_.wait_for(lock, 2s, [this] { return disarmed_; })) {
            fired = true;
            loop.stop();
          }
        }) {}
  ~Watchdog() { disarm(); }
  void disarm() {
    {
      std::lock_guard lock(mu_);
      disarmed_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  std::atomic<bool> fired = false;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool disarmed_ = false;
  std::thread thread_;
};

TEST(EventLoop, RunSendsTheSynOfAConnectMadeBeforeIt) {
  dev::MemoryLink link;
  Stack stack(link.a(), config_for(Ipv4Addr(10, 0, 0, 1)));
  EventLoop loop(stack, link.a());
  std::error_code ec;
  stack.connect(Ipv4Addr(10, 0, 0, 2), 80, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(packets_sent(link), 0u);  // queued, not sent: nothing has driven the stack yet
  loop.add_after_process([&] {
    if (packets_sent(link) >= 1) loop.stop();
  });
  Watchdog watchdog(loop);
  loop.run();
  watchdog.disarm();
  EXPECT_FALSE(watchdog.fired) << "run() slept with the SYN unsent";
  EXPECT_EQ(packets_sent(link), 1u);
}

TEST(EventLoop, RunOnceSendsWhatAnApiCallQueuedSinceTheLastWakeup) {
  dev::MemoryLink link;
  Stack stack(link.a(), config_for(Ipv4Addr(10, 0, 0, 1)));
  EventLoop loop(stack, link.a());
  loop.run_until([] { return false; }, EventLoop::clock_now() + 20ms);  // settle: timer idle
  std::error_code ec;
  stack.connect(Ipv4Addr(10, 0, 0, 2), 80, ec);
  ASSERT_FALSE(ec) << ec.message();
  Watchdog watchdog(loop);
  loop.run_once();  // no deadline: only the queued SYN (or the watchdog) can end the wait
  watchdog.disarm();
  EXPECT_FALSE(watchdog.fired) << "run_once() slept with the SYN unsent";
  EXPECT_EQ(packets_sent(link), 1u);
}

TEST(EventLoop, AfterProcessHooksCanBeRemoved) {
  dev::MemoryLink link;
  Stack stack(link.a(), config_for(Ipv4Addr(10, 0, 0, 1)));
  EventLoop loop(stack, link.a());
  int kept = 0, removed = 0, once = 0;
  loop.add_after_process([&] { ++kept; });
  const EventLoop::HookId gone = loop.add_after_process([&] { ++removed; });
  EventLoop::HookId self = 0;
  self = loop.add_after_process([&] {
    ++once;
    EXPECT_TRUE(loop.remove_after_process(self));  // a hook may remove itself
  });
  loop.post([] {});  // a second wakeup after run_until's first round
  loop.run_until([&] { return kept >= 2; }, EventLoop::clock_now() + 2s);
  EXPECT_EQ(kept, 2);
  EXPECT_EQ(once, 1);
  EXPECT_EQ(removed, kept);
  EXPECT_TRUE(loop.remove_after_process(gone));
  EXPECT_FALSE(loop.remove_after_process(gone));  // already removed
  EXPECT_FALSE(loop.remove_after_process(self));
  const int kept_before = kept, removed_before = removed;
  loop.post([] {});
  loop.run_until([&] { return kept > kept_before; }, EventLoop::clock_now() + 2s);
  EXPECT_GT(kept, kept_before);
  EXPECT_EQ(removed, removed_before);  // removed hooks never run again
  EXPECT_EQ(once, 1);
}

TEST(EventLoop, WokenByMemoryLinkPacketsWithoutWaitingForATimer) {
  // The server loop sleeps in epoll with nothing armed; only the link's fd can wake it when
  // the client's SYN arrives. Without it, the handshake would wait for the SYN retransmission.
  dev::MemoryLink link;
  StackConfig server_cfg = config_for(Ipv4Addr(10, 0, 0, 1));
  Stack server(link.a(), server_cfg);
  StackConfig client_cfg = config_for(Ipv4Addr(10, 0, 0, 2));
  client_cfg.tcp.rto_initial = Duration(10'000'000);  // a retransmission would take 10 s
  Stack client(link.b(), client_cfg);
  EventLoop server_loop(server, link.a());
  EventLoop client_loop(client, link.b());
  std::error_code ec;
  const SocketId listener = server.listen(80, ec);
  ASSERT_FALSE(ec) << ec.message();
  std::atomic<bool> accepted = false;
  server_loop.add_after_process([&] {
    std::error_code e;
    if (server.accept(listener, e) != kNoSocket) {
      accepted = true;
      server_loop.stop();
    }
  });
  Watchdog watchdog(server_loop);
  std::thread t([&] { server_loop.run(); });  // returns once its hook has accepted
  const SocketId s = client.connect(Ipv4Addr(10, 0, 0, 1), 80, ec);
  ASSERT_FALSE(ec) << ec.message();
  const bool connected = client_loop.run_until(
      [&] { return (client.readiness(s) & ready::kConnected) != 0; }, EventLoop::clock_now() + 5s);
  t.join();
  watchdog.disarm();
  EXPECT_FALSE(watchdog.fired) << "the server loop was not woken by the SYN";
  EXPECT_TRUE(connected);
  EXPECT_TRUE(accepted);
  EXPECT_EQ(link.b_to_a().sent, 2u);  // SYN and ACK: no retransmission was needed
}

}  // namespace
}  // namespace utcp
