// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// StdFd: one end of a tool's standard I/O on its event loop (utcp-cat, TCP and UDP).
#include <fcntl.h>
#include <sys/epoll.h>

#include <cstdint>
#include <system_error>

#include "utcp/event_loop.hpp"

namespace utcp::tools {

// One end of the program's standard I/O, made non-blocking and watched by the loop when
// epoll can watch it (regular files cannot be, and never block anyway).
class StdFd {
 public:
  StdFd(EventLoop& loop, int fd) : loop_(loop), fd_(fd) {
    saved_flags_ = ::fcntl(fd_, F_GETFL);
    if (saved_flags_ < 0) return;  // closed descriptor: reads and writes fail, seen as EOF
    ::fcntl(fd_, F_SETFL, saved_flags_ | O_NONBLOCK);
    try {
      loop_.add_fd(fd_, 0, [this](uint32_t) { ready_ = true; });
      pollable_ = true;
    } catch (const std::system_error&) {
      pollable_ = false;  // EPERM: a regular file or /dev/null, always ready
    }
  }
  ~StdFd() {
    if (pollable_) loop_.remove_fd(fd_);
    if (saved_flags_ >= 0) ::fcntl(fd_, F_SETFL, saved_flags_);  // the shell's terminal
  }
  StdFd(const StdFd&) = delete;
  StdFd& operator=(const StdFd&) = delete;

  int fd() const { return fd_; }
  // Whether an I/O attempt may succeed now (cleared by the caller on EAGAIN).
  bool ready() const { return !pollable_ || ready_; }
  void set_blocked() { ready_ = false; }
  // Asks epoll for `events` (0: nothing) while the descriptor is blocked.
  void watch(uint32_t events) {
    if (!pollable_ || events == watched_) return;
    loop_.modify_fd(fd_, events);
    watched_ = events;
  }

 private:
  EventLoop& loop_;
  int fd_;
  int saved_flags_ = -1;
  bool pollable_ = false;
  bool ready_ = true;
  uint32_t watched_ = 0;
};

}  // namespace utcp::tools
