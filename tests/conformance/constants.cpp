// SPDX-License-Identifier: BSD-2-Clause
// Symbolic names usable in socket-call lines, with the values of the Linux headers.
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <utility>

#include "script_parser.hpp"

namespace utcp::drill {

namespace {

constexpr std::pair<std::string_view, int64_t> kConstants[] = {
    {"AF_INET", AF_INET},
    {"PF_INET", PF_INET},
    {"AF_INET6", AF_INET6},
    {"SOCK_STREAM", SOCK_STREAM},
    {"SOCK_DGRAM", SOCK_DGRAM},
    {"SOCK_NONBLOCK", SOCK_NONBLOCK},
    {"SOCK_CLOEXEC", SOCK_CLOEXEC},
    {"IPPROTO_TCP", IPPROTO_TCP},
    {"IPPROTO_IP", IPPROTO_IP},
    {"SOL_SOCKET", SOL_SOCKET},
    {"SOL_TCP", SOL_TCP},
    {"SO_REUSEADDR", SO_REUSEADDR},
    {"SO_REUSEPORT", SO_REUSEPORT},
    {"SO_KEEPALIVE", SO_KEEPALIVE},
    {"SO_LINGER", SO_LINGER},
    {"SO_RCVBUF", SO_RCVBUF},
    {"SO_SNDBUF", SO_SNDBUF},
    {"SO_ERROR", SO_ERROR},
    {"SO_TYPE", SO_TYPE},
    {"SO_ACCEPTCONN", SO_ACCEPTCONN},
    {"TCP_NODELAY", TCP_NODELAY},
    {"TCP_MAXSEG", TCP_MAXSEG},
    {"TCP_CORK", TCP_CORK},
    {"TCP_NOTSENT_LOWAT", TCP_NOTSENT_LOWAT},
    {"TCP_KEEPIDLE", TCP_KEEPIDLE},
    {"TCP_KEEPINTVL", TCP_KEEPINTVL},
    {"TCP_KEEPCNT", TCP_KEEPCNT},
    {"TCP_USER_TIMEOUT", TCP_USER_TIMEOUT},
    {"TCP_INFO", TCP_INFO},
    {"F_GETFL", F_GETFL},
    {"F_SETFL", F_SETFL},
    {"F_GETFD", F_GETFD},
    {"F_SETFD", F_SETFD},
    {"FD_CLOEXEC", FD_CLOEXEC},
    {"O_RDONLY", O_RDONLY},
    {"O_WRONLY", O_WRONLY},
    {"O_RDWR", O_RDWR},
    {"O_NONBLOCK", O_NONBLOCK},
    {"SHUT_RD", SHUT_RD},
    {"SHUT_WR", SHUT_WR},
    {"SHUT_RDWR", SHUT_RDWR},
    {"POLLIN", POLLIN},
    {"POLLPRI", POLLPRI},
    {"POLLOUT", POLLOUT},
    {"POLLERR", POLLERR},
    {"POLLHUP", POLLHUP},
    {"POLLNVAL", POLLNVAL},
    {"POLLRDNORM", POLLRDNORM},
    {"POLLWRNORM", POLLWRNORM},
    {"POLLRDHUP", POLLRDHUP},
    {"MSG_DONTWAIT", MSG_DONTWAIT},
    {"MSG_PEEK", MSG_PEEK},
    {"MSG_OOB", MSG_OOB},
    {"MSG_WAITALL", MSG_WAITALL},
    {"MSG_NOSIGNAL", MSG_NOSIGNAL},
    {"MSG_MORE", MSG_MORE},
    {"FIONBIO", FIONBIO},
    {"FIONREAD", FIONREAD},
    {"SIOCINQ", SIOCINQ},
    {"SIOCOUTQ", SIOCOUTQ},
    {"TIOCOUTQ", TIOCOUTQ},
    {"SIOCOUTQNSD", SIOCOUTQNSD},
    {"SIOCATMARK", SIOCATMARK},
    {"SO_OOBINLINE", SO_OOBINLINE},
    {"INADDR_ANY", INADDR_ANY},
    // Linux's TCP states, for TCP_INFO's tcpi_state.
    {"TCP_ESTABLISHED", 1},
    {"TCP_SYN_SENT", 2},
    {"TCP_SYN_RECV", 3},
    {"TCP_FIN_WAIT1", 4},
    {"TCP_FIN_WAIT2", 5},
    {"TCP_TIME_WAIT", 6},
    {"TCP_CLOSE", 7},
    {"TCP_CLOSE_WAIT", 8},
    {"TCP_LAST_ACK", 9},
    {"TCP_LISTEN", 10},
    {"TCP_CLOSING", 11},
};

constexpr std::pair<std::string_view, int> kErrnos[] = {
    {"EAGAIN", EAGAIN},
    {"EWOULDBLOCK", EWOULDBLOCK},
    {"EINPROGRESS", EINPROGRESS},
    {"EALREADY", EALREADY},
    {"EISCONN", EISCONN},
    {"ENOTCONN", ENOTCONN},
    {"ECONNREFUSED", ECONNREFUSED},
    {"ECONNRESET", ECONNRESET},
    {"ECONNABORTED", ECONNABORTED},
    {"ETIMEDOUT", ETIMEDOUT},
    {"EPIPE", EPIPE},
    {"EBADF", EBADF},
    {"EINVAL", EINVAL},
    {"EFAULT", EFAULT},
    {"EINTR", EINTR},
    {"ENOPROTOOPT", ENOPROTOOPT},
    {"EADDRINUSE", EADDRINUSE},
    {"EADDRNOTAVAIL", EADDRNOTAVAIL},
    {"EAFNOSUPPORT", EAFNOSUPPORT},
    {"EPROTONOSUPPORT", EPROTONOSUPPORT},
    {"EOPNOTSUPP", EOPNOTSUPP},
    {"ENOSYS", ENOSYS},
    {"ENOTTY", ENOTTY},
    {"ENOTSOCK", ENOTSOCK},
    {"EHOSTUNREACH", EHOSTUNREACH},
    {"ENETUNREACH", ENETUNREACH},
    {"EMSGSIZE", EMSGSIZE},
    {"EPROTO", EPROTO},
    {"ENOBUFS", ENOBUFS},
    {"ENOMEM", ENOMEM},
};

}  // namespace

std::optional<int64_t> lookup_constant(std::string_view name) {
  for (const auto& [n, v] : kConstants) {
    if (n == name) return v;
  }
  return std::nullopt;
}

std::optional<int> errno_value(std::string_view name) {
  for (const auto& [n, v] : kErrnos) {
    if (n == name) return v;
  }
  return std::nullopt;
}

std::string errno_name(int value) {
  for (const auto& [n, v] : kErrnos) {
    if (v == value) return std::string(n);
  }
  return "errno " + std::to_string(value);
}

}  // namespace utcp::drill
