// SPDX-License-Identifier: BSD-2-Clause
// getsockname()/getpeername() for the facade, with Linux's answers for sockets that have no
// address yet or no peer.
#include <cerrno>

#include "posix/sockaddr_codec.hpp"
#include "posix/socket_entry.hpp"
#include "utcp/posix.hpp"

namespace utcp::posix {

int Sockets::getsockname(int fd, sockaddr* addr, socklen_t* len) {
  const Entry* e = find(fd);
  if (!e) return fail(EBADF);
  if (!addr || !len) return fail(EFAULT);
  if (e->kind == EntryKind::kDatagram) return dgram_names(*e, false, addr, len);
  if (e->kind == EntryKind::kConnection) {
    const Endpoint local = stack_->local_endpoint(e->id);
    encode_sockaddr(e->domain, local.addr, local.port, addr, len);
    return 0;
  }
  // Unbound: the family's unspecified address and port 0. An AF_INET6 socket bound to ::
  // names ::, not 0.0.0.0 (both unspecified: the family of e->addr says which was given).
  IpAddr a = e->addr;
  if (e->domain == AF_INET6 && a.is_unspecified() && !e->bound_mapped) a = Ipv6Addr();
  encode_sockaddr(e->domain, a, e->port, addr, len);
  return 0;
}

int Sockets::getpeername(int fd, sockaddr* addr, socklen_t* len) {
  const Entry* e = find(fd);
  if (!e) return fail(EBADF);
  if (!addr || !len) return fail(EFAULT);
  if (e->kind == EntryKind::kDatagram) return dgram_names(*e, true, addr, len);
  // Linux: no peer before the handshake has finished, nor once the connection is closed.
  if (e->kind != EntryKind::kConnection) return fail(ENOTCONN);
  const tcp::State s = stack_->state(e->id);
  if (s == tcp::State::kSynSent || s == tcp::State::kClosed) return fail(ENOTCONN);
  const Endpoint peer = stack_->remote_endpoint(e->id);
  encode_sockaddr(e->domain, peer.addr, peer.port, addr, len);
  return 0;
}

}  // namespace utcp::posix
