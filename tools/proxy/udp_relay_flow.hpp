// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// UdpRelay's internal records (udp_relay.cpp, udp_relay_socks5.cpp): a flow, a resolver
// thread's shared state, and a SOCKS5 UDP association several flows share.
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "socks5_association.hpp"
#include "udp_relay.hpp"

namespace utcp::proxy {

// Shared with a resolver thread: `relay` is cleared (under the lock) when the flow ends, so an
// answer that comes later is dropped; the loop outlives the relay, so posting to it under the
// lock while `relay` is set is safe.
struct UdpRelay::Resolution {
  std::mutex mutex;
  UdpRelay* relay = nullptr;
  EventLoop* loop = nullptr;
};

struct UdpRelay::Flow {
  Stack::UdpFlow flow;
  uint64_t session = 0;
  Target target;           // where its datagrams go upstream (SOCKS5: the §7 DST)
  bool local_dns = false;  // fake-IP DNS: answered here
  int fd = -1;             // direct: the upstream UDP socket, connected to the target
  bool fd_watched = false;
  uint32_t fd_events = 0;
  uint64_t association = 0;                // SOCKS5: the association it rides (0: none)
  std::shared_ptr<Resolution> resolution;  // direct to a name, while getaddrinfo runs
  bool ready = false;                      // the upstream takes datagrams now
  bool dirty = false;                      // in dirty_: the client side has something to read
  // Toward the upstream, not yet sent. A list: an empty one allocates nothing (a deque would,
  // per flow), and most flows never queue.
  std::list<std::vector<uint8_t>> queue;
  size_t queued_bytes = 0;
  Instant opened;
  Instant last_used;
  uint64_t bytes_up = 0;
  uint64_t bytes_down = 0;
};

// Which flow a datagram from the relay belongs to: the RFC 1928 §7 header of a reply names
// where it came from (the flow's target); to a DNS server (port 53) several flows of one client
// may send at once, told apart by the query's ID (RFC 1035 §4.1.1), which the answer repeats.
struct UdpRelay::ReplyKey {
  IpAddr addr;
  uint16_t port = 0;
  int32_t dns_id = -1;  // -1: not DNS
  bool operator==(const ReplyKey&) const = default;
};
struct UdpRelay::ReplyKeyHash {
  size_t operator()(const ReplyKey& k) const noexcept {
    return std::hash<IpAddr>()(k.addr) ^ (size_t{k.port} << 17) ^
           (static_cast<size_t>(k.dns_id + 1) << 34);
  }
};

// One UDP ASSOCIATE (control connection + relay UDP socket) for the flows of one client
// address (docs/proxy.md "One association per client"). A flow to a name (fake IP, ATYP 3) gets
// one of its own: the relay's replies name the address the server resolved it to.
struct UdpRelay::Association {
  uint64_t id = 0;
  IpAddr client;
  bool shared = true;
  std::unique_ptr<Socks5Association> socks;  // the control connection
  int fd = -1;                               // the UDP socket; connected to BND once ready
  bool fd_watched = false;
  bool blocked = false;  // a send found the socket buffer full: waiting for EPOLLOUT
  bool ready = false;
  bool ending = false;  // ending all its flows
  Instant opened;
  Instant empty_since;          // when its last flow ended (shared ones linger, then close)
  std::vector<SocketId> flows;  // the flows riding it
  // Where a reply goes: the flow, and for DNS the query ID its client chose (the ID that went
  // upstream differs when two flows' queries to one server had the same one).
  struct Route {
    SocketId socket = kNoSocket;
    uint16_t client_dns_id = 0;
  };
  std::unordered_map<ReplyKey, Route, ReplyKeyHash> routes;
};

}  // namespace utcp::proxy
