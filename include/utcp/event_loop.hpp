// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// utcp::EventLoop drives one Stack from its device's file descriptor with epoll and a
// timerfd: it sleeps until the device has packets, the stack's next deadline comes, an
// extra descriptor (stdin, a signalfd, ...) is ready, or another thread posts work. It
// never busy-waits: an idle stack with no pending timer costs no wakeups at all.
//
// One loop belongs to one thread (the thread that calls run()); only post() and stop() may
// be called from other threads. Every wakeup ends with stack.process(now) and the timerfd
// re-armed at the earliest of stack.next_deadline() and device.next_deadline().
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "utcp/stack.hpp"
#include "utcp/time.hpp"

namespace utcp {

class EventLoop {
 public:
  // Called with the epoll event bits (EPOLLIN, EPOLLOUT, EPOLLHUP, ...) that fired.
  using FdCallback = std::function<void(uint32_t events)>;

  // Neither the stack nor the device is owned; both must outlive the loop. The device is
  // the one the stack was built on (its fd() wakes the loop; -1 means in-memory, in which
  // case only deadlines and posted work wake the loop). Throws std::system_error if the
  // epoll, timer or event descriptors cannot be created.
  EventLoop(Stack& stack, dev::Device& device);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // CLOCK_MONOTONIC as an engine Instant (microseconds since boot).
  static Instant clock_now();

  // Watches an extra descriptor; `events` are epoll bits (EPOLLIN, EPOLLOUT). The callback
  // runs on the loop thread before the stack is processed. A regular file cannot be watched
  // (epoll refuses it): add_fd then throws std::system_error with EPERM. The callback may
  // add, modify or remove descriptors, itself included.
  void add_fd(int fd, uint32_t events, FdCallback callback);
  void modify_fd(int fd, uint32_t events);
  void remove_fd(int fd);

  // Identifies an after-process hook, for remove_after_process().
  using HookId = uint64_t;

  // Runs after every stack.process() on the loop thread: the place to act on readiness
  // noted by the stack's readiness callback (calling the Stack from inside its own callback
  // is not allowed). Several hooks run in the order they were added. Returns the handle
  // that removes the hook again.
  HookId add_after_process(std::function<void()> hook);
  // Removes a hook; it does not run again, even when a hook of the current round removes it
  // (a hook may remove itself). False when `id` names no hook (already removed).
  bool remove_after_process(HookId id);

  // Tells the loop that Stack API calls made outside process() (from a hook) left work
  // behind, so it runs process() again before sleeping.
  void request_process() { process_requested_ = true; }

  // Runs until stop() is called. Work that Stack API calls made before it left behind (a
  // connect()'s SYN, data from send()) goes out first, before the loop sleeps.
  void run();
  // Runs until predicate() is true (checked after every wakeup) or `deadline` passes
  // (CLOCK_MONOTONIC, as clock_now()). Returns whether the predicate became true.
  bool run_until(const std::function<bool()>& predicate, Instant deadline = kNever);
  // Waits for one wakeup (or `deadline`) and handles it. Work queued by API calls since the
  // last wakeup wakes it at once.
  void run_once(Instant deadline = kNever);

  // Thread-safe. run() returns after the current wakeup.
  void stop();
  bool stopped() const { return stopped_; }
  // Thread-safe. Runs `task` on the loop thread at its next wakeup, before process().
  // Tasks still queued when the loop is destroyed are destroyed without running.
  void post(std::function<void()> task);

  Stack& stack() { return stack_; }
  // Times epoll_wait returned since construction (for tests that check the loop sleeps).
  uint64_t wakeups() const { return wakeups_; }

 private:
  void dispatch(int fd, uint32_t events);
  void run_posted();
  void process_and_rearm();
  void arm_timer(Instant at);
  void close_fds();

  Stack& stack_;
  dev::Device& device_;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: post() and stop() from other threads
  Instant armed_at_ = kNever;
  std::atomic<bool> stopped_ = false;
  bool process_requested_ = false;
  uint64_t wakeups_ = 0;

  // Indexed by descriptor (they are small and dense): a server or proxy watches thousands, and
  // a slot is just its callback. A callback runs moved out of its slot (it may remove or
  // replace itself, or add descriptors that grow the table); `generation` tells whether the
  // slot still belongs to it afterwards.
  struct FdSlot {
    FdCallback callback;
    uint32_t generation = 0;
    bool watched = false;
  };
  std::vector<FdSlot> fds_;
  struct Hook {
    HookId id;
    std::function<void()> fn;  // empty once removed, until the round running hooks ends
  };
  void run_hooks();
  std::vector<Hook> after_process_;
  HookId next_hook_id_ = 1;
  bool running_hooks_ = false;

  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::function<void()>> running_;  // swapped with posted_, reused
};

}  // namespace utcp
