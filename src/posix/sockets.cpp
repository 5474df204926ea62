// SPDX-License-Identifier: BSD-2-Clause
// The POSIX facade: descriptors, connection set-up and the data calls. Errno choices follow
// what Linux returns for the same situation (net/ipv4/af_inet.c, tcp.c behaviour).
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "posix/errno_map.hpp"
#include "posix/iovec_cursor.hpp"
#include "posix/sockaddr_codec.hpp"
#include "posix/socket_entry.hpp"
#include "utcp/posix.hpp"

namespace utcp::posix {

namespace {
constexpr int kFirstFd = 3;  // 0-2 look like stdio, as in a fresh process

bool is_would_block(const std::error_code& ec) {
  return ec == std::errc::operation_would_block || ec == std::errc::resource_unavailable_try_again;
}
}  // namespace

Sockets::Sockets(Stack& stack, SocketHost* host) : stack_(&stack), host_(host) {}
Sockets::~Sockets() = default;

bool Sockets::holds_stack_sockets() const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [](const Entry& e) { return e.open && e.id != kNoSocket; });
}

bool Sockets::replace_stack(Stack& stack) {
  if (holds_stack_sockets()) return false;
  stack_ = &stack;
  return true;
}

Sockets::Entry* Sockets::find(int fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= entries_.size() || !entries_[fd].open) return nullptr;
  return &entries_[fd];
}
const Sockets::Entry* Sockets::find(int fd) const {
  if (fd < 0 || static_cast<size_t>(fd) >= entries_.size() || !entries_[fd].open) return nullptr;
  return &entries_[fd];
}

int Sockets::fail(int err) const {
  errno = err;
  return -1;
}

SocketId Sockets::socket_id(int fd) const {
  const Entry* e = find(fd);
  return e ? e->id : kNoSocket;
}

// API calls leave segments to send; the stack sends them from process().
void Sockets::apply_options(const Entry& e) {
  if (e.kind == EntryKind::kDatagram) {
    // SO_RCVBUF sizes a UDP socket's receive queue (payload bytes).
    for (const SocketId s : {e.udp4, e.udp6}) {
      if (s != kNoSocket && e.rcvbuf) stack_->set_udp_recv_queue(s, e.rcvbuf, 1024);
    }
    return;
  }
  if (e.kind != EntryKind::kConnection || e.id == kNoSocket) return;
  if (e.nodelay) stack_->set_nodelay(e.id, true);
  if (e.keepalive) stack_->set_keepalive(e.id, *e.keepalive);
  if (e.user_timeout) stack_->set_user_timeout(e.id, *e.user_timeout);
  if (e.sndbuf || e.rcvbuf) stack_->set_buffer_sizes(e.id, e.sndbuf, e.rcvbuf);
  if (e.maxseg) stack_->set_mss(e.id, e.maxseg);
  if (e.cork) stack_->set_cork(e.id, true);
  if (e.notsent_lowat) stack_->set_notsent_lowat(e.id, e.notsent_lowat);
}

void Sockets::kick() {
  stack_->process(host_ ? host_->now() : stack_->now());
}

bool Sockets::wait_until(Instant deadline) {
  if (!host_) return false;
  return host_->wait(deadline);
}

int Sockets::take_error(Entry& e) {
  if (e.id == kNoSocket || e.error_taken) return 0;
  const std::error_code ec = stack_->error(e.id);
  if (!ec) return 0;
  e.error_taken = true;
  return errno_of(ec);
}

int Sockets::socket(int domain, int type, int protocol) {
  if (domain != AF_INET && (domain != AF_INET6 || !stack_->config().ipv6)) {
    return fail(EAFNOSUPPORT);
  }
  const int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
  const int kind = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (kind != SOCK_STREAM && kind != SOCK_DGRAM) return fail(EPROTONOSUPPORT);
  const int proto = kind == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
  if (protocol != 0 && protocol != proto) return fail(EPROTONOSUPPORT);
  size_t fd = kFirstFd;
  while (fd < entries_.size() && entries_[fd].open) ++fd;
  if (fd >= entries_.size()) entries_.resize(fd + 1);
  entries_[fd] = Entry{};
  entries_[fd].open = true;
  entries_[fd].domain = domain;
  if (kind == SOCK_DGRAM) entries_[fd].kind = EntryKind::kDatagram;
  entries_[fd].nonblocking = (flags & SOCK_NONBLOCK) != 0;
  entries_[fd].cloexec = (flags & SOCK_CLOEXEC) != 0;
  return static_cast<int>(fd);
}

int Sockets::bind(int fd, const sockaddr* addr, socklen_t len) {
  Entry* e = find(fd);
  if (!e) return fail(EBADF);
  SockAddr want;
  if (const int err = decode_sockaddr(e->domain, addr, len, want)) return fail(err);
  const bool dgram = e->kind == EntryKind::kDatagram;
  if (e->bound || (e->kind != EntryKind::kFresh && !dgram) || e->port != 0) return fail(EINVAL);
  // RFC 3493 §5.3: an IPv6-only socket has no IPv4 address to take (Linux: EINVAL).
  if (want.mapped && e->v6only) return fail(EINVAL);
  const StackConfig& cfg = stack_->config();
  const bool own = want.addr.is_v4() ? want.addr.v4() == cfg.address
                                     : cfg.ipv6 && want.addr.v6() == cfg.address6;
  if (!want.addr.is_unspecified() && !own) return fail(EADDRNOTAVAIL);
  if (dgram) {
    // UDP ports are their own space: the Stack's UDP table checks the conflicts.
    if (const int err = dgram_bind(*e, want.addr, want.port, want.mapped)) return fail(err);
    e->bound = true;
    return 0;
  }
  Entry probe = *e;
  probe.addr = want.addr;
  probe.bound_mapped = want.mapped;
  if (want.port != 0) {
    for (const Entry& other : entries_) {
      if (&other != e && other.open && other.bound && other.port == want.port &&
          other.kind != EntryKind::kDatagram && (other.families() & probe.families()) != 0 &&
          !(other.reuseaddr && e->reuseaddr && other.kind != EntryKind::kListener)) {
        return fail(EADDRINUSE);
      }
    }
  }
  e->bound = true;
  e->port = want.port;
  e->addr = want.addr;
  e->bound_mapped = want.mapped;
  return 0;
}

int Sockets::listen(int fd, int backlog) {
  Entry* e = find(fd);
  if (!e) return fail(EBADF);
  if (e->kind == EntryKind::kListener) return 0;  // Linux lets listen() adjust the backlog
  if (e->kind == EntryKind::kDatagram) return fail(EOPNOTSUPP);
  if (e->kind != EntryKind::kFresh) return fail(EINVAL);
  std::error_code ec;
  ListenOptions lo;
  lo.backlog = backlog <= 0 ? 1u : static_cast<uint32_t>(backlog);
  // A dual-stack socket takes both families; AF_INET, IPV6_V6ONLY or a bound address one.
  lo.v4only = e->families() == Entry::kV4;
  lo.v6only = e->families() == Entry::kV6;
  const SocketId id = stack_->listen(e->port, lo, ec);
  if (ec) return fail(errno_of(ec));
  // SYN-ACKs and accepted connections carry it (one value per listener: an IPv6 socket's
  // traffic class when it takes IPv6).
  stack_->set_tos(id, e->diffserv(!lo.v4only));
  e->kind = EntryKind::kListener;
  e->id = id;
  if (e->maxseg) stack_->set_mss(id, e->maxseg);  // for the connections it will accept
  e->bound = true;
  if (e->port == 0) e->port = stack_->local_endpoint(id).port;
  kick();
  return 0;
}

int Sockets::accept(int fd, sockaddr* addr, socklen_t* len) {
  return accept4(fd, addr, len, 0);
}

int Sockets::accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  Entry* e = find(fd);
  if (!e) return fail(EBADF);
  if (e->kind == EntryKind::kDatagram) return fail(EOPNOTSUPP);
  if (e->kind != EntryKind::kListener) return fail(EINVAL);
  if (addr && !len) return fail(EFAULT);
  for (;;) {
    std::error_code ec;
    Endpoint peer;
    const SocketId id = stack_->accept(e->id, ec, &peer);
    if (!ec && id != kNoSocket) {
      const int nfd = socket(e->domain, SOCK_STREAM, 0);
      e = find(fd);  // socket() may have grown entries_
      Entry& n = entries_[nfd];
      n.v6only = e->v6only;
      n.tclass = e->tclass;
      n.kind = EntryKind::kConnection;
      n.id = id;
      n.bound = true;
      n.port = e->port;
      n.connected = true;
      n.nonblocking = (flags & SOCK_NONBLOCK) != 0;
      n.cloexec = (flags & SOCK_CLOEXEC) != 0;
      n.nodelay = e->nodelay;
      n.tos = e->tos;              // the stack gave the connection the listener's already
      n.reuseaddr = e->reuseaddr;  // Linux: accepted sockets inherit the listener's options
      n.keepalive = e->keepalive;
      n.user_timeout = e->user_timeout;
      n.sndbuf = e->sndbuf;
      n.rcvbuf = e->rcvbuf;
      n.maxseg = e->maxseg;
      apply_options(n);
      if (addr) encode_sockaddr(e->domain, peer.addr, peer.port, addr, len);
      kick();
      return nfd;
    }
    if (ec && !is_would_block(ec)) return fail(errno_of(ec));
    if (e->nonblocking || !host_) return fail(EAGAIN);
    if (!wait_until(kNever)) return fail(EINTR);
    e = find(fd);
    if (!e || e->kind != EntryKind::kListener) return fail(EBADF);
  }
}

int Sockets::connect(int fd, const sockaddr* addr, socklen_t len) {
  Entry* e = find(fd);
  if (!e) return fail(EBADF);
  if (e->kind == EntryKind::kDatagram) return dgram_connect(*e, addr, len);
  SockAddr to;
  if (const int err = decode_sockaddr(e->domain, addr, len, to)) return fail(err);
  // RFC 3493 §5.3: no IPv4 peer for an IPv6-only socket (Linux: ENETUNREACH).
  if (to.mapped && e->v6only) return fail(ENETUNREACH);
  if (e->kind == EntryKind::kListener) return fail(EISCONN);
  if (e->kind == EntryKind::kConnection) {
    if (e->connected) return fail(EISCONN);
    if (e->connecting) {
      const tcp::State s = stack_->state(e->id);
      if (s == tcp::State::kSynSent || s == tcp::State::kSynReceived) {
        if (e->nonblocking || !host_) return fail(EALREADY);
      }
      return finish_connect(*e);
    }
    return fail(EISCONN);
  }
  std::error_code ec;
  ConnectOptions options;        // bind()'s address and port (RFC 9293 §3.9.1.1), IP_TOS
  options.local_addr = e->addr;  // unspecified of either family fits either destination
  options.local_port = e->bound ? e->port : 0;
  options.tos = e->diffserv(to.addr.is_v6());
  const SocketId id = stack_->connect(to.addr, to.port, options, ec);
  if (ec) return fail(errno_of(ec));
  e->kind = EntryKind::kConnection;
  e->id = id;
  e->connecting = true;
  e->bound = true;
  e->port = stack_->local_endpoint(id).port;
  apply_options(*e);
  kick();
  if (e->nonblocking || !host_) return fail(EINPROGRESS);
  return finish_connect(*e);
}

// Waits (if blocking) for the handshake to finish and reports it once, as Linux's
// inet_stream_connect does: 0 on success, the connection's error otherwise.
int Sockets::finish_connect(Entry& e) {
  const int fd = static_cast<int>(&e - entries_.data());
  for (;;) {
    Entry* cur = find(fd);
    if (!cur) return fail(EBADF);
    const uint32_t r = stack_->readiness(cur->id);
    if (r & ready::kError) {
      cur->connecting = false;
      const int err = take_error(*cur);
      return fail(err ? err : ECONNABORTED);
    }
    if (r & ready::kConnected) {
      cur->connecting = false;
      cur->connected = true;
      return 0;
    }
    if (cur->nonblocking || !host_) return fail(EALREADY);
    if (!wait_until(kNever)) return fail(EINTR);
  }
}

ssize_t Sockets::read(int fd, void* buf, size_t count) {
  return recv(fd, buf, count, 0);
}

ssize_t Sockets::readv(int fd, const iovec* iov, int iovcnt) {
  if (iovcnt < 0 || iovcnt > IOV_MAX) return fail(EINVAL);
  return recv_iov(fd, iov, iovcnt, 0);
}

ssize_t Sockets::recv(int fd, void* buf, size_t len, int flags) {
  iovec one{buf, len};
  return recv_iov(fd, &one, 1, flags);
}

ssize_t Sockets::recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* src,
                          socklen_t* srclen) {
  // Linux writes the source address through `srclen`: without it the call fails with EFAULT.
  // Checked before reading so no data is lost with the error.
  if (src && !srclen) return fail(find(fd) ? EFAULT : EBADF);
  if (const Entry* e = find(fd); e && e->kind == EntryKind::kDatagram) {
    iovec one{buf, len};
    return dgram_recv(fd, &one, 1, flags, src, srclen, nullptr);
  }
  const ssize_t n = recv(fd, buf, len, flags);
  if (n >= 0 && src && srclen) *srclen = 0;  // TCP: no per-datagram source address
  return n;
}

ssize_t Sockets::recvmsg(int fd, msghdr* msg, int flags) {
  if (!msg) return fail(EFAULT);
  if (msg->msg_iovlen > IOV_MAX) return fail(EMSGSIZE);  // Linux: more than UIO_MAXIOV
  if (const Entry* e = find(fd); e && e->kind == EntryKind::kDatagram) {
    auto* name = static_cast<sockaddr*>(msg->msg_name);
    socklen_t namelen = name ? msg->msg_namelen : 0;
    int mflags = 0;
    const ssize_t n = dgram_recv(fd, msg->msg_iov, static_cast<int>(msg->msg_iovlen), flags, name,
                                 &namelen, &mflags);
    if (n >= 0) {
      msg->msg_namelen = name ? namelen : 0;
      msg->msg_controllen = 0;
      msg->msg_flags = mflags;  // MSG_TRUNC: the datagram was longer than the buffers
    }
    return n;
  }
  const ssize_t n = recv_iov(fd, msg->msg_iov, static_cast<int>(msg->msg_iovlen), flags);
  if (n >= 0) {
    msg->msg_namelen = 0;
    msg->msg_controllen = 0;
    msg->msg_flags = 0;
  }
  return n;
}

ssize_t Sockets::recv_iov(int fd, const iovec* iov, int iovcnt, int flags) {
  Entry* e = find(fd);
  if (!e) return fail(EBADF);
  if (e->kind == EntryKind::kDatagram)
    return dgram_recv(fd, iov, iovcnt, flags, nullptr, nullptr, nullptr);
  // A NULL buffer with a length (read(fd, NULL, n)) is EFAULT, never a write through NULL.
  if (!IovecCursor::valid(iov, iovcnt)) return fail(EFAULT);
  if (flags & ~(MSG_DONTWAIT | MSG_WAITALL | MSG_NOSIGNAL | MSG_OOB)) return fail(EOPNOTSUPP);
  if (e->kind == EntryKind::kListener) return fail(ENOTCONN);
  // Urgent data stays in the stream (RFC 6093 §4; Linux with SO_OOBINLINE set), so there is no
  // out-of-band byte to fetch: Linux's tcp_recv_urg() answers EINVAL for MSG_OOB then.
  if (flags & MSG_OOB) return fail(EINVAL);
  if (e->kind != EntryKind::kConnection) return fail(ENOTCONN);
  IovecCursor cur(iov, iovcnt);
  if (cur.done()) return 0;
  const bool nonblocking = e->nonblocking || (flags & MSG_DONTWAIT) || !host_;
  size_t got = 0;
  for (;;) {
    e = find(fd);
    if (!e) return got ? static_cast<ssize_t>(got) : fail(EBADF);
    if (e->read_shut) return static_cast<ssize_t>(got);
    // Linux ends a read just before the last urgent byte (the mark, where SIOCATMARK is true),
    // so a reader can tell where the urgent data ends; the next read starts with that byte.
    size_t limit = SIZE_MAX;
    if (const auto mark = stack_->urgent_mark(e->id); mark && *mark > 1) limit = *mark - 1;
    bool would_block = false;
    while (!cur.done() && limit > 0) {
      std::error_code ec;
      const size_t n = stack_->recv(e->id, cur.chunk(limit), ec);
      if (ec) {
        if (!is_would_block(ec)) {
          if (got) return static_cast<ssize_t>(got);
          const int err = take_error(*e);
          if (err) return fail(err);
          return 0;  // the error was reported before: end of stream, as Linux
        }
        would_block = true;
        break;
      }
      if (n == 0) return static_cast<ssize_t>(got);  // the peer's FIN
      got += n;
      limit -= n;
      cur.advance(n);
    }
    if (got) kick();  // reading may open the window (window update)
    if (cur.done() || !would_block) return static_cast<ssize_t>(got);
    if (got && !(flags & MSG_WAITALL)) return static_cast<ssize_t>(got);
    if (nonblocking) return got ? static_cast<ssize_t>(got) : fail(EAGAIN);
    if (!wait_until(kNever)) return got ? static_cast<ssize_t>(got) : fail(EINTR);
  }
}

ssize_t Sockets::write(int fd, const void* buf, size_t count) {
  return send(fd, buf, count, 0);
}

ssize_t Sockets::writev(int fd, const iovec* iov, int iovcnt) {
  if (iovcnt < 0 || iovcnt > IOV_MAX) return fail(EINVAL);
  return send_iov(fd, iov, iovcnt, 0);
}

ssize_t Sockets::send(int fd, const void* buf, size_t len, int flags) {
  iovec one{const_cast<void*>(buf), len};
  return send_iov(fd, &one, 1, flags);
}

ssize_t Sockets::sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* dst,
                        socklen_t dstlen) {
  Entry* e = find(fd);
  if (!e) return fail(EBADF);
  if (e->kind == EntryKind::kDatagram) {
    iovec one{const_cast<void*>(buf), len};
    return dgram_send(fd, &one, 1, flags, dst, dstlen);
  }
  // Linux ignores the address on a connected TCP socket and refuses it on an unconnected one.
  if (dst && dstlen && e->kind != EntryKind::kConnection) return fail(EPIPE);
  return send(fd, buf, len, flags);
}

ssize_t Sockets::sendmsg(int fd, const msghdr* msg, int flags) {
  if (!msg) return fail(EFAULT);
  if (msg->msg_iovlen > IOV_MAX) return fail(EMSGSIZE);
  if (const Entry* e = find(fd); e && e->kind == EntryKind::kDatagram) {
    return dgram_send(fd, msg->msg_iov, static_cast<int>(msg->msg_iovlen), flags,
                      static_cast<const sockaddr*>(msg->msg_name), msg->msg_namelen);
  }
  return send_iov(fd, msg->msg_iov, static_cast<int>(msg->msg_iovlen), flags);
}

ssize_t Sockets::send_iov(int fd, const iovec* iov, int iovcnt, int flags) {
  Entry* e = find(fd);
  if (!e) return fail(EBADF);
  if (e->kind == EntryKind::kDatagram) return dgram_send(fd, iov, iovcnt, flags, nullptr, 0);
  // write(fd, NULL, n) is EFAULT, never a copy from NULL.
  if (!IovecCursor::valid(iov, iovcnt)) return fail(EFAULT);
  if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE | MSG_OOB)) return fail(EOPNOTSUPP);
  // Linux: a socket that never connected, or a listener, fails with EPIPE.
  if (e->kind != EntryKind::kConnection) return fail(EPIPE);
  const bool nonblocking = e->nonblocking || (flags & MSG_DONTWAIT) || !host_;
  // MSG_OOB: the urgent pointer ends up past the last byte taken (RFC 9293 §3.8.5, RFC 6093).
  const bool urgent = (flags & MSG_OOB) != 0;
  IovecCursor cur(iov, iovcnt);
  const size_t want = cur.total();
  size_t sent = 0;
  for (;;) {
    e = find(fd);
    if (!e) return sent ? static_cast<ssize_t>(sent) : fail(EBADF);
    if (const int err = take_error(*e)) return sent ? static_cast<ssize_t>(sent) : fail(err);
    if (e->write_shut) return sent ? static_cast<ssize_t>(sent) : fail(EPIPE);
    if (want == 0) return 0;
    bool would_block = false;
    while (!cur.done()) {
      std::error_code ec;
      const std::span<const uint8_t> src = cur.chunk();
      // MSG_MORE: the short tail waits for the next send() (Linux; Stack::send_more).
      const size_t n = urgent               ? stack_->send_urgent(e->id, src, ec)
                       : (flags & MSG_MORE) ? stack_->send_more(e->id, src, ec)
                                            : stack_->send(e->id, src, ec);
      if (ec && !is_would_block(ec)) {
        kick();
        if (sent) return static_cast<ssize_t>(sent);
        const int err = take_error(*e);
        return fail(err ? err : EPIPE);
      }
      sent += n;
      cur.advance(n);
      if (ec || n == 0) {
        would_block = true;
        break;
      }
    }
    kick();
    if (sent == want || !would_block) return static_cast<ssize_t>(sent);
    if (nonblocking) return sent ? static_cast<ssize_t>(sent) : fail(EAGAIN);
    if (!wait_until(kNever)) return sent ? static_cast<ssize_t>(sent) : fail(EINTR);
  }
}

int Sockets::close(int fd) {
  Entry* e = find(fd);
  if (!e) return fail(EBADF);
  if (e->kind == EntryKind::kDatagram) {
    for (const SocketId s : {e->udp4, e->udp6}) {
      if (s != kNoSocket) stack_->close(s);
    }
  } else if (e->id != kNoSocket) {
    // SO_LINGER with a zero timeout turns close into an abort (RFC 9293 §3.10.5 ABORT).
    if (e->kind == EntryKind::kConnection && e->linger_on && e->linger_secs == 0) {
      stack_->abort(e->id);
    } else {
      stack_->close(e->id);
    }
  }
  *e = Entry{};
  kick();
  return 0;
}

int Sockets::shutdown(int fd, int how) {
  Entry* e = find(fd);
  if (!e) return fail(EBADF);
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return fail(EINVAL);
  if (e->kind == EntryKind::kDatagram) {
    // Linux's inet_shutdown: the flags are set even on an unconnected UDP socket, which is
    // then told ENOTCONN.
    if (how != SHUT_WR) e->read_shut = true;
    if (how != SHUT_RD) e->write_shut = true;
    return e->connected ? 0 : fail(ENOTCONN);
  }
  if (e->kind != EntryKind::kConnection) return fail(ENOTCONN);
  const tcp::State s = stack_->state(e->id);
  if (s == tcp::State::kClosed || s == tcp::State::kSynSent) return fail(ENOTCONN);
  if (how == SHUT_RD || how == SHUT_RDWR) e->read_shut = true;
  if ((how == SHUT_WR || how == SHUT_RDWR) && !e->write_shut) {
    std::error_code ec;
    stack_->shutdown_write(e->id, ec);
    e->write_shut = true;
    kick();
  }
  return 0;
}

int Sockets::fcntl(int fd, int cmd, long arg) {
  Entry* e = find(fd);
  if (!e) return fail(EBADF);
  switch (cmd) {
    case F_GETFL:
      return O_RDWR | (e->nonblocking ? O_NONBLOCK : 0);
    case F_SETFL:
      e->nonblocking = (arg & O_NONBLOCK) != 0;
      return 0;
    case F_GETFD:
      return e->cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
      e->cloexec = (arg & FD_CLOEXEC) != 0;
      return 0;
    default:
      return fail(EINVAL);
  }
}

// Linux's tcp_ioctl(): the queue sizes fail with EINVAL on a listener and are 0 while the
// handshake runs. Urgent data is inline (see recv_iov), so SIOCINQ counts it like any byte.
int Sockets::ioctl(int fd, unsigned long request, void* arg) {
  Entry* e = find(fd);
  if (!e) return fail(EBADF);
  if (request != FIONBIO && request != SIOCINQ && request != SIOCOUTQ && request != SIOCOUTQNSD &&
      request != SIOCATMARK) {
    return fail(ENOTTY);
  }
  if (!arg) return fail(EFAULT);
  int* out = static_cast<int*>(arg);
  if (request == FIONBIO) {
    e->nonblocking = *out != 0;
    return 0;
  }
  if (e->kind == EntryKind::kDatagram) {
    // Linux's udp_ioctl: SIOCINQ is the next datagram's payload length, SIOCOUTQ 0 (nothing
    // waits to be sent).
    if (request == SIOCOUTQ) return *out = 0, 0;
    if (request != SIOCINQ) return fail(ENOTTY);
    const int err = dgram_hold(*e);
    if (err != 0 && err != EAGAIN) return fail(err);
    *out = err ? 0 : static_cast<int>(e->held.size());
    return 0;
  }
  const bool conn = e->kind == EntryKind::kConnection;
  if (request == SIOCATMARK) {
    // At the mark: the next byte read is the last urgent byte (Linux's urg_seq == copied_seq).
    const auto mark = conn ? stack_->urgent_mark(e->id) : std::nullopt;
    *out = mark && *mark == 1;
    return 0;
  }
  if (e->kind == EntryKind::kListener) return fail(EINVAL);
  const tcp::State s = conn ? stack_->state(e->id) : tcp::State::kClosed;
  size_t n = 0;
  if (conn && s != tcp::State::kSynSent && s != tcp::State::kSynReceived) {
    if (request == SIOCINQ) n = stack_->recv_available(e->id);  // FIONREAD is the same number
    if (request == SIOCOUTQ) n = stack_->send_unacked(e->id);   // and TIOCOUTQ
    if (request == SIOCOUTQNSD) n = stack_->send_unsent(e->id);
  }
  *out = static_cast<int>(std::min<size_t>(n, INT32_MAX));
  return 0;
}

}  // namespace utcp::posix
