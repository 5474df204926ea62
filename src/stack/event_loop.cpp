// SPDX-License-Identifier: BSD-2-Clause
#include "utcp/event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>
#include <system_error>

namespace utcp {

namespace {

[[noreturn]] void fail(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

// Drains an eventfd or timerfd counter; both are non-blocking, so EAGAIN just means empty.
void drain_counter(int fd) {
  uint64_t count = 0;
  [[maybe_unused]] ssize_t n = ::read(fd, &count, sizeof count);
}

// At most this many process() rounds per wakeup when hooks keep asking for more; after
// that the loop re-arms its timer for "now" so other descriptors get their turn.
constexpr int kMaxProcessRounds = 8;

}  // namespace

Instant EventLoop::clock_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return instant_from_us(int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000);
}

EventLoop::EventLoop(Stack& stack, dev::Device& device) : stack_(stack), device_(device) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  int err = (epoll_fd_ < 0 || timer_fd_ < 0 || wake_fd_ < 0) ? errno : 0;
  for (int fd : {timer_fd_, wake_fd_, device_.fd()}) {
    if (err != 0 || fd < 0) continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) err = errno;
  }
  if (err != 0) {
    close_fds();
    fail(err, "EventLoop: cannot set up epoll, timerfd and eventfd");
  }
}

EventLoop::~EventLoop() {
  close_fds();
}

void EventLoop::close_fds() {
  for (int* fd : {&epoll_fd_, &timer_fd_, &wake_fd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void EventLoop::add_fd(int fd, uint32_t events, FdCallback callback) {
  if (fd < 0 || fd == timer_fd_ || fd == wake_fd_ || fd == device_.fd()) {
    fail(EINVAL, "EventLoop::add_fd: bad or reserved fd " + std::to_string(fd));
  }
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    fail(errno, "EventLoop::add_fd " + std::to_string(fd));
  }
  if (static_cast<size_t>(fd) >= fds_.size()) fds_.resize(static_cast<size_t>(fd) + 1);
  FdSlot& slot = fds_[static_cast<size_t>(fd)];
  slot.callback = std::move(callback);
  slot.watched = true;
  ++slot.generation;
}

void EventLoop::modify_fd(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0) {
    fail(errno, "EventLoop::modify_fd " + std::to_string(fd));
  }
}

void EventLoop::remove_fd(int fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= fds_.size() || !fds_[static_cast<size_t>(fd)].watched) {
    return;
  }
  FdSlot& slot = fds_[static_cast<size_t>(fd)];
  slot.watched = false;
  slot.callback = nullptr;
  ++slot.generation;
  // A descriptor closed before removal has already left the epoll set; ignore that error.
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

EventLoop::HookId EventLoop::add_after_process(std::function<void()> hook) {
  const HookId id = next_hook_id_++;
  after_process_.push_back(Hook{id, std::move(hook)});
  return id;
}

bool EventLoop::remove_after_process(HookId id) {
  auto it = std::find_if(after_process_.begin(), after_process_.end(),
                         [id](const Hook& h) { return h.id == id && h.fn; });
  if (it == after_process_.end()) return false;
  if (running_hooks_) {
    it->fn = nullptr;  // run_hooks() skips it and erases it when the round ends
  } else {
    after_process_.erase(it);
  }
  return true;
}

void EventLoop::run_hooks() {
  running_hooks_ = true;
  // By index: a hook may add hooks (they run from the next round) or remove any of them.
  const size_t count = after_process_.size();
  for (size_t i = 0; i < count; ++i) {
    if (after_process_[i].fn) {
      auto fn = after_process_[i].fn;  // a copy: the hook may remove itself while it runs
      fn();
    }
  }
  running_hooks_ = false;
  std::erase_if(after_process_, [](const Hook& h) { return !h.fn; });
}

void EventLoop::run() {
  // What API calls queued before run() goes out now: the loop may otherwise sleep with a
  // connect()'s SYN unsent and no timer armed to wake it.
  process_and_rearm();
  while (!stopped_) run_once();
  stopped_ = false;  // a later run() starts afresh; a stop() before run() still counts once
}

bool EventLoop::run_until(const std::function<bool()>& predicate, Instant deadline) {
  // Work that API calls made before this call left behind gets flushed first.
  process_and_rearm();
  while (!predicate()) {
    if (stopped_ || clock_now() >= deadline) return false;
    run_once(deadline);
  }
  return true;
}

void EventLoop::run_once(Instant deadline) {
  // Work that API calls made since the last wakeup left behind makes the stack's deadline
  // "now": arm the timer for it, so the wait below returns at once instead of sleeping on it.
  arm_timer(std::min(stack_.next_deadline(), device_.next_deadline()));
  int timeout_ms = -1;
  if (deadline != kNever) {
    const int64_t us = to_us(deadline) - to_us(clock_now());
    timeout_ms = us <= 0 ? 0 : static_cast<int>(std::min<int64_t>((us + 999) / 1000, 1 << 30));
  }
  std::array<epoll_event, 32> events;
  const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
  if (n < 0 && errno != EINTR) fail(errno, "epoll_wait");
  ++wakeups_;
  bool woken = false;
  for (int i = 0; i < n; ++i) {
    const int fd = events[static_cast<size_t>(i)].data.fd;
    if (fd == timer_fd_) {
      drain_counter(timer_fd_);
      armed_at_ = kNever;  // the one-shot timer has expired
    } else if (fd == wake_fd_) {
      drain_counter(wake_fd_);
      woken = true;
    } else if (fd != device_.fd()) {
      dispatch(fd, events[static_cast<size_t>(i)].events);
    }
    // The device's fd needs no action here: process() below reads it.
  }
  if (woken) run_posted();
  process_and_rearm();
}

void EventLoop::dispatch(int fd, uint32_t events) {
  const size_t i = static_cast<size_t>(fd);
  if (i >= fds_.size() || !fds_[i].watched) return;  // removed by an earlier callback
  // Moved out while it runs, so remove_fd() or add_fd() inside the call cannot destroy it.
  const uint32_t generation = fds_[i].generation;
  FdCallback callback = std::move(fds_[i].callback);
  callback(events);
  FdSlot& slot = fds_[i];  // fds_ may have grown meanwhile
  if (slot.generation == generation) slot.callback = std::move(callback);
}

void EventLoop::run_posted() {
  {
    std::lock_guard lock(posted_mutex_);
    running_.swap(posted_);
  }
  for (auto& task : running_) task();
  running_.clear();
}

void EventLoop::process_and_rearm() {
  for (int round = 0; round < kMaxProcessRounds; ++round) {
    process_requested_ = false;
    // Later rounds only send what the hooks queued: the device was just read to EAGAIN, and
    // another read would be one more system call per wakeup that finds nothing.
    if (round == 0) {
      stack_.process(clock_now());
    } else {
      stack_.flush(clock_now());
    }
    run_hooks();
    if (!process_requested_) break;
  }
  Instant next = std::min(stack_.next_deadline(), device_.next_deadline());
  if (process_requested_) next = clock_now();  // more work: come straight back
  arm_timer(next);
}

void EventLoop::arm_timer(Instant at) {
  // A pending timer that fires earlier than needed is left alone: the early wakeup re-arms
  // it then. Every packet moves the RTO deadline later, and re-arming each time would cost a
  // system call per packet.
  if (at >= armed_at_) return;
  itimerspec spec{};
  if (at != kNever) {
    const int64_t us = std::max<int64_t>(to_us(at), 0);
    spec.it_value.tv_sec = static_cast<time_t>(us / 1'000'000);
    spec.it_value.tv_nsec = static_cast<long>(us % 1'000'000) * 1000;
    // An all-zero it_value would disarm the timer; a time in the past fires at once.
    if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
  }
  if (::timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr) != 0) {
    fail(errno, "timerfd_settime");
  }
  armed_at_ = at;
}

void EventLoop::stop() {
  stopped_ = true;
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::post(std::function<void()> task) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(task));
  }
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

}  // namespace utcp
