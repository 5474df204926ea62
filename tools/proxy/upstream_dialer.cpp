// SPDX-License-Identifier: BSD-2-Clause
#include "upstream_dialer.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "common_options.hpp"

namespace utcp::proxy {

namespace {

socklen_t to_sockaddr(const Endpoint& e, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (e.addr.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(e.port);
    sin->sin_addr.s_addr = htonl(e.addr.v4().value);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(e.port);
  std::memcpy(sin6->sin6_addr.s6_addr, e.addr.v6().bytes.data(), 16);
  return sizeof(sockaddr_in6);
}

std::optional<Endpoint> from_sockaddr(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    return Endpoint{Ipv4Addr(ntohl(sin->sin_addr.s_addr)), ntohs(sin->sin_port)};
  }
  if (sa->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    return Endpoint{Ipv6Addr::from_bytes(sin6->sin6_addr.s6_addr), ntohs(sin6->sin6_port)};
  }
  return std::nullopt;
}

// connect()'s errors as the client will see them: no route is an ICMP unreachable, a refusal
// a RST (RFC 1122 §4.2.3.9 maps them the other way round on a host).
DialFailure classify(int err) {
  switch (err) {
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
      return DialFailure::kUnreachable;
    case ETIMEDOUT:
      return DialFailure::kTimeout;
    case EACCES:
    case EPERM:
      return DialFailure::kProhibited;
    default:
      return DialFailure::kRefused;
  }
}

}  // namespace

const char* DialResult::end_word() const {
  switch (failure) {
    case DialFailure::kNone:
      return "";
    case DialFailure::kRefused:
      return "refused";
    case DialFailure::kUnreachable:
      return "unreachable";
    case DialFailure::kProhibited:
      return "prohibited";
    case DialFailure::kTimeout:
      return "timeout";
    case DialFailure::kAuth:
      return "auth-failed";
  }
  return "";
}

std::string upstream_name(const ProxyConfig& config) {
  const std::string server =
      tools::format_endpoint(config.upstream_server.addr, config.upstream_server.port);
  switch (config.upstream) {
    case UpstreamKind::kDirect:
      return "direct";
    case UpstreamKind::kSocks5:
      return "socks5 " + server;
    case UpstreamKind::kHttpConnect:
      return "http " + server;
  }
  return "";
}

// The resolver thread's link back to the dial: it posts the answer to the loop unless the
// dial was cancelled (destroyed) meanwhile, under the mutex the destructor takes too.
struct UpstreamDial::Resolution {
  std::mutex mutex;
  UpstreamDial* dial = nullptr;  // null once cancelled
  EventLoop* loop = nullptr;
};

UpstreamDial::UpstreamDial(EventLoop& loop, const ProxyConfig& config,
                           const UpstreamSocketSetup& setup, Target target, Done done)
    : loop_(loop),
      config_(config),
      setup_(setup),
      target_(std::move(target)),
      done_(std::move(done)),
      self_(std::make_shared<UpstreamDial*>(this)) {
  if (config_.upstream == UpstreamKind::kSocks5) {
    // --socks5-pipeline (and no credentials): the CONNECT request rides with the greeting, one
    // round trip less per connection; else one message at a time, as every server takes.
    const auto send = config_.socks5_pipeline ? Socks5Handshake::Send::kPipelined
                                              : Socks5Handshake::Send::kStepByStep;
    socks_ = std::make_unique<Socks5Handshake>(Socks5Handshake::Command::kConnect, target_,
                                               config_.credentials, send);
  } else if (config_.upstream == UpstreamKind::kHttpConnect) {
    http_ = std::make_unique<HttpConnectHandshake>(target_, config_.credentials);
  }
  if (config_.upstream != UpstreamKind::kDirect) {
    start_connect(config_.upstream_server);
    return;
  }
  if (target_.domain.empty()) {
    start_connect(Endpoint{target_.addr, target_.port});
    return;
  }
  // A name, direct: getaddrinfo blocks, so it runs on a thread of its own.
  resolution_ = std::make_shared<Resolution>();
  resolution_->dial = this;
  resolution_->loop = &loop_;
  std::thread([r = resolution_, name = target_.domain, port = target_.port] {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
    addrinfo* list = nullptr;
    const int rc = ::getaddrinfo(name.c_str(), std::to_string(port).c_str(), &hints, &list);
    std::optional<Endpoint> found;
    for (addrinfo* a = list; rc == 0 && a && !found; a = a->ai_next)
      found = from_sockaddr(a->ai_addr);
    if (list) ::freeaddrinfo(list);
    const std::string why = rc != 0 ? ::gai_strerror(rc) : "no address";
    std::lock_guard lock(r->mutex);
    if (!r->dial) return;
    r->loop->post([r, found, why, name] {
      UpstreamDial* d = nullptr;
      {
        std::lock_guard inner(r->mutex);
        d = r->dial;
      }
      if (!d || d->finished_) return;
      if (!found) return d->fail(DialFailure::kUnreachable, "cannot resolve " + name + ": " + why);
      d->start_connect(*found);
    });
  }).detach();
}

UpstreamDial::~UpstreamDial() {
  *self_ = nullptr;
  if (resolution_) {
    std::lock_guard lock(resolution_->mutex);
    resolution_->dial = nullptr;
  }
  close_fd();
}

void UpstreamDial::close_fd() {
  if (fd_ < 0) return;
  loop_.remove_fd(fd_);
  ::close(fd_);
  fd_ = -1;
}

void UpstreamDial::start_connect(const Endpoint& to) {
  const int family = to.addr.is_v4() ? AF_INET : AF_INET6;
  fd_ = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  std::string error;
  if (fd_ < 0) error = std::string("socket: ") + std::strerror(errno);
  if (fd_ >= 0 && setup_ && !setup_(fd_, error)) {
    ::close(fd_);
    fd_ = -1;
  }
  if (fd_ < 0) return fail_later(DialFailure::kRefused, error);
  // Relayed bytes are forwarded as they come: no Nagle delay (set before connect(), so the
  // handshake's own small writes are not held either, and the relay needs no call of its own).
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_storage ss;
  const socklen_t len = to_sockaddr(to, ss);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) == 0) {
    connected_ = true;
  } else if (errno != EINPROGRESS) {
    const int err = errno;
    return fail_later(classify(err), "connect " + tools::format_endpoint(to.addr, to.port) + ": " +
                                         std::strerror(err));
  }
  // Writable once connected (or failed: EPOLLERR); then the handshake reads and writes.
  // Edge-triggered for both directions: the handshake always reads and writes until EAGAIN,
  // so no epoll_ctl(MOD) is needed between its steps (one system call less per step).
  loop_.add_fd(fd_, EPOLLIN | EPOLLOUT | EPOLLET, [this](uint32_t events) { on_events(events); });
}

void UpstreamDial::on_events(uint32_t events) {
  if (finished_) return;
  if (!connected_) {
    // A failed connect() always raises EPOLLERR (and EPOLLHUP); without them the socket is
    // connected, and asking SO_ERROR would be one system call per connection for nothing.
    int err = 0;
    if ((events & (EPOLLERR | EPOLLHUP)) != 0) {
      socklen_t len = sizeof err;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) err = ECONNREFUSED;
    }
    if (err != 0) {
      const Endpoint to = config_.upstream == UpstreamKind::kDirect
                              ? Endpoint{target_.addr, target_.port}
                              : config_.upstream_server;
      std::string what = config_.upstream == UpstreamKind::kDirect ? "" : "proxy ";
      return fail(classify(err),
                  what + tools::format_endpoint(to.addr, to.port) + ": " + std::strerror(err));
    }
    connected_ = true;
  }
  if (!socks_ && !http_) return finish_ok();
  // Edge-triggered: read only when the edge said there is something (after a write the
  // answer cannot be there yet; its arrival raises EPOLLIN's next edge).
  pump_handshake((events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != 0);
}

void UpstreamDial::pump_handshake(bool readable) {
  // One of the two handshakes, through the same four calls.
  auto output = [this] { return socks_ ? socks_->output() : http_->output(); };
  auto consume = [this](size_t n) {
    socks_ ? socks_->consume_output(n) : http_->consume_output(n);
  };
  auto state = [this] { return socks_ ? socks_->state() : http_->state(); };
  for (;;) {
    if (state() == HandshakeState::kFailed) break;
    const auto out = output();
    if (!out.empty()) {
      const ssize_t n = ::send(fd_, out.data(), out.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        return fail(DialFailure::kRefused,
                    upstream_name(config_) + ": write: " + std::strerror(errno));
      }
      if (n > 0) {
        consume(static_cast<size_t>(n));
        continue;
      }
      return;  // the socket is full: EPOLLOUT's next edge resumes here
    }
    if (!readable) return;  // EPOLLIN's next edge resumes here
    uint8_t buf[2048];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0) {
      return fail(
          DialFailure::kRefused,
          upstream_name(config_) + ": the proxy closed the connection during the handshake");
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // EPOLLIN's next edge resumes here
      return fail(DialFailure::kRefused,
                  upstream_name(config_) + ": read: " + std::strerror(errno));
    }
    const auto got = std::span<const uint8_t>(buf, static_cast<size_t>(n));
    const size_t used = socks_ ? socks_->input(got) : http_->input(got);
    if (state() == HandshakeState::kDone) {
      early_.assign(got.begin() + static_cast<ptrdiff_t>(used), got.end());
      return finish_ok();
    }
  }
  // Failed: which answer the client gets follows the proxy's reply.
  DialFailure why = DialFailure::kRefused;
  std::string error;
  if (socks_) {
    error = socks_->error();
    if (socks_->got_reply()) {
      // RFC 1928 §6 REP: 2 not allowed by ruleset, 3 network / 4 host unreachable, 6 TTL
      // expired; 5 refused and the rest are answered with a RST.
      const uint8_t rep = socks_->reply_code();
      if (rep == 2) why = DialFailure::kProhibited;
      if (rep == 3 || rep == 4 || rep == 6) why = DialFailure::kUnreachable;
    } else if (error.find("authentication") != std::string::npos) {
      why = DialFailure::kAuth;
    }
  } else {
    error = http_->error();
    // RFC 9110 §15.5.4 403, §15.5.8 407, §15.6.3 502, §15.6.5 504.
    const int status = http_->status();
    if (status == 403) why = DialFailure::kProhibited;
    if (status == 407) why = DialFailure::kAuth;
    if (status == 502 || status == 504) why = DialFailure::kUnreachable;
  }
  fail(why, error);
}

void UpstreamDial::finish_ok() {
  finished_ = true;
  loop_.remove_fd(fd_);
  DialResult r;
  r.fd = fd_;
  fd_ = -1;
  r.early = std::move(early_);
  socks_.reset();
  http_.reset();
  done_(std::move(r));  // last: the callee may drop this dial (next round)
}

void UpstreamDial::fail(DialFailure why, std::string error) {
  if (finished_) return;
  finished_ = true;
  close_fd();
  DialResult r;
  r.failure = why;
  r.error = std::move(error);
  done_(std::move(r));
}

void UpstreamDial::fail_later(DialFailure why, std::string error) {
  if (finished_) return;
  finished_ = true;
  close_fd();
  DialResult r;
  r.failure = why;
  r.error = std::move(error);
  loop_.post([alive = std::weak_ptr<UpstreamDial*>(self_), r = std::move(r)]() mutable {
    const auto self = alive.lock();
    if (self && *self) (*self)->done_(std::move(r));
  });
}

void UpstreamDial::expire() {
  if (finished_) return;
  fail(DialFailure::kTimeout,
       "no answer from " +
           (config_.upstream == UpstreamKind::kDirect ? target_text(target_)
                                                      : upstream_name(config_)) +
           " within --connect-timeout");
}

}  // namespace utcp::proxy
