// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A one-shot timer on the tool's EventLoop (a timerfd on CLOCK_MONOTONIC, the clock of
// EventLoop::clock_now()): the loop wakes at the deadline, runs the callback, and otherwise
// sleeps as before (no periodic tick for idle tools).
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <system_error>

#include "utcp/event_loop.hpp"

namespace utcp::tools {

class DeadlineTimer {
 public:
  DeadlineTimer(EventLoop& loop, std::function<void()> on_expiry) : loop_(loop) {
    fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "timerfd_create");
    loop_.add_fd(fd_, EPOLLIN, [this, cb = std::move(on_expiry)](uint32_t) {
      uint64_t expirations = 0;
      while (::read(fd_, &expirations, sizeof expirations) > 0) {
      }
      armed_ = kNever;
      cb();
    });
  }
  ~DeadlineTimer() {
    loop_.remove_fd(fd_);
    ::close(fd_);
  }
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  // Fires once at `at` (kNever: disarmed); re-arming to the same instant costs nothing.
  void arm(Instant at) {
    if (at == armed_) return;
    armed_ = at;
    itimerspec spec{};
    if (at != kNever) {
      // Instants are microseconds of CLOCK_MONOTONIC; an all-zero value would disarm.
      const int64_t us = std::max<int64_t>(at.time_since_epoch().count(), 1);
      spec.it_value.tv_sec = us / 1'000'000;
      spec.it_value.tv_nsec = (us % 1'000'000) * 1000;
      if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
    }
    ::timerfd_settime(fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
  }

 private:
  EventLoop& loop_;
  int fd_ = -1;
  Instant armed_ = kNever;
};

}  // namespace utcp::tools
