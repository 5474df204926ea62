// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A POSIX-style socket facade over a utcp::Stack: integer descriptors, -1 with errno on
// error, and the errno values Linux gives for the same situation.
//
// AF_INET and AF_INET6 sockets. An AF_INET6 socket is dual stack unless IPV6_V6ONLY is set
// (RFC 3493 §5.3, Linux's default): it listens for both families and connects to an
// IPv4-mapped address ::ffff:a.b.c.d over IPv4; IPv4 peers appear in its addresses mapped.
// IPV6_TCLASS sets the traffic class of its IPv6 traffic, IP_TOS that of its IPv4 traffic. It is
// the layer packetdrill (lib/packetdrill) and a future LD_PRELOAD shim sit on.
//
// SOCK_DGRAM (UDP, docs/udp.md) as Linux's udp(7): one datagram per call, a short buffer truncates
// (MSG_TRUNC), MSG_PEEK, connect() and connect(AF_UNSPEC), ECONNREFUSED on a connected socket
// after a port unreachable, EMSGSIZE above 65,507 (IPv4) / 65,527 (IPv6) bytes, SO_RCVBUF
// sizing the receive queue; dual stack on AF_INET6 as for TCP.
//
// The facade is not thread-safe by itself: its owner serialises calls (the packetdrill port
// holds a mutex). Blocking calls ask a SocketHost to wait; without a host every descriptor
// behaves as non-blocking (a call that would block fails with EAGAIN).
//
// Urgent data (RFC 9293 §3.8.5) stays in the byte stream, as RFC 6093 §4 asks: every socket
// behaves as a Linux socket with SO_OOBINLINE set. send(MSG_OOB) marks the last byte urgent;
// recv(MSG_OOB) fails with EINVAL (there is no out-of-band byte); a read stops just before the
// last urgent byte, where ioctl(SIOCATMARK) reports 1; poll() reports POLLPRI while urgent data
// is pending. ioctl() also answers FIONBIO, FIONREAD/SIOCINQ, SIOCOUTQ/TIOCOUTQ and SIOCOUTQNSD.
//
// Send controls as Linux: TCP_CORK and send(MSG_MORE) hold a short segment (until uncorked or
// a plain send, at most 200 ms with nothing in flight), TCP_NOTSENT_LOWAT bounds unsent bytes
// (send) and POLLOUT (half the mark). SO_SNDBUF / SO_RCVBUF read back twice the value set
// (capped at 212992 before doubling, floors 4608 / 2304 after), as Linux reports them; the
// buffer used is the value set, and SO_SNDBUF stops send-buffer autotuning.
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <vector>

#include "utcp/stack.hpp"
#include "utcp/time.hpp"

namespace utcp::posix {

// What the facade needs from whoever drives the stack.
class SocketHost {
 public:
  virtual ~SocketHost() = default;
  // The current time for the stack (virtual or real).
  virtual Instant now() = 0;
  // A blocking call cannot proceed: return when the stack's state may have changed or
  // `deadline` has come. false means give up (the call fails with EINTR).
  virtual bool wait(Instant deadline) = 0;
};

// Our own TCP_INFO answer (getsockopt(fd, IPPROTO_TCP, TCP_INFO, ...)): what the Stack
// exposes. tcpi_state uses Linux's numbering (TCP_ESTABLISHED = 1, ..., TCP_LISTEN = 10).
struct TcpInfo {
  uint8_t tcpi_state = 0;
  uint8_t tcpi_reserved[3] = {};
  uint32_t tcpi_local_port = 0;
  uint32_t tcpi_remote_port = 0;
  uint32_t tcpi_remote_addr = 0;  // host order; 0 for an IPv6 peer
  // The connection's statistics (cwnd, ssthresh, RTT, retransmissions, SACK, ...), as
  // Stack::tcp_info gives them; all zero for a listener or a socket without a connection.
  tcp::TcpInfo stats;
  // The peer's address of either family, 16 bytes in network order (an IPv4 peer as
  // ::ffff:a.b.c.d).
  uint8_t tcpi_remote_addr6[16] = {};
};

class Sockets {
 public:
  explicit Sockets(Stack& stack, SocketHost* host = nullptr);
  ~Sockets();
  Sockets(const Sockets&) = delete;
  Sockets& operator=(const Sockets&) = delete;

  // Points the facade at another stack; only allowed while no descriptor holds a stack
  // socket (returns false otherwise). The packetdrill port uses it when bind() names an
  // address the current stack does not own.
  bool replace_stack(Stack& stack);
  bool holds_stack_sockets() const;

  int socket(int domain, int type, int protocol);
  int bind(int fd, const sockaddr* addr, socklen_t len);
  int listen(int fd, int backlog);
  int accept(int fd, sockaddr* addr, socklen_t* len);
  int accept4(int fd, sockaddr* addr, socklen_t* len, int flags);
  int connect(int fd, const sockaddr* addr, socklen_t len);
  ssize_t read(int fd, void* buf, size_t count);
  ssize_t readv(int fd, const iovec* iov, int iovcnt);
  ssize_t recv(int fd, void* buf, size_t len, int flags);
  ssize_t recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* src, socklen_t* srclen);
  ssize_t recvmsg(int fd, msghdr* msg, int flags);
  ssize_t write(int fd, const void* buf, size_t count);
  ssize_t writev(int fd, const iovec* iov, int iovcnt);
  ssize_t send(int fd, const void* buf, size_t len, int flags);
  ssize_t sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* dst,
                 socklen_t dstlen);
  ssize_t sendmsg(int fd, const msghdr* msg, int flags);
  int close(int fd);
  int shutdown(int fd, int how);
  // The socket's own address and its peer's, as sockaddr_in, or sockaddr_in6 on an AF_INET6
  // socket (an IPv4 address as ::ffff:a.b.c.d).
  int getsockname(int fd, sockaddr* addr, socklen_t* len);
  int getpeername(int fd, sockaddr* addr, socklen_t* len);
  int setsockopt(int fd, int level, int name, const void* val, socklen_t len);
  int getsockopt(int fd, int level, int name, void* val, socklen_t* len);
  int fcntl(int fd, int cmd, long arg);
  int ioctl(int fd, unsigned long request, void* arg);
  int poll(pollfd* fds, nfds_t nfds, int timeout_ms);
  // poll() revents for one descriptor right now (POLLNVAL for a bad one).
  short poll_events(int fd) const;

  // The stack socket behind a descriptor (kNoSocket if none), for tests and tools.
  SocketId socket_id(int fd) const;

 private:
  struct Entry;
  Entry* find(int fd);
  const Entry* find(int fd) const;
  int fail(int err) const;
  void kick();
  bool wait_until(Instant deadline);
  ssize_t recv_iov(int fd, const iovec* iov, int iovcnt, int flags);
  ssize_t send_iov(int fd, const iovec* iov, int iovcnt, int flags);
  int finish_connect(Entry& e);
  int take_error(Entry& e);
  void apply_options(const Entry& e);
  int maxseg_answer(const Entry& e) const;
  bool carries_ipv6(const Entry& e) const;
  // SOCK_DGRAM (dgram_sockets.cpp).
  int dgram_bind(Entry& e, const IpAddr& addr, uint16_t port, bool mapped);
  int dgram_connect(Entry& e, const sockaddr* addr, socklen_t len);
  ssize_t dgram_send(int fd, const iovec* iov, int iovcnt, int flags, const sockaddr* dst,
                     socklen_t dstlen);
  ssize_t dgram_recv(int fd, const iovec* iov, int iovcnt, int flags, sockaddr* src,
                     socklen_t* srclen, int* msg_flags);
  int dgram_hold(Entry& e);
  int dgram_error(Entry& e);
  void dgram_release(Entry& e);
  void dgram_sync(Entry& e);
  short dgram_poll(const Entry& e) const;
  int dgram_names(const Entry& e, bool peer, sockaddr* addr, socklen_t* len) const;

  Stack* stack_;
  SocketHost* host_;
  std::vector<Entry> entries_;   // indexed by descriptor
  std::vector<uint8_t> gather_;  // a SOCK_DGRAM send's iovecs made one datagram
};

}  // namespace utcp::posix
