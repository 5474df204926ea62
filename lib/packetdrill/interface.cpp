// SPDX-License-Identifier: BSD-2-Clause
// The C table packetdrill loads (include/utcp/packetdrill_interface.h), filled with thin
// wrappers around Port. Calls utcp cannot serve fail with ENOSYS, never with a NULL pointer.
#include <fcntl.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <new>
#include <string>

#include "port.hpp"
#include "utcp/packetdrill_interface.h"

namespace {

using utcp::packetdrill::Port;
using utcp::posix::Sockets;

Port* port_of(void* ud) {
  return static_cast<Port*>(ud);
}

// A call on the facade descriptor behind the caller's (real) descriptor fd.
template <class F>
auto run(void* ud, int fd, F&& f) -> decltype(f(std::declval<Sockets&>(), 0)) {
  if (!ud) return errno = EINVAL, -1;
  return port_of(ud)->call_on(fd, f);
}

int enosys() {
  return errno = ENOSYS, -1;
}

void port_free(void* ud) {
  delete port_of(ud);
}

int port_socket(void* ud, int domain, int type, int protocol) {
  if (!ud) return errno = EINVAL, -1;
  return port_of(ud)->socket(domain, type, protocol);
}
int port_bind(void* ud, int fd, const sockaddr* addr, socklen_t len) {
  if (!ud) return errno = EINVAL, -1;
  return port_of(ud)->bind(fd, addr, len);
}
int port_listen(void* ud, int fd, int backlog) {
  return run(ud, fd, [&](Sockets& s, int inner) { return s.listen(inner, backlog); });
}
int port_accept(void* ud, int fd, sockaddr* addr, socklen_t* len) {
  if (!ud) return errno = EINVAL, -1;
  return port_of(ud)->accept(fd, addr, len);
}
int port_connect(void* ud, int fd, const sockaddr* addr, socklen_t len) {
  return run(ud, fd, [&](Sockets& s, int inner) { return s.connect(inner, addr, len); });
}
ssize_t port_read(void* ud, int fd, void* buf, size_t count) {
  return run(ud, fd, [&](Sockets& s, int inner) { return s.read(inner, buf, count); });
}
ssize_t port_readv(void* ud, int fd, const iovec* iov, int iovcnt) {
  return run(ud, fd, [&](Sockets& s, int inner) { return s.readv(inner, iov, iovcnt); });
}
ssize_t port_recv(void* ud, int fd, void* buf, size_t len, int flags) {
  return run(ud, fd, [&](Sockets& s, int inner) { return s.recv(inner, buf, len, flags); });
}
ssize_t port_recvfrom(void* ud, int fd, void* buf, size_t len, int flags, sockaddr* src,
                      socklen_t* srclen) {
  return run(ud, fd, [&](Sockets& s, int inner) {
    return s.recvfrom(inner, buf, len, flags, src, srclen);
  });
}
ssize_t port_recvmsg(void* ud, int fd, msghdr* msg, int flags) {
  return run(ud, fd, [&](Sockets& s, int inner) { return s.recvmsg(inner, msg, flags); });
}
ssize_t port_write(void* ud, int fd, const void* buf, size_t count) {
  return run(ud, fd, [&](Sockets& s, int inner) { return s.write(inner, buf, count); });
}
ssize_t port_writev(void* ud, int fd, const iovec* iov, int iovcnt) {
  return run(ud, fd, [&](Sockets& s, int inner) { return s.writev(inner, iov, iovcnt); });
}
ssize_t port_send(void* ud, int fd, const void* buf, size_t len, int flags) {
  return run(ud, fd, [&](Sockets& s, int inner) { return s.send(inner, buf, len, flags); });
}
ssize_t port_sendto(void* ud, int fd, const void* buf, size_t len, int flags, const sockaddr* dst,
                    socklen_t dstlen) {
  return run(ud, fd,
             [&](Sockets& s, int inner) { return s.sendto(inner, buf, len, flags, dst, dstlen); });
}
ssize_t port_sendmsg(void* ud, int fd, const msghdr* msg, int flags) {
  return run(ud, fd, [&](Sockets& s, int inner) { return s.sendmsg(inner, msg, flags); });
}
int port_fcntl(void* ud, int fd, int cmd, ...) {
  long arg = 0;
  if (cmd == F_SETFL || cmd == F_SETFD) {
    va_list ap;
    va_start(ap, cmd);
    arg = va_arg(ap, int);
    va_end(ap);
  }
  return run(ud, fd, [&](Sockets& s, int inner) { return s.fcntl(inner, cmd, arg); });
}
int port_ioctl(void* ud, int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return run(ud, fd, [&](Sockets& s, int inner) { return s.ioctl(inner, request, arg); });
}
int port_close(void* ud, int fd) {
  if (!ud) return errno = EINVAL, -1;
  return port_of(ud)->close(fd);
}
int port_shutdown(void* ud, int fd, int how) {
  return run(ud, fd, [&](Sockets& s, int inner) { return s.shutdown(inner, how); });
}
int port_getsockopt(void* ud, int fd, int level, int name, void* val, socklen_t* len) {
  return run(ud, fd,
             [&](Sockets& s, int inner) { return s.getsockopt(inner, level, name, val, len); });
}
int port_setsockopt(void* ud, int fd, int level, int name, const void* val, socklen_t len) {
  return run(ud, fd,
             [&](Sockets& s, int inner) { return s.setsockopt(inner, level, name, val, len); });
}
int port_poll(void* ud, pollfd* fds, nfds_t nfds, int timeout) {
  if (!ud) return errno = EINVAL, -1;
  return port_of(ud)->poll(fds, nfds, timeout);
}
int port_netdev_send(void* ud, const void* buf, size_t count) {
  if (!ud) return errno = EINVAL, -1;
  return port_of(ud)->netdev_send(buf, count);
}
int port_netdev_receive(void* ud, void* buf, size_t* count, long long* time_usecs) {
  if (!ud) return errno = EINVAL, -1;
  return port_of(ud)->netdev_receive(buf, count, time_usecs);
}
int port_usleep(void* ud, useconds_t usec) {
  if (!ud) return errno = EINVAL, -1;
  return port_of(ud)->usleep(static_cast<int64_t>(usec));
}
int port_gettimeofday(void* ud, timeval* tv, struct timezone* tz) {
  if (!ud) return errno = EINVAL, -1;
  const int64_t us = port_of(ud)->gettimeofday_usecs();
  if (tv) {
    tv->tv_sec = static_cast<time_t>(us / 1'000'000);
    tv->tv_usec = static_cast<suseconds_t>(us % 1'000'000);
  }
  if (tz) {
    tz->tz_minuteswest = 0;
    tz->tz_dsttime = 0;
  }
  return 0;
}
int port_epoll_create(void*, int) {
  return enosys();
}
int port_epoll_ctl(void*, int, int, int, epoll_event*) {
  return enosys();
}
int port_epoll_wait(void*, int, epoll_event*, int, int) {
  return enosys();
}
int port_pipe(void*, int*) {
  return enosys();
}
int port_splice(void*, int, loff_t*, int, loff_t*, size_t, unsigned int) {
  return enosys();
}

}  // namespace

extern "C" __attribute__((visibility("default"))) void packetdrill_interface_init(
    const char* flags, packetdrill_interface* ifc) {
  if (!ifc) return;
  std::string error;
  auto options = utcp::packetdrill::parse_port_flags(flags ? flags : "", error);
  Port* port = nullptr;
  if (!options) {
    std::fprintf(stderr, "utcp packetdrill port: %s; every call will fail with EINVAL\n",
                 error.c_str());
  } else {
    port = new (std::nothrow) Port(*options);
  }
  ifc->userdata = port;
  ifc->free = port_free;
  ifc->socket = port_socket;
  ifc->bind = port_bind;
  ifc->listen = port_listen;
  ifc->accept = port_accept;
  ifc->connect = port_connect;
  ifc->read = port_read;
  ifc->readv = port_readv;
  ifc->recv = port_recv;
  ifc->recvfrom = port_recvfrom;
  ifc->recvmsg = port_recvmsg;
  ifc->write = port_write;
  ifc->writev = port_writev;
  ifc->send = port_send;
  ifc->sendto = port_sendto;
  ifc->sendmsg = port_sendmsg;
  ifc->fcntl = port_fcntl;
  ifc->ioctl = port_ioctl;
  ifc->close = port_close;
  ifc->shutdown = port_shutdown;
  ifc->getsockopt = port_getsockopt;
  ifc->setsockopt = port_setsockopt;
  ifc->poll = port_poll;
  ifc->netdev_send = port_netdev_send;
  ifc->netdev_receive = port_netdev_receive;
  ifc->usleep = port_usleep;
  ifc->gettimeofday = port_gettimeofday;
  ifc->epoll_create = port_epoll_create;
  ifc->epoll_ctl = port_epoll_ctl;
  ifc->epoll_wait = port_epoll_wait;
  ifc->pipe = port_pipe;
  ifc->splice = port_splice;
}

extern "C" __attribute__((visibility("default"))) void utcp_packetdrill_set_receive_horizon(
    void* userdata, long long time_usecs) {
  if (userdata) port_of(userdata)->set_receive_horizon(time_usecs);
}

extern "C" __attribute__((visibility("default"))) int utcp_packetdrill_blocked_calls(
    void* userdata) {
  return userdata ? port_of(userdata)->blocked_calls() : 0;
}

extern "C" __attribute__((visibility("default"))) long long utcp_packetdrill_last_return_usecs(
    void* userdata) {
  return userdata ? port_of(userdata)->last_return_usecs() : -1;
}

extern "C" __attribute__((visibility("default"))) void utcp_packetdrill_stop_waiting(
    void* userdata) {
  if (userdata) port_of(userdata)->stop_waiting();
}
