// SPDX-License-Identifier: BSD-2-Clause
#include "tcp_relay.hpp"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common_options.hpp"

namespace utcp::proxy {

namespace {

bool would_block(const std::error_code& ec) {
  return ec == std::errc::operation_would_block;
}

bool again(int err) {
  return err == EAGAIN || err == EWOULDBLOCK;
}

// SessionRecord::end for a failure on the TUN side.
const char* client_end(const std::error_code& ec) {
  if (ec == std::errc::connection_reset) return "client-reset";
  if (ec == std::errc::timed_out) return "client-timeout";
  return "client-error";
}

Duration to_duration(std::chrono::milliseconds ms) {
  return Duration(ms.count() * 1000);
}

}  // namespace

TcpRelay::TcpRelay(Stack& stack, EventLoop& loop, const ProxyConfig& config,
                   UpstreamSocketSetup setup, SessionLog& log, NameOf name_of,
                   SessionCount other_sessions)
    : stack_(stack),
      loop_(loop),
      config_(config),
      setup_(std::move(setup)),
      log_(log),
      name_of_(std::move(name_of)),
      other_sessions_(std::move(other_sessions)),
      upstream_name_(upstream_name(config)),
      sweep_timer_(loop, [this] { sweep(); }) {}

TcpRelay::~TcpRelay() {
  abort_all("shutdown");
}

TcpRelay::Session* TcpRelay::by_id(uint64_t id) {
  const auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

bool TcpRelay::on_readiness(SocketId sock, uint32_t) {
  const auto it = by_sock_.find(sock);
  if (it == by_sock_.end()) return false;
  if (Session* s = by_id(it->second); s && !s->queued) {
    s->queued = true;
    work_.push_back(s->id);
  }
  return true;
}

void TcpRelay::after_process() {
  finished_dials_.clear();
  while (const auto request = stack_.next_request()) start(*request);
  std::vector<uint64_t> work;
  work.swap(work_);
  for (const uint64_t id : work) {
    if (Session* s = by_id(id)) {
      s->queued = false;
      pump(*s);
    }
  }
  arm_sweep();
}

void TcpRelay::start(const ConnectionRequest& request) {
  std::error_code ec;
  SessionRecord record;
  record.client = request.remote;
  record.destination = request.local;
  record.upstream = upstream_name_;
  Target target{request.local.addr, "", request.local.port};
  if (name_of_) {
    if (auto name = name_of_(request.local.addr)) target.domain = record.domain = *name;
  }
  const size_t others = other_sessions_ ? other_sessions_() : 0;
  if (draining_ || sessions_.size() + others >= config_.max_sessions) {
    // Shutting down, or --max-sessions reached: refused as a closed port would (RST).
    stack_.reset_request(request.id, ec);
    log_.close(log_.open(std::move(record)), draining_ ? "shutdown" : "limit");
    loop_.request_process();
    return;
  }
  const uint64_t id = log_.open(std::move(record));
  Session& s = sessions_.try_emplace(id).first->second;
  s.id = id;
  s.request = request.id;
  s.deadline = EventLoop::clock_now() + to_duration(config_.connect_timeout);
  s.dial = std::make_unique<UpstreamDial>(
      loop_, config_, setup_, std::move(target),
      [this, id](DialResult result) { on_dialed(id, std::move(result)); });
}

void TcpRelay::on_dialed(uint64_t id, DialResult result) {
  Session* s = by_id(id);
  if (!s) {
    if (result.fd >= 0) ::close(result.fd);
    return;
  }
  finished_dials_.push_back(std::move(s->dial));  // we are inside its callback
  std::error_code ec;
  if (result.failure != DialFailure::kNone) {
    // Answer the SYN the way the upstream answered us.
    switch (result.failure) {
      case DialFailure::kUnreachable:
      case DialFailure::kTimeout:
        stack_.reject_request(s->request, RejectReason::kHostUnreachable, ec);
        break;
      case DialFailure::kProhibited:
        stack_.reject_request(s->request, RejectReason::kAdminProhibited, ec);
        break;
      default:
        stack_.reset_request(s->request, ec);
        break;
    }
    log_.close(id, result.end_word(), result.error);
    sessions_.erase(id);
    loop_.request_process();
    return;
  }
  const SocketId sock = stack_.accept_request(s->request, ec);
  if (ec) {
    // invalid_argument: the request is gone (the client reset it, or it timed out in the
    // stack); otherwise the stack is full (max_connections): a RST.
    const bool gone = ec == std::errc::invalid_argument;
    if (!gone) stack_.reset_request(s->request, ec);
    ::close(result.fd);
    log_.close(id, gone ? "client-gone" : "limit");
    sessions_.erase(id);
    loop_.request_process();
    return;
  }
  s->sock = sock;
  s->fd = result.fd;
  by_sock_[sock] = id;
  // Relayed bytes are forwarded as they come: no Nagle delay on either side (the upstream
  // socket got TCP_NODELAY from UpstreamDial before its connect()).
  stack_.set_nodelay(sock, true);
  s->down.append(result.early);  // the destination spoke first (fits: a handshake read)
  if (SessionRecord* r = log_.find(id)) r->bytes_down += result.early.size();
  s->deadline = config_.tcp_idle_timeout.count() > 0
                    ? EventLoop::clock_now() + to_duration(config_.tcp_idle_timeout)
                    : kNever;
  loop_.request_process();
  pump(*s);
}

void TcpRelay::on_fd(uint64_t id, uint32_t events) {
  Session* s = by_id(id);
  if (!s) return;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) s->up_readable = true;
  if (events & EPOLLERR) {
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return finish(*s, "upstream-reset", true, false, std::strerror(err));
  }
  pump(*s);
}

void TcpRelay::watch_fd(Session& s, uint32_t events) {
  if (events == s.fd_events) return;
  // Nothing wanted: unwatched, so a hung-up socket (EPOLLHUP is always reported) cannot spin
  // the loop while utcp's side drains; pump() reads it again when there is room.
  if (events == 0) {
    loop_.remove_fd(s.fd);
  } else if (s.fd_events == 0) {
    const uint64_t id = s.id;
    loop_.add_fd(s.fd, events, [this, id](uint32_t ev) { on_fd(id, ev); });
  } else {
    loop_.modify_fd(s.fd, events);
  }
  s.fd_events = events;
}

void TcpRelay::pump(Session& s) {
  if (s.sock == kNoSocket) return;  // still dialing
  SessionRecord* record = log_.find(s.id);
  std::error_code ec;
  bool moved = false;
  for (bool progress = true; progress;) {
    progress = false;
    // Client -> upstream: what is held first, then new bytes only while nothing is held.
    while (!s.up.empty()) {
      const ssize_t n = ::send(s.fd, s.up.data().data(), s.up.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && again(errno)) break;
      if (n <= 0) return finish(s, "upstream-reset", true, false, std::strerror(errno));
      s.up.consume(static_cast<size_t>(n));
      progress = true;
    }
    while (!s.client_eof && s.up.empty()) {
      // While the upstream socket's buffer is full, take small reads: what the kernel does not
      // accept stays held here, so a stalled upstream costs at most kSlowRead per session.
      const size_t want = s.up_slow ? kSlowRead : scratch_.size();
      const size_t n = stack_.recv(s.sock, std::span(scratch_).first(want), ec);
      if (would_block(ec)) break;
      if (ec) return finish(s, client_end(ec), false, true, ec.message());
      progress = true;
      if (n == 0) {
        s.client_eof = true;  // the client's FIN
        break;
      }
      if (record) record->bytes_up += n;
      ssize_t w = ::send(s.fd, scratch_.data(), n, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) w = ::send(s.fd, scratch_.data(), n, MSG_NOSIGNAL);
      if (w < 0 && !again(errno)) {
        return finish(s, "upstream-reset", true, false, std::strerror(errno));
      }
      const size_t sent = w > 0 ? static_cast<size_t>(w) : 0;
      s.up_slow = sent < n;
      s.up.append(std::span<const uint8_t>(scratch_).subspan(sent, n - sent));
    }
    if (s.client_eof && s.up.empty() && !s.up_shut) {
      // Half-close carried upstream; the other direction keeps flowing.
      ::shutdown(s.fd, SHUT_WR);
      s.up_shut = true;
      progress = true;
    }
    // Upstream -> client.
    while (!s.down.empty()) {
      const size_t n = stack_.send(s.sock, s.down.data(), ec);
      if (would_block(ec)) break;
      if (ec) return finish(s, client_end(ec), false, true, ec.message());
      s.down.consume(n);
      progress = true;
    }
    // New bytes are peeked, handed to utcp, and only what utcp took is taken from the socket
    // (MSG_TRUNC: dropped without a copy): the rest stays in the kernel's buffer, so this
    // direction holds nothing, and a client that does not read closes the upstream's window.
    s.down_blocked = false;
    while (!s.upstream_eof && s.down.empty() && s.up_readable) {
      const ssize_t n = ::recv(s.fd, scratch_.data(), scratch_.size(), MSG_PEEK);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && again(errno)) {
        s.up_readable = false;  // until epoll reports EPOLLIN (watched below)
        break;
      }
      if (n < 0) return finish(s, "upstream-reset", true, false, std::strerror(errno));
      if (n == 0) {
        s.upstream_eof = true;
        progress = true;
        break;
      }
      const auto got = std::span<const uint8_t>(scratch_).first(static_cast<size_t>(n));
      const size_t sent = stack_.send(s.sock, got, ec);
      if (ec && !would_block(ec)) return finish(s, client_end(ec), false, true, ec.message());
      if (sent > 0) {
        // tcp(7): MSG_TRUNC on a TCP socket discards the bytes instead of copying them.
        const ssize_t dropped = ::recv(s.fd, scratch_.data(), sent, MSG_TRUNC);
        if (dropped != static_cast<ssize_t>(sent)) {
          return finish(s, "upstream-reset", true, false, "lost bytes dropping peeked data");
        }
        if (record) record->bytes_down += sent;
        progress = true;
      }
      if (sent < got.size()) {
        s.down_blocked = true;  // utcp's send buffer is full: wait for its writable readiness
        break;
      }
      // Less than asked for: the socket had no more just now, so another peek would find
      // nothing (EAGAIN); epoll reports what comes next (or the EOF).
      if (got.size() < scratch_.size()) s.up_readable = false;
    }
    if (s.upstream_eof && s.down.empty() && !s.down_shut) {
      stack_.shutdown_write(s.sock, ec);  // our FIN after what was sent (RFC 9293 §3.10.4)
      s.down_shut = true;
      progress = true;
    }
    moved = moved || progress;
  }
  s.up.release_if_empty();
  s.down.release_if_empty();
  if (moved) {
    loop_.request_process();
    if (config_.tcp_idle_timeout.count() > 0) {
      s.deadline = EventLoop::clock_now() + to_duration(config_.tcp_idle_timeout);
    }
  }
  // A reset or timeout on the TUN side that no call above ran into.
  if (stack_.readiness(s.sock) & ready::kError) {
    const std::error_code why = stack_.error(s.sock);
    return finish(s, client_end(why), false, true, why.message());
  }
  if (s.up_shut && s.down_shut) return finish(s, "closed", false, false, "");
  uint32_t want = 0;
  if (!s.upstream_eof && s.down.empty() && !s.down_blocked) want |= EPOLLIN;
  if (!s.up.empty()) want |= EPOLLOUT;
  watch_fd(s, want);
}

void TcpRelay::finish(Session& s, const std::string& why, bool reset_client, bool reset_upstream,
                      const std::string& detail) {
  const uint64_t id = s.id;
  std::optional<TcpSummary> tcp;
  if (s.sock != kNoSocket) {
    if (const auto info = stack_.tcp_info(s.sock)) tcp = TcpSummary::from(*info);
    // close() is graceful (FIN after the data, in the background); abort() sends a RST.
    if (reset_client) {
      stack_.abort(s.sock);
    } else {
      stack_.close(s.sock);
    }
    by_sock_.erase(s.sock);
  }
  if (s.fd >= 0) {
    if (s.fd_events != 0) loop_.remove_fd(s.fd);
    if (reset_upstream) {
      // SO_LINGER with a zero timeout: close() sends a RST instead of a FIN.
      const linger abort_now{1, 0};
      ::setsockopt(s.fd, SOL_SOCKET, SO_LINGER, &abort_now, sizeof abort_now);
    }
    ::close(s.fd);
  }
  log_.close(id, why, detail, tcp);
  sessions_.erase(id);  // `s` is gone
  loop_.request_process();
}

void TcpRelay::abort_all(const std::string& why) {
  std::vector<uint64_t> ids;
  ids.reserve(sessions_.size());
  for (const auto& [id, s] : sessions_) ids.push_back(id);
  for (const uint64_t id : ids) {
    Session* s = by_id(id);
    if (!s) continue;
    if (s->sock == kNoSocket) {
      std::error_code ec;
      stack_.reset_request(s->request, ec);
      log_.close(id, why);
      sessions_.erase(id);  // the dial is cancelled with it
      continue;
    }
    finish(*s, why, true, true, "");
  }
  loop_.request_process();
}

void TcpRelay::sweep() {
  sweep_at_ = kNever;
  const Instant now = EventLoop::clock_now();
  std::vector<uint64_t> due;
  for (const auto& [id, s] : sessions_) {
    if (s.deadline <= now) due.push_back(id);
  }
  for (const uint64_t id : due) {
    Session* s = by_id(id);
    if (!s) continue;
    if (s->dial) {
      s->dial->expire();  // on_dialed answers the SYN and ends the session
    } else if (s->sock != kNoSocket) {
      finish(*s, "idle", true, true, "");
    }
  }
  arm_sweep();
}

void TcpRelay::arm_sweep() {
  if (sweep_at_ != kNever || sessions_.empty()) return;
  // The timeouts are checked by one timer for all sessions, at a quarter of the shortest
  // timeout (100 ms to 1 s): a session outlives its timeout by at most that much.
  auto shortest = config_.connect_timeout;
  if (config_.tcp_idle_timeout.count() > 0) {
    shortest = std::min(shortest, config_.tcp_idle_timeout);
  }
  const auto period = std::clamp<int64_t>(shortest.count() / 4, 100, 1000);
  sweep_at_ = EventLoop::clock_now() + Duration(period * 1000);
  sweep_timer_.arm(sweep_at_);
}

}  // namespace utcp::proxy
