// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// One descriptor of the POSIX facade: what kind of socket it is and the per-descriptor state
// Linux keeps outside TCP proper (O_NONBLOCK, shutdown flags, a consumed error, SO_LINGER).
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "utcp/posix.hpp"
#include "utcp/tcp_config.hpp"

namespace utcp::posix {

// kDatagram: a SOCK_DGRAM socket, whatever its state (dgram_sockets.cpp).
enum class EntryKind : uint8_t { kFresh, kListener, kConnection, kDatagram };

struct Sockets::Entry {
  bool open = false;
  int domain = AF_INET;  // AF_INET, or AF_INET6 (dual stack unless v6only)
  EntryKind kind = EntryKind::kFresh;
  SocketId id = kNoSocket;
  bool nonblocking = false;
  bool cloexec = false;
  bool bound = false;
  uint16_t port = 0;
  // bind()'s address: unspecified (0.0.0.0, ::) or the stack's own (RFC 9293 §3.9.1.1,
  // MUST-43); an IPv4-mapped one decoded to IPv4 (bound_mapped).
  IpAddr addr;
  bool bound_mapped = false;
  bool v6only = false;       // IPV6_V6ONLY (RFC 3493 §5.3): an AF_INET6 socket without IPv4
  bool connecting = false;   // connect() started and not yet reported complete
  bool connected = false;    // connect() reported success (Linux SS_CONNECTED)
  bool error_taken = false;  // the connection's error was reported once (sk_err consumed)
  bool read_shut = false;    // shutdown(SHUT_RD)
  bool write_shut = false;   // shutdown(SHUT_WR)
  bool linger_on = false;    // SO_LINGER
  int linger_secs = 0;
  bool reuseaddr = false;
  bool nodelay = false;
  uint8_t tos = 0;  // IP_TOS, ECN bits cleared (RFC 9293 §3.9.1.9)
  int tclass = -1;  // IPV6_TCLASS as set (-1: the default, 0; RFC 3542 §6.5)
  // Options kept per descriptor and applied to its connection once it exists; accepted
  // sockets inherit the listener's, as on Linux. Unset means the stack's default.
  std::optional<tcp::KeepaliveConfig> keepalive;  // SO_KEEPALIVE, TCP_KEEPIDLE/INTVL/CNT
  std::optional<Duration> user_timeout;           // TCP_USER_TIMEOUT
  size_t sndbuf = 0;                              // SO_SNDBUF applied (0: default)
  size_t rcvbuf = 0;                              // SO_RCVBUF applied (0: default)
  bool cork = false;                              // TCP_CORK
  uint32_t notsent_lowat = 0;                     // TCP_NOTSENT_LOWAT (0: none)
  uint16_t maxseg = 0;                            // TCP_MAXSEG (0: the stack's MSS)

  // SOCK_DGRAM: the Stack's UDP sockets behind the descriptor. The Stack's sockets have one
  // family each, so a dual-stack AF_INET6 socket bound to the wildcard holds two on one port;
  // `id` is whichever exists (udp6 first), for socket_id() and holds_stack_sockets().
  SocketId udp4 = kNoSocket;
  SocketId udp6 = kNoSocket;
  // A datagram taken from the Stack but not yet consumed (MSG_PEEK, FIONREAD): its bytes in
  // full, its sender and whether it holds one.
  std::vector<uint8_t> held;
  Endpoint held_from;
  bool holding = false;
  bool v4_next = false;  // a dual-stack pair: which family's socket is read first next time

  // The families a bound AF_INET6 socket takes (bit 1: IPv4, bit 2: IPv6).
  static constexpr int kV4 = 1, kV6 = 2;
  int families() const {
    if (domain == AF_INET) return kV4;
    if (bound_mapped) return kV4;
    if (!addr.is_unspecified()) return kV6;
    return v6only ? kV6 : kV4 | kV6;
  }
  // The Diffserv byte for a connection of this family (IPV6_TCLASS, else IP_TOS for IPv4).
  uint8_t diffserv(bool v6) const {
    return v6 ? static_cast<uint8_t>(tclass < 0 ? 0 : tclass & ~0x03) : tos;
  }
};

}  // namespace utcp::posix
