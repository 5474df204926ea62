// SPDX-License-Identifier: BSD-2-Clause
// setsockopt()/getsockopt() for the facade. An option the Stack cannot apply per socket
// fails with ENOPROTOOPT rather than being accepted and ignored; reading it reports the
// stack-wide value that does apply.
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "posix/errno_map.hpp"
#include "posix/socket_entry.hpp"
#include "utcp/posix.hpp"

namespace utcp::posix {

namespace {

int get_int(const void* val, socklen_t len, int& out) {
  if (!val || len < static_cast<socklen_t>(sizeof(int))) return EINVAL;
  std::memcpy(&out, val, sizeof out);
  return 0;
}

int put(void* val, socklen_t* len, const void* src, size_t size) {
  if (!val || !len) return EFAULT;
  const size_t n = std::min<size_t>(static_cast<size_t>(*len), size);
  std::memcpy(val, src, n);
  *len = static_cast<socklen_t>(n);
  return 0;
}

int put_int(void* val, socklen_t* len, int v) {
  return put(val, len, &v, sizeof v);
}

int seconds(Duration d) {
  return static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(d).count());
}

// Linux's TCP state numbering (include/net/tcp_states.h), for TcpInfo::tcpi_state.
uint8_t linux_state(tcp::State s) {
  switch (s) {
    case tcp::State::kEstablished:
      return 1;
    case tcp::State::kSynSent:
      return 2;
    case tcp::State::kSynReceived:
      return 3;
    case tcp::State::kFinWait1:
      return 4;
    case tcp::State::kFinWait2:
      return 5;
    case tcp::State::kTimeWait:
      return 6;
    case tcp::State::kClosed:
      return 7;
    case tcp::State::kCloseWait:
      return 8;
    case tcp::State::kLastAck:
      return 9;
    case tcp::State::kListen:
      return 10;
    case tcp::State::kClosing:
      return 11;
  }
  return 7;
}

// SO_SNDBUF / SO_RCVBUF as Linux: the value asked for is capped at net.core.wmem_max /
// rmem_max (default 212992), doubled (the kernel's allowance for its own bookkeeping), and
// kept at least SOCK_MIN_SNDBUF / SOCK_MIN_RCVBUF; getsockopt reports the doubled figure.
// utcp has no per-packet bookkeeping to pay for, so the buffer it applies is half of it: the
// size the program asked for.
constexpr int kMaxSockBuf = 212992;  // Linux's default net.core.wmem_max and rmem_max
constexpr int kMinSndBuf = 4608;     // Linux SOCK_MIN_SNDBUF on x86-64
constexpr int kMinRcvBuf = 2304;     // Linux SOCK_MIN_RCVBUF on x86-64

size_t applied_buffer(int asked, int min_doubled) {
  const int64_t doubled =
      std::max<int64_t>(2 * int64_t{std::clamp(asked, 0, kMaxSockBuf)}, min_doubled);
  return static_cast<size_t>(doubled / 2);
}

constexpr int kMinUserMss = 88;     // Linux TCP_MIN_MSS
constexpr int kMaxUserMss = 32767;  // Linux MAX_TCP_WINDOW
constexpr int kDefaultMss = 536;    // Linux TCP_MSS_DEFAULT; RFC 9293 §3.7.1 (MUST-15)

}  // namespace

// getsockopt(TCP_MAXSEG) as Linux answers it: the value set, while the socket is closed or
// listening; otherwise the connection's send MSS (536 until the SYNs fixed it).
int Sockets::maxseg_answer(const Entry& e) const {
  if (e.kind != EntryKind::kConnection) return e.maxseg ? e.maxseg : kDefaultMss;
  const tcp::State s = stack_->state(e.id);
  if (s == tcp::State::kClosed && e.maxseg) return e.maxseg;
  if (const auto info = stack_->tcp_info(e.id); info && info->snd_mss) {
    return static_cast<int>(info->snd_mss);
  }
  return kDefaultMss;
}

int Sockets::setsockopt(int fd, int level, int name, const void* val, socklen_t len) {
  Entry* e = find(fd);
  if (!e) return fail(EBADF);
  if (!val && len > 0) return fail(EFAULT);  // Linux: optval cannot be copied in
  int v = 0;
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_REUSEADDR:
        if (const int err = get_int(val, len, v)) return fail(err);
        e->reuseaddr = v != 0;  // only bind()'s conflict check reads it
        return 0;
      case SO_LINGER: {
        if (!val || len < static_cast<socklen_t>(sizeof(linger))) return fail(EINVAL);
        linger l{};
        std::memcpy(&l, val, sizeof l);
        // Only the abortive form is supported: a lingering close would need close() to block.
        if (l.l_onoff && l.l_linger != 0) return fail(ENOPROTOOPT);
        e->linger_on = l.l_onoff != 0;
        e->linger_secs = l.l_linger;
        return 0;
      }
      case SO_KEEPALIVE: {
        if (const int err = get_int(val, len, v)) return fail(err);
        tcp::KeepaliveConfig k = e->keepalive.value_or(stack_->config().tcp.keepalive);
        k.enabled = v != 0;
        e->keepalive = k;
        break;
      }
      case SO_OOBINLINE:
        // Urgent data is always inline (RFC 6093 §4): on is a no-op, off cannot be had.
        if (const int err = get_int(val, len, v)) return fail(err);
        return v ? 0 : fail(ENOPROTOOPT);
      case SO_RCVBUF:
      case SO_SNDBUF: {
        if (const int err = get_int(val, len, v)) return fail(err);
        if (name == SO_RCVBUF) {
          e->rcvbuf = applied_buffer(v, kMinRcvBuf);
        } else {
          e->sndbuf = applied_buffer(v, kMinSndBuf);  // pins it: autotuning stops (as Linux)
        }
        break;
      }
      default:
        return fail(ENOPROTOOPT);
    }
    apply_options(*e);
    kick();
    return 0;
  }
  // Linux: a UDP socket passes IPPROTO_TCP to the IP level, which knows none of them.
  if (level == IPPROTO_TCP && e->kind == EntryKind::kDatagram) return fail(ENOPROTOOPT);
  if (level == IPPROTO_TCP) {
    switch (name) {
      case TCP_NODELAY:
        if (const int err = get_int(val, len, v)) return fail(err);
        e->nodelay = v != 0;
        if (e->kind == EntryKind::kConnection) {
          stack_->set_nodelay(e->id, e->nodelay);
          kick();  // RFC 9293 §3.7.4: queued small segments may go now
        }
        return 0;
      case TCP_KEEPIDLE:
      case TCP_KEEPINTVL:
      case TCP_KEEPCNT: {
        if (const int err = get_int(val, len, v)) return fail(err);
        if (v < 1) return fail(EINVAL);  // Linux: 1..32767 seconds, 1..127 probes
        tcp::KeepaliveConfig k = e->keepalive.value_or(stack_->config().tcp.keepalive);
        if (name == TCP_KEEPIDLE) k.idle = std::chrono::seconds(v);
        if (name == TCP_KEEPINTVL) k.interval = std::chrono::seconds(v);
        if (name == TCP_KEEPCNT) k.count = static_cast<uint32_t>(v);
        e->keepalive = k;
        break;
      }
      case TCP_MAXSEG:
        if (const int err = get_int(val, len, v)) return fail(err);
        // Linux: 0 (back to the default) or TCP_MIN_MSS (88) .. MAX_TCP_WINDOW (32767). The
        // stack applies it to a listener's future connections, and to a connection until it is
        // synchronized; set later, it is remembered but changes nothing (as on Linux).
        if (v != 0 && (v < kMinUserMss || v > kMaxUserMss)) return fail(EINVAL);
        e->maxseg = static_cast<uint16_t>(v);
        if (e->id != kNoSocket) stack_->set_mss(e->id, e->maxseg);
        return 0;
      case TCP_USER_TIMEOUT:
        if (const int err = get_int(val, len, v)) return fail(err);
        if (v < 0) return fail(EINVAL);
        e->user_timeout = std::chrono::milliseconds(v);
        break;
      case TCP_CORK:
        // Linux: on holds short segments; off sends what was held (kick below).
        if (const int err = get_int(val, len, v)) return fail(err);
        e->cork = v != 0;
        if (e->kind == EntryKind::kConnection) stack_->set_cork(e->id, e->cork);
        break;
      case TCP_NOTSENT_LOWAT:
        // Linux keeps the int as an unsigned mark; 0 means "no mark" (the sysctl default).
        if (const int err = get_int(val, len, v)) return fail(err);
        e->notsent_lowat = static_cast<uint32_t>(v);
        if (e->kind == EntryKind::kConnection) {
          stack_->set_notsent_lowat(e->id, e->notsent_lowat ? e->notsent_lowat : UINT32_MAX);
        }
        break;
      default:
        return fail(ENOPROTOOPT);
    }
    apply_options(*e);
    kick();
    return 0;
  }
  if (level == IPPROTO_IP && name == IP_TOS) {
    // Linux: an int, or a single byte when optlen is shorter. On a TCP socket the two ECN
    // bits are ignored (RFC 3168 owns them); the Diffserv field applies from the next
    // segment on (RFC 9293 §3.9.1.9, MUST-48/SHLD-21).
    if (!val || len < 1) return fail(EINVAL);
    uint8_t tos = 0;
    if (len >= static_cast<socklen_t>(sizeof(int))) {
      std::memcpy(&v, val, sizeof v);
      tos = static_cast<uint8_t>(v);
    } else {
      std::memcpy(&tos, val, 1);
    }
    e->tos = static_cast<uint8_t>(tos & ~0x03);
    // On an AF_INET6 socket IP_TOS is for its IPv4 traffic only.
    // (UDP datagrams leave with a zero TOS: the value is kept, not applied; docs/udp.md.)
    if (e->id != kNoSocket && e->kind != EntryKind::kDatagram && !carries_ipv6(*e)) {
      stack_->set_tos(e->id, e->tos);
    }
    return 0;
  }
  if (level == IPPROTO_IPV6) {
    if (e->domain != AF_INET6) return fail(ENOPROTOOPT);  // Linux: not on an AF_INET socket
    if (const int err = get_int(val, len, v)) return fail(err);
    switch (name) {
      case IPV6_V6ONLY:
        // RFC 3493 §5.3; Linux refuses a change once the socket has a port.
        if (e->bound || e->port != 0 ||
            (e->kind != EntryKind::kFresh && e->kind != EntryKind::kDatagram)) {
          return fail(EINVAL);
        }
        e->v6only = v != 0;
        return 0;
      case IPV6_TCLASS:
        // RFC 3542 §6.5: -1 restores the default; else 0..255. The ECN bits stay TCP's
        // (RFC 3168), as for IP_TOS.
        if (v < -1 || v > 255) return fail(EINVAL);
        e->tclass = v;
        if (e->id != kNoSocket && e->kind != EntryKind::kDatagram && carries_ipv6(*e))
          stack_->set_tos(e->id, e->diffserv(true));
        return 0;
      default:
        return fail(ENOPROTOOPT);
    }
  }
  return fail(ENOPROTOOPT);
}

// SO_ERROR of a UDP socket: the pending ICMP error, taken (Linux's sock_error). The Stack hands
// it to the next recv_from, before any datagram and without consuming one.
int Sockets::dgram_error(Entry& e) {
  for (const SocketId s : {e.udp4, e.udp6}) {
    if (s == kNoSocket || !(stack_->readiness(s) & ready::kError)) continue;
    std::error_code ec;
    stack_->recv_from(s, {}, ec);
    if (ec) return errno_of(ec);
  }
  return 0;
}

// Whether the socket's connection (or listener) sends IPv6: its IPV6_TCLASS applies.
bool Sockets::carries_ipv6(const Entry& e) const {
  if (e.domain != AF_INET6 || e.id == kNoSocket) return false;
  if (e.kind == EntryKind::kListener) return e.families() != Entry::kV4;
  return stack_->remote_endpoint(e.id).addr.is_v6();
}

int Sockets::getsockopt(int fd, int level, int name, void* val, socklen_t* len) {
  Entry* e = find(fd);
  if (!e) return fail(EBADF);
  if (!len || (!val && *len > 0)) return fail(EFAULT);
  const tcp::Config& cfg = stack_->config().tcp;
  const tcp::KeepaliveConfig keepalive = e->keepalive.value_or(cfg.keepalive);
  const bool dgram = e->kind == EntryKind::kDatagram;
  int err = ENOPROTOOPT;
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_TYPE:
        err = put_int(val, len, dgram ? SOCK_DGRAM : SOCK_STREAM);
        break;
      case SO_DOMAIN:
        err = put_int(val, len, e->domain);
        break;
      case SO_PROTOCOL:
        err = put_int(val, len, dgram ? IPPROTO_UDP : IPPROTO_TCP);
        break;
      case SO_ACCEPTCONN:
        err = put_int(val, len, e->kind == EntryKind::kListener);
        break;
      case SO_REUSEADDR:
        err = put_int(val, len, e->reuseaddr);
        break;
      case SO_ERROR: {
        // Linux: the pending error, else the pending soft error (ICMP, or R1 passed as
        // ETIMEDOUT: RFC 9293 §3.8.3, §3.9.2.2); reading clears it.
        int v = dgram ? dgram_error(*e) : take_error(*e);
        if (v == 0 && e->kind == EntryKind::kConnection) {
          if (const std::error_code soft = stack_->take_soft_error(e->id)) v = errno_of(soft);
        }
        err = put_int(val, len, v);
        break;
      }
      // Linux reports the doubled value setsockopt stored (see applied_buffer()).
      case SO_RCVBUF:
        err = put_int(val, len,
                      static_cast<int>(e->rcvbuf ? 2 * e->rcvbuf
                                       : dgram   ? kMaxSockBuf
                                                 : cfg.recv_buffer));
        break;
      case SO_SNDBUF:
        err = put_int(val, len,
                      static_cast<int>(e->sndbuf ? 2 * e->sndbuf
                                       : dgram   ? kMaxSockBuf
                                                 : cfg.send_buffer));
        break;
      case SO_KEEPALIVE:
        err = put_int(val, len, keepalive.enabled);
        break;
      case SO_OOBINLINE:
        err = put_int(val, len, 1);
        break;
      case SO_LINGER: {
        linger l{e->linger_on ? 1 : 0, e->linger_secs};
        err = put(val, len, &l, sizeof l);
        break;
      }
      default:
        break;
    }
  } else if (level == IPPROTO_IP) {
    if (name == IP_TOS) err = put_int(val, len, e->tos);
  } else if (level == IPPROTO_IPV6 && e->domain == AF_INET6) {
    if (name == IPV6_V6ONLY) err = put_int(val, len, e->v6only);
    if (name == IPV6_TCLASS) err = put_int(val, len, e->tclass < 0 ? 0 : e->tclass);
  } else if (level == IPPROTO_TCP && !dgram) {
    switch (name) {
      case TCP_NODELAY:
        err = put_int(val, len, e->nodelay);
        break;
      case TCP_MAXSEG:
        err = put_int(val, len, maxseg_answer(*e));
        break;
      case TCP_CORK:
        err = put_int(val, len, e->cork);
        break;
      case TCP_NOTSENT_LOWAT:
        err = put_int(val, len, static_cast<int>(e->notsent_lowat));
        break;
      case TCP_KEEPIDLE:
        err = put_int(val, len, seconds(keepalive.idle));
        break;
      case TCP_KEEPINTVL:
        err = put_int(val, len, seconds(keepalive.interval));
        break;
      case TCP_KEEPCNT:
        err = put_int(val, len, static_cast<int>(keepalive.count));
        break;
      case TCP_USER_TIMEOUT:
        err = put_int(val, len,
                      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           e->user_timeout.value_or(cfg.user_timeout))
                                           .count()));
        break;
      case TCP_INFO: {
        TcpInfo info;
        if (e->id == kNoSocket) {
          info.tcpi_state = linux_state(tcp::State::kClosed);
        } else {
          info.tcpi_state = linux_state(stack_->state(e->id));
          const Endpoint local = stack_->local_endpoint(e->id);
          info.tcpi_local_port = local.port;
          if (e->kind == EntryKind::kConnection) {
            const Endpoint remote = stack_->remote_endpoint(e->id);
            info.tcpi_remote_port = remote.port;
            info.tcpi_remote_addr = remote.addr.v4().value;
            std::memcpy(info.tcpi_remote_addr6, remote.addr.v6().bytes.data(), 16);
            if (auto stats = stack_->tcp_info(e->id)) info.stats = *stats;
          }
        }
        err = put(val, len, &info, sizeof info);
        break;
      }
      default:
        break;
    }
  }
  if (err) return fail(err);
  return 0;
}

}  // namespace utcp::posix
