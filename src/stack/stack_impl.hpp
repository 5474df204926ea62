// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Stack::Impl: the wiring between the parts, each owning its own state:
//   stack/socket_table.hpp      sockets, handles, 4-tuples, listeners, readiness
//   stack/tcp_demux.hpp         where an arriving segment goes (sans-IO verdict)
//   stack/output.hpp            IPv4 output and the transmit batch
//   stack/icmp_errors.hpp       ICMP errors to the engine, engine errors to errno
//   stack/direct_placement.hpp  reading bulk segments straight into a receive ring
// Input is in stack_input.cpp, flushing and timers in stack_flush.cpp, the API in stack.cpp.
#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "ip/ipv4_input.hpp"
#include "ip/ipv6_input.hpp"
#include "stack/counters.hpp"
#include "stack/direct_placement.hpp"
#include "stack/forwarding.hpp"
#include "stack/held_device.hpp"
#include "stack/orphan_queue.hpp"
#include "stack/output.hpp"
#include "stack/port_allocator.hpp"
#include "stack/socket_table.hpp"
#include "stack/syn_cookies.hpp"
#include "stack/timer_heap.hpp"
#include "stack/udp_flows.hpp"
#include "tcp/challenge_ack_limiter.hpp"
#include "tcp/isn_generator.hpp"
#include "tcp/memory_budget.hpp"
#include "udp/udp_socket_table.hpp"
#include "utcp/device.hpp"
#include "utcp/stack.hpp"
#include "wire/tcp.hpp"

namespace utcp {

struct Stack::Impl {
  using Socket = stack::Socket;
  using Kind = stack::SocketKind;

  static constexpr size_t kBatch = stack::Output::kBatch;
  static constexpr size_t kMaxPacket = stack::Output::kMaxPacket;
  // Most packets one process() call reads before it runs timers and output.
  static constexpr size_t kMaxPacketsPerProcess = 16 * kBatch;
  // Received bytes after which the stack sends its ACKs before reading more (see receive_all).
  static constexpr size_t kAckEveryBytes = 256 * 1024;

  // `held`: the push-style stack's own device (nullptr when the caller's device is used).
  Impl(dev::Device& d, std::unique_ptr<stack::HeldDevice> held, StackConfig c);

  // The StackConfig with what the device decides filled in: path MTU, MSS cap, TSO size.
  static StackConfig resolve(StackConfig c, const dev::DeviceCapabilities& caps);

  std::unique_ptr<stack::HeldDevice> held;  // before `device`, which may refer to it
  dev::Device& device;
  dev::DeviceCapabilities caps;
  StackConfig config;
  // config.tcp for IPv4 and IPv6 connections (the IP header the MSS leaves room for), shared
  // by every connection until a socket option gives one its own copy (tcp::SharedConfig).
  // Declared before `sockets`, whose connections point here.
  std::array<tcp::Config, 2> tcp_config;
  tcp::IsnGenerator isn;
  stack::PortAllocator ports;
  tcp::ChallengeAckLimiter limiter;
  tcp::MemoryBudget memory;  // before `sockets`: the connections' rings give back to it
  stack::SynCookies cookies;
  stack::Counters counters;
  stack::Output out;
  ip::Ipv4Input ip_in;
  ip::Ipv6Input ip6_in;
  stack::TimerHeap timers;
  stack::SocketTable sockets;
  stack::DirectPlacement placement;
  stack::OrphanQueue orphans;
  udp::UdpSocketTable udp;
  stack::PendingRequests requests;  // forwarding: SYNs waiting for the application
  std::function<void(const ConnectionRequest&)> on_request;
  stack::UdpFlows udp_flows;              // forwarding: UDP flows to forwarded destinations
  stack::DirectPlacement::Lease lease;    // held for one placed read at a time
  std::unique_ptr<uint8_t[]> rx_storage;  // uninitialised, as Output's (resident once used)
  std::array<dev::PacketSlot, kBatch> rx_slots;
  // Packets were read into rx_storage since its pages were last released, the last at rx_last.
  bool rx_used = false;
  Instant rx_last{};
  // IP header length of the packet being input, 0 when its segment lies elsewhere (a
  // reassembled datagram): only a segment inside its packet may seed placement.
  size_t ip_header_len = 0;
  // The whole IP packet of the segment being input (to quote in an ICMP rejection).
  std::span<const uint8_t> in_datagram;
  Instant now{};
  std::function<void(SocketId, uint32_t)> on_readiness;
  std::function<void(char, std::string_view)> trace;

  void set_now(Instant t) {
    now = t;
    out.set_now(t);
  }
  void mark_dirty(uint32_t index) { sockets.mark_dirty(index); }
  // Shorthands for the API methods (stack.cpp): the socket table's handles.
  Socket* lookup(SocketId id) { return sockets.lookup(id); }
  const Socket* lookup(SocketId id) const { return sockets.lookup(id); }
  uint32_t index_of(const Socket& s) const { return sockets.index_of(s); }
  SocketId id_of(uint32_t index) const { return sockets.id_of(index); }
  static uint32_t readiness(const Socket& s) { return stack::SocketTable::readiness(s); }
  void release_slot(uint32_t index) {
    if (sockets[index].kind == Kind::kConnection) timers.cancel(index);
    if (sockets[index].orphan) orphans.left();
    sockets.release(index);
  }
  uint32_t new_connection(const stack::FourTuple& t);
  // Once no packet moved for tcp::Config::idle_release, gives the pages of both batch buffers
  // back to the system (batch_pages.hpp). Called after each process() pass.
  void release_quiet_batches();
  // RFC 6437 §3: the flow label of an IPv6 4-tuple, a keyed hash (stable for the
  // connection, unpredictable to others, never 0); 0 for IPv4.
  uint32_t flow_label(const stack::FourTuple& t) const;

  // ---- flush and timers (stack_flush.cpp) ----
  void drain_connection(uint32_t index);
  void promote_to_accept_queue(uint32_t index);
  void reap(uint32_t index);
  void notify(uint32_t index);
  void flush(Instant t);
  void run_timers();
  // send() and send_urgent(): the checks a write must pass, then the engine takes the bytes.
  size_t send(SocketId id, std::span<const uint8_t> data, std::error_code& ec, bool urgent);

  // ---- orphans (stack_orphans.cpp) ----
  // After Stack::close: the connection becomes an orphan if it is still ending; the oldest
  // orphan over StackConfig::max_orphans is reset.
  void on_orphaned(uint32_t index);
  // After the engine moved: an orphan that reached TIME-WAIT or CLOSED is one no longer.
  void settle_orphan(uint32_t index);
  // Resets orphans older than StackConfig::orphan_timeout.
  void expire_orphans();
  void reset_orphan(uint32_t index);
  bool still_orphan(const stack::OrphanQueue::Entry& e) const;

  // ---- input (stack_input.cpp) ----
  // checksum_verified: the device vouched for the TCP checksum (offload), so skip it.
  void on_packet(std::span<const uint8_t> bytes, bool checksum_verified = false);
  void on_packet6(std::span<const uint8_t> bytes, bool checksum_verified);
  void on_icmp_error(const ip::IcmpError& e);
  void on_tcp(const IpAddr& src, const IpAddr& dst, std::span<const uint8_t> bytes,
              bool checksum_verified, uint8_t ecn);
  void reopen_time_wait(uint32_t index, uint32_t listener, const stack::FourTuple& t,
                        const wire::TcpRepr& syn);
  void on_syn_to_listener(uint32_t l, const stack::FourTuple& t, const wire::TcpRepr& syn,
                          std::optional<wire::SeqNum> iss_override = std::nullopt);
  void input_slot(dev::PacketSlot& slot);
  // ---- forwarding (stack_forwarding.cpp) ----
  bool is_own_address(const IpAddr& a) const {
    return a.is_v4() ? a.v4() == config.address : a.v6() == config.address6;
  }
  // A pure SYN for a forwarded destination with no connection: a new request (or dropped
  // when the table is full).
  void on_forward_syn(const stack::FourTuple& t, const wire::TcpRepr& syn);
  static ConnectionRequest request_of(const stack::PendingRequest& r);
  void send_request_reset(const stack::PendingRequest& r);
  // Resets requests undecided past StackConfig::request_timeout.
  void expire_requests();
  // A datagram to a forwarded destination: to its flow, made if new (udp_flows.cpp).
  void on_forwarded_udp(const IpAddr& src, const IpAddr& dst, uint8_t traffic_class,
                        std::span<const uint8_t> payload, bool checksum_verified);
  // The same with endpoint-independent mapping (StackConfig::udp_endpoint_independent).
  void on_independent_udp(const IpAddr& src, const IpAddr& dst, uint8_t traffic_class,
                          std::span<const uint8_t> payload, bool checksum_verified);
  bool is_forwarded(const IpAddr& a) const;  // in StackConfig::forward
  void expire_udp_flows();
  // ---- SYN cookies (syn_cookie_listener.cpp) ----
  // Answers a SYN that found the SYN queue full with a cookie SYN-ACK, keeping no state.
  void send_syn_cookie(uint32_t l, const stack::FourTuple& t, const wire::TcpRepr& syn);
  // An ACK at listener `l` with no connection: true if it carried one of our cookies and was
  // taken (a connection rebuilt, or dropped for a full accept queue), false to answer it with
  // a RST as any stray ACK.
  bool accept_syn_cookie(uint32_t l, const stack::FourTuple& t, const wire::TcpRepr& ack,
                         uint8_t ecn);
  void receive_all();

  // ---- UDP (udp_sockets.cpp) ----
  static udp::UdpConfig udp_config(const StackConfig& c);
  Socket* lookup_udp(SocketId id) { return sockets.lookup_udp(id); }
  // A datagram from IP input of either family (payload: the UDP bytes) to its socket; true
  // when no socket wants it, and the caller answers with its family's port unreachable
  // (udp_port_unreachable, udp_port_unreachable6).
  bool on_udp(const IpAddr& src, const IpAddr& dst, uint8_t traffic_class,
              std::span<const uint8_t> payload, bool checksum_verified);
  // RFC 1122 §4.1.3.1 over IPv4: the rate-limited answer to `datagram` (a whole IPv4 packet).
  void udp_port_unreachable(std::span<const uint8_t> datagram);
  // RFC 4443 §3.1 code 4 over IPv6, rate-limited (§2.4(f)): `datagram` a whole IPv6 packet.
  void udp_port_unreachable6(std::span<const uint8_t> datagram);
  // An ICMP or ICMPv6 error quoting one of our datagrams: to the connected socket it is about.
  void on_udp_icmp_error(const ip::IcmpError& e);
  uint32_t udp_readiness(const Socket& s) const;
  // Frees a UDP handle; false when `id` names no UDP socket.
  bool close_udp(SocketId id);
  SocketId open_udp(std::error_code& ec, bool reuse_addr);
  // send_to() and send_from(): one datagram from socket `id` (to nullptr: its peer; from
  // nullptr: its own address), fragmented when larger than the MTU.
  size_t send_udp(SocketId id, std::span<const uint8_t> data, const udp::UdpEndpoint* to,
                  const udp::UdpEndpoint* from, std::error_code& ec);
};

}  // namespace utcp
