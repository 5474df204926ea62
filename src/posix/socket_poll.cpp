// SPDX-License-Identifier: BSD-2-Clause
// poll() over facade descriptors, with Linux's tcp_poll() meaning of each bit.
#include <algorithm>
#include <cerrno>

#include "posix/socket_entry.hpp"
#include "utcp/posix.hpp"

namespace utcp::posix {

namespace {
constexpr short kIn = POLLIN | POLLRDNORM;
constexpr short kOut = POLLOUT | POLLWRNORM;
}  // namespace

short Sockets::poll_events(int fd) const {
  const Entry* e = find(fd);
  if (!e) return POLLNVAL;
  switch (e->kind) {
    case EntryKind::kFresh:
      return kOut | POLLHUP;  // Linux: a TCP_CLOSE socket hangs up
    case EntryKind::kListener:
      return (stack_->readiness(e->id) & ready::kAcceptable) ? kIn : short{0};
    case EntryKind::kDatagram:
      return dgram_poll(*e);
    case EntryKind::kConnection:
      break;
  }
  const uint32_t r = stack_->readiness(e->id);
  const tcp::State s = stack_->state(e->id);
  short mask = 0;
  if ((r & ready::kError) && !e->error_taken) mask |= POLLERR;
  const bool closed = s == tcp::State::kClosed;
  const bool peer_done = (r & ready::kHangup) != 0 || closed;
  const bool write_done = e->write_shut || closed;
  if (peer_done && write_done) mask |= POLLHUP;
  if (peer_done || e->read_shut) mask |= kIn | POLLRDHUP;
  if (s != tcp::State::kSynSent && s != tcp::State::kSynReceived) {
    if (r & ready::kReadable) mask |= kIn;
    if (r & ready::kUrgent) mask |= POLLPRI;  // Linux: urgent data pending, inline or not
    if (write_done || (r & ready::kWritable)) mask |= kOut;
  }
  return mask;
}

int Sockets::poll(pollfd* fds, nfds_t nfds, int timeout_ms) {
  if (nfds > 0 && !fds) return errno = EFAULT, -1;
  const Instant start = host_ ? host_->now() : stack_->now();
  const Instant deadline = timeout_ms < 0 ? kNever : start + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int count = 0;
    for (nfds_t i = 0; i < nfds; ++i) {
      fds[i].revents = 0;
      if (fds[i].fd < 0) continue;
      const short ev = poll_events(fds[i].fd);
      // POLLERR, POLLHUP and POLLNVAL are reported whether asked for or not.
      fds[i].revents = static_cast<short>(ev & (fds[i].events | POLLERR | POLLHUP | POLLNVAL));
      if (fds[i].revents) ++count;
    }
    if (count > 0 || timeout_ms == 0 || !host_) return count;  // no host: never waits
    const Instant now = host_ ? host_->now() : stack_->now();
    if (now >= deadline) return 0;
    if (!wait_until(deadline)) return errno = EINTR, -1;
  }
}

}  // namespace utcp::posix
