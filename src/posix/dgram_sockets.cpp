// SPDX-License-Identifier: BSD-2-Clause
// SOCK_DGRAM descriptors of the facade over the Stack's UDP sockets (RFC 768, RFC 1122 §4.1),
// with Linux's udp_sendmsg/udp_recvmsg answers: one datagram per call, a short buffer truncates
// and discards the rest (MSG_TRUNC), ICMP errors to connected sockets on the next call.
//
// The Stack's UDP sockets have one family each; a dual-stack AF_INET6 descriptor bound to the
// wildcard holds one of each on the same port (RFC 3493 §3.7: IPv4 senders appear as
// ::ffff:a.b.c.d). Datagrams of the two families are taken in turn, not in arrival order; once
// connected it keeps only the peer's family's socket.
#include <netinet/in.h>

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
// Linux refuses a datagram whose length does not fit UDP's 16-bit Length (udp_sendmsg); the
// Stack refuses above 65,507 (IPv4) / 65,527 (IPv6) bytes with message_size.
constexpr size_t kMaxDatagram = 65535;
constexpr uint32_t kQueueDatagrams = 1024;  // the Stack's default count limit, kept

bool would_block(const std::error_code& ec) {
  return ec == std::errc::operation_would_block || ec == std::errc::resource_unavailable_try_again;
}

IpAddr wildcard(bool v6) {
  return v6 ? IpAddr(Ipv6Addr()) : IpAddr();
}

// A peer's address for connect() and sendto(). Unlike bind() and TCP, Linux lets a dual-stack
// AF_INET6 UDP socket name an IPv4 peer with a plain sockaddr_in (ip6_datagram_connect,
// udpv6_sendmsg): it counts as the IPv4-mapped address.
int decode_peer(int domain, const sockaddr* addr, socklen_t len, SockAddr& out) {
  if (domain == AF_INET6 && addr && len >= static_cast<socklen_t>(sizeof(sa_family_t)) &&
      addr->sa_family == AF_INET) {
    if (const int err = decode_sockaddr(AF_INET, addr, len, out)) return err;
    out.mapped = true;
    return 0;
  }
  return decode_sockaddr(domain, addr, len, out);
}
}  // namespace

// Keeps `id` on one of the Stack sockets and their queue at SO_RCVBUF's size.
void Sockets::dgram_sync(Entry& e) {
  e.id = e.udp6 != kNoSocket ? e.udp6 : e.udp4;
  for (const SocketId s : {e.udp4, e.udp6}) {
    if (s != kNoSocket && e.rcvbuf) stack_->set_udp_recv_queue(s, e.rcvbuf, kQueueDatagrams);
  }
}

// bind(), and the implicit bind before a first sendto() (Linux's autobind: the wildcard and an
// ephemeral port). Returns 0 or the errno.
int Sockets::dgram_bind(Entry& e, const IpAddr& addr, uint16_t port, bool mapped) {
  Entry probe = e;
  probe.addr = addr;
  probe.bound_mapped = mapped;
  const int fam = probe.families();
  // An ephemeral port free in one family may be taken in the other: a few tries.
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::error_code ec;
    SocketId s6 = kNoSocket;
    SocketId s4 = kNoSocket;
    uint16_t p = port;
    if (fam & Entry::kV6) {
      s6 = stack_->udp_bind(Endpoint{addr.is_v6() ? addr : wildcard(true), p}, ec, e.reuseaddr);
      if (ec) return errno_of(ec);
      p = stack_->udp_local_endpoint(s6).port;
    }
    if (fam & Entry::kV4) {
      s4 = stack_->udp_bind(Endpoint{addr.is_v4() ? addr : wildcard(false), p}, ec, e.reuseaddr);
      if (ec) {
        if (s6 != kNoSocket) stack_->close(s6);
        if (port == 0 && s6 != kNoSocket && ec == std::errc::address_in_use) continue;
        return errno_of(ec);
      }
      p = stack_->udp_local_endpoint(s4).port;
    }
    e.udp4 = s4;
    e.udp6 = s6;
    e.addr = addr;
    e.bound_mapped = mapped;
    e.port = p;
    dgram_sync(e);
    return 0;
  }
  return EADDRINUSE;
}

int Sockets::dgram_connect(Entry& e, const sockaddr* addr, socklen_t len) {
  if (!addr && len > 0) return fail(EFAULT);
  if (!addr || len < static_cast<socklen_t>(sizeof(sa_family_t))) return fail(EINVAL);
  std::error_code ec;
  if (addr->sa_family == AF_UNSPEC) {
    // Linux's udp_disconnect: no peer any more; a port the socket took itself is given back.
    for (const SocketId s : {e.udp4, e.udp6}) {
      if (s != kNoSocket) stack_->udp_connect(s, Endpoint{}, ec);
    }
    e.connected = false;
    if (e.bound && e.families() == (Entry::kV4 | Entry::kV6)) {
      // A dual-stack socket bound to :: gave up the other family's socket at connect():
      // take it back on the same port, so both families are heard again (best effort: the
      // port may have been taken in that family meanwhile).
      SocketId& missing = e.udp4 == kNoSocket ? e.udp4 : e.udp6;
      if (missing == kNoSocket) {
        const bool v6 = &missing == &e.udp6;
        missing = stack_->udp_bind(Endpoint{wildcard(v6), e.port}, ec, e.reuseaddr);
        if (ec) missing = kNoSocket;
      }
    }
    if (!e.bound) {
      for (const SocketId s : {e.udp4, e.udp6}) {
        if (s != kNoSocket) stack_->close(s);
      }
      e.udp4 = e.udp6 = kNoSocket;
      e.port = 0;
    }
    dgram_sync(e);
    kick();
    return 0;
  }
  // Linux: an IPv6-only socket refuses a sockaddr_in outright, a mapped sockaddr_in6 as
  // unreachable (RFC 3493 §5.3).
  if (e.v6only && addr->sa_family == AF_INET) return fail(EAFNOSUPPORT);
  SockAddr to;
  if (const int err = decode_peer(e.domain, addr, len, to)) return fail(err);
  if (to.mapped && e.v6only) return fail(ENETUNREACH);
  const bool v6 = to.addr.is_v6();
  const Endpoint remote{to.addr, to.port};
  if (e.udp4 == kNoSocket && e.udp6 == kNoSocket) {
    const SocketId s = stack_->udp_connect(remote, ec);
    if (ec) return fail(errno_of(ec));
    (v6 ? e.udp6 : e.udp4) = s;
    e.port = stack_->udp_local_endpoint(s).port;
  } else {
    SocketId& mine = v6 ? e.udp6 : e.udp4;
    if (mine == kNoSocket) {
      // Bound (or earlier connected) in the other family only.
      if (e.bound) return fail(v6 ? EAFNOSUPPORT : ENETUNREACH);
      for (const SocketId s : {e.udp4, e.udp6}) {
        if (s != kNoSocket) stack_->close(s);
      }
      e.udp4 = e.udp6 = kNoSocket;
      mine = stack_->udp_bind(Endpoint{wildcard(v6), e.port}, ec, e.reuseaddr);
      if (ec) {
        dgram_sync(e);
        return fail(errno_of(ec));
      }
    }
    stack_->udp_connect(mine, remote, ec);
    if (ec) return fail(errno_of(ec));
    // A connected socket hears its peer only: the other family's socket goes.
    SocketId& other = v6 ? e.udp4 : e.udp6;
    if (other != kNoSocket) stack_->close(other);
    other = kNoSocket;
  }
  e.connected = true;
  dgram_sync(e);
  kick();
  return 0;
}

ssize_t Sockets::dgram_send(int fd, const iovec* iov, int iovcnt, int flags, const sockaddr* dst,
                            socklen_t dstlen) {
  Entry* e = find(fd);
  if (!e) return fail(EBADF);
  if (!IovecCursor::valid(iov, iovcnt)) return fail(EFAULT);
  // MSG_MORE (corking a datagram from several sends) is not supported; MSG_OOB has no meaning.
  if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_CONFIRM)) return fail(EOPNOTSUPP);
  if (e->write_shut) return fail(EPIPE);
  Endpoint to;
  const bool addressed = dst != nullptr && dstlen > 0;
  if (addressed) {
    SockAddr d;
    if (const int err = decode_peer(e->domain, dst, dstlen, d)) return fail(err);
    if (d.mapped && e->v6only) return fail(ENETUNREACH);  // RFC 3493 §5.3
    if (d.port == 0) return fail(EINVAL);                 // Linux: udp_sendmsg, no port 0
    to = Endpoint{d.addr, d.port};
  } else if (!e->connected) {
    return fail(EDESTADDRREQ);
  }
  IovecCursor cur(iov, iovcnt);
  const size_t total = cur.total();
  if (total > kMaxDatagram) return fail(EMSGSIZE);
  gather_.resize(total);
  for (size_t off = 0; !cur.done();) {
    const auto chunk = cur.chunk();
    std::memcpy(gather_.data() + off, chunk.data(), chunk.size());
    off += chunk.size();
    cur.advance(chunk.size());
  }
  if (e->udp4 == kNoSocket && e->udp6 == kNoSocket) {
    // Linux autobinds: the wildcard of the socket's families, an ephemeral port.
    if (const int err = dgram_bind(*e, wildcard(e->domain == AF_INET6), 0, false)) {
      return fail(err);
    }
  }
  const bool v6 = addressed ? to.addr.is_v6() : e->udp6 != kNoSocket;
  const SocketId s = v6 ? e->udp6 : e->udp4;
  if (s == kNoSocket) return fail(ENETUNREACH);  // bound to the other family only
  std::error_code ec;
  const size_t n = stack_->send_to(s, gather_, addressed ? &to : nullptr, ec);
  if (ec) return fail(errno_of(ec));
  kick();
  return static_cast<ssize_t>(n);
}

// Takes the next datagram from the Stack into e.held unless one is held already; 0, EAGAIN, or
// the pending ICMP error (ECONNREFUSED, ...) of a connected socket.
int Sockets::dgram_hold(Entry& e) {
  if (e.holding) return 0;
  // The two families in turn, so a busy one cannot starve the other.
  const SocketId first = e.v4_next ? e.udp4 : e.udp6;
  const SocketId second = e.v4_next ? e.udp6 : e.udp4;
  for (const SocketId s : {first, second}) {
    if (s == kNoSocket) continue;
    e.held.resize(kMaxDatagram);
    std::error_code ec;
    Endpoint from;
    const size_t n = stack_->recv_from(s, e.held, ec, &from);
    if (!ec) {
      e.held.resize(n);
      e.held_from = from;
      e.holding = true;
      e.v4_next = s == e.udp6;
      return 0;
    }
    if (!would_block(ec)) return errno_of(ec);
  }
  return EAGAIN;
}

void Sockets::dgram_release(Entry& e) {
  e.holding = false;
  e.held.clear();
}

ssize_t Sockets::dgram_recv(int fd, const iovec* iov, int iovcnt, int flags, sockaddr* src,
                            socklen_t* srclen, int* msg_flags) {
  Entry* e = find(fd);
  if (!e) return fail(EBADF);
  if (!IovecCursor::valid(iov, iovcnt)) return fail(EFAULT);
  if (flags & ~(MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC | MSG_WAITALL | MSG_NOSIGNAL)) {
    return fail(EOPNOTSUPP);
  }
  const bool nonblocking = e->nonblocking || (flags & MSG_DONTWAIT) || !host_;
  for (;;) {
    e = find(fd);
    if (!e) return fail(EBADF);
    const int err = dgram_hold(*e);
    if (err == 0) break;
    if (err != EAGAIN) return fail(err);
    if (e->read_shut) return 0;  // Linux: shutdown(SHUT_RD) ends a wait with 0
    if (nonblocking) return fail(EAGAIN);
    if (!wait_until(kNever)) return fail(EINTR);
  }
  IovecCursor cur(iov, iovcnt);
  size_t copied = 0;
  while (!cur.done() && copied < e->held.size()) {
    const auto chunk = cur.chunk(e->held.size() - copied);
    std::memcpy(chunk.data(), e->held.data() + copied, chunk.size());
    copied += chunk.size();
    cur.advance(chunk.size());
  }
  const size_t len = e->held.size();
  if (src && srclen) encode_sockaddr(e->domain, e->held_from.addr, e->held_from.port, src, srclen);
  if (msg_flags) *msg_flags = copied < len ? MSG_TRUNC : 0;
  if (!(flags & MSG_PEEK)) dgram_release(*e);  // the rest of a long datagram is gone
  // MSG_TRUNC: the datagram's real length, even when the buffer was shorter (Linux).
  return static_cast<ssize_t>((flags & MSG_TRUNC) ? len : copied);
}

// Linux's datagram_poll(): writable always (nothing is buffered for sending), readable with a
// datagram queued (or an ICMP error to fetch), POLLERR with an error pending.
short Sockets::dgram_poll(const Entry& e) const {
  short mask = POLLOUT | POLLWRNORM;
  if (e.holding) mask |= POLLIN | POLLRDNORM;
  for (const SocketId s : {e.udp4, e.udp6}) {
    if (s == kNoSocket) continue;
    const uint32_t r = stack_->readiness(s);
    if (r & ready::kReadable) mask |= POLLIN | POLLRDNORM;
    if (r & ready::kError) mask |= POLLERR;
  }
  if (e.read_shut) mask |= POLLIN | POLLRDNORM | POLLRDHUP;
  if (e.read_shut && e.write_shut) mask |= POLLHUP;
  return mask;
}

int Sockets::dgram_names(const Entry& e, bool peer, sockaddr* addr, socklen_t* len) const {
  if (peer) {
    if (!e.connected || e.id == kNoSocket) return fail(ENOTCONN);
    const Endpoint r = stack_->udp_remote_endpoint(e.id);
    encode_sockaddr(e.domain, r.addr, r.port, addr, len);
    return 0;
  }
  // A single Stack socket: its address (after connect(), the source chosen for the peer);
  // a dual-stack pair, or none yet: what bind() was given (:: and 0 when unbound).
  if ((e.udp4 == kNoSocket) != (e.udp6 == kNoSocket)) {
    const Endpoint l = stack_->udp_local_endpoint(e.id);
    encode_sockaddr(e.domain, l.addr, l.port, addr, len);
    return 0;
  }
  IpAddr a = e.addr;
  if (e.domain == AF_INET6 && a.is_unspecified() && !e.bound_mapped) a = Ipv6Addr();
  encode_sockaddr(e.domain, a, e.port, addr, len);
  return 0;
}

}  // namespace utcp::posix
