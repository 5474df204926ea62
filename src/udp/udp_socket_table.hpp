// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// UDP sockets, sans-IO (RFC 768, RFC 1122 §4.1): binding, connecting, demultiplexing received
// datagrams to their socket's bounded receive queue, ICMP errors for connected sockets, and
// building the datagrams a socket sends. No device, no clock: the Stack hands datagrams in
// (input()) and sends what send() builds.
//
// Rules, kept simple (docs/conformance.md lists them with their tests):
//  - A socket has one family, fixed by its first bind() or connect(): an IPv6 socket is
//    IPv6-only (as IPV6_V6ONLY=1), and 0.0.0.0 / :: bind the wildcard of that family.
//  - bind() to a port already bound in the same family fails with address_in_use when the
//    two local addresses overlap (equal, or either a wildcard), unless both sockets set
//    reuse_addr (SO_REUSEADDR). A local address must be one of the stack's own or a
//    wildcard (else address_not_available); port 0 picks an ephemeral port at random from
//    the range and probes on from there (RFC 6056 §3.3.1, as Linux does for UDP).
//  - A datagram goes to the most specific match: a connected socket whose peer is its source,
//    then a socket bound to its destination address, then a wildcard; among equals, the most
//    recently bound. A connected socket takes datagrams from its peer only (RFC 1122 §4.1.3.4
//    leaves the filter to the application; Linux and BSD filter this way).
//  - No socket for a datagram: input() says so (kNoSocket), and the IP layer answers with a
//    rate-limited port unreachable (RFC 1122 §4.1.3.1).
//  - ICMP errors about a datagram a connected socket sent are kept as its pending error and
//    reported (and cleared) by its next recv() or send() (RFC 1122 §4.1.3.3; Linux's
//    ECONNREFUSED). An unconnected socket cannot tell which of its sends failed, so it is not
//    told (as Linux without IP_RECVERR); the error is counted.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/prng.hpp"
#include "udp/datagram_queue.hpp"
#include "udp/udp_endpoint.hpp"
#include "utcp/port_range.hpp"

namespace utcp::udp {

struct UdpConfig {
  DatagramQueueLimits recv_queue;  // default for every new socket
  PortRange ephemeral_ports;
  uint64_t seed = 0;  // port randomization
  // The stack-wide buffer budget the receive queues' storage is charged to (nullptr: none).
  tcp::MemoryBudget* memory = nullptr;
};

// Handle: the low 20 bits are the slot, the rest its generation (a stale handle never
// reaches a reused slot).
using UdpId = uint32_t;
inline constexpr UdpId kNoUdp = UINT32_MAX;

struct UdpCounters {
  uint64_t in_datagrams = 0;   // handed to input()
  uint64_t in_delivered = 0;   // queued on a socket
  uint64_t in_bad_length = 0;  // truncated or a bad Length field
  uint64_t in_bad_checksum = 0;
  uint64_t in_no_port = 0;            // no socket: port unreachable is the IP layer's to send
  uint64_t in_queue_full = 0;         // the socket's receive queue was full (Linux: RcvbufErrors)
  uint64_t in_no_memory = 0;          // the stack-wide buffer budget refused the queue's growth
  uint64_t out_datagrams = 0;         // built by send()
  uint64_t icmp_errors_reported = 0;  // kept as a connected socket's pending error
  uint64_t icmp_errors_ignored = 0;   // about no connected socket of ours
};

enum class UdpInput : uint8_t {
  kDelivered,  // queued on a socket
  kNoSocket,   // well-formed, but no socket wants it
  kDropped,    // malformed or the queue was full; counted
};

// What recv() returns.
struct Received {
  size_t copied = 0;        // bytes written to the caller's buffer
  size_t datagram_len = 0;  // the datagram's payload size (> copied: truncated, MSG_TRUNC)
  DatagramInfo info;
};

// What send() built: the UDP datagram and the addresses the IP header must carry.
struct Sent {
  size_t len = 0;  // UDP header + payload
  UdpEndpoint src;
  UdpEndpoint dst;
};

class UdpSocketTable {
 public:
  explicit UdpSocketTable(const UdpConfig& config);

  // The stack's own addresses: what bind() accepts besides the wildcards, and where a
  // wildcard-bound socket sends from (the first of the destination's family).
  void set_local_addresses(std::vector<IpAddr> addresses) { local_ = std::move(addresses); }
  bool is_local(const IpAddr& a) const;
  // UdpConfig::memory, for sockets opened from now on.
  void set_memory_budget(tcp::MemoryBudget* memory) { config_.memory = memory; }

  UdpId open();
  void close(UdpId id);  // queued datagrams are dropped; the port is free at once
  bool valid(UdpId id) const { return find(id) != nullptr; }
  size_t size() const { return open_count_; }

  std::error_code bind(UdpId id, const UdpEndpoint& local);
  // A flow of a forwarded destination (issue 13): bound to `local` although it is none of
  // the stack's addresses, sharing its port with the other flows (as SO_REUSEADDR), and
  // connected to `remote`, so it takes that peer's datagrams and sends from `local`.
  std::error_code open_flow(UdpId id, const UdpEndpoint& local, const UdpEndpoint& remote);
  // An endpoint-independent flow (RFC 4787 §4.1 REQ-1): connected to `remote` (the client),
  // sending from `local` (its first datagram's destination) by default, and in no port map:
  // input() never finds it; its owner hands it each datagram of its client with deliver().
  std::error_code open_detached_flow(UdpId id, const UdpEndpoint& local, const UdpEndpoint& remote);
  // A datagram for socket `id` whatever its ports (a detached flow's): checked and queued as
  // input() would. kNoSocket when `id` is not open.
  UdpInput deliver(UdpId id, const IpAddr& src, const IpAddr& dst, uint8_t traffic_class,
                   std::span<const uint8_t> ip_payload, bool verify_checksum = true);
  // An ICMP error about what socket `id` sent (the owner matched it, RFC 1122 §4.1.3.3): kept
  // as its pending error.
  void set_error(UdpId id, std::errc error);
  // Sets the default peer and the receive filter; binds an ephemeral port on the wildcard of
  // the peer's family first if needed, and fixes the local address (the bound one, or the
  // stack's first of that family). An unspecified address (0.0.0.0 or ::) disconnects.
  std::error_code connect(UdpId id, const UdpEndpoint& remote);
  void set_reuse_addr(UdpId id, bool on);
  // A value the owner keeps with the socket (the Stack: its socket slot).
  void set_owner(UdpId id, uint32_t owner);
  uint32_t owner(UdpId id) const;
  void set_recv_queue_limits(UdpId id, DatagramQueueLimits limits);

  std::optional<UdpEndpoint> local_endpoint(UdpId id) const;   // nullopt while unbound
  std::optional<UdpEndpoint> remote_endpoint(UdpId id) const;  // nullopt unless connected

  // A received datagram: ip_payload is the IP packet's payload (after any extension
  // headers), src/dst its IP addresses, traffic_class the TOS byte / Traffic Class.
  // verify_checksum false: the device already checked it. kDelivered names the socket in
  // *delivered_to (when given).
  UdpInput input(const IpAddr& src, const IpAddr& dst, uint8_t traffic_class,
                 std::span<const uint8_t> ip_payload, bool verify_checksum = true,
                 UdpId* delivered_to = nullptr);
  // The socket a datagram from `src` to `dst` would go to, or kNoUdp.
  UdpId lookup(const UdpEndpoint& dst, const UdpEndpoint& src) const;

  // An ICMP error about a datagram we sent from `local` to `remote` (the quoted addresses and
  // ports). True when a connected socket took it as its pending error.
  bool on_icmp_error(const UdpEndpoint& local, const UdpEndpoint& remote, std::errc error);

  // The oldest datagram, copied into out (the rest of a longer one is discarded, as
  // recvfrom() does); peek leaves it queued. A pending ICMP error is returned first (and
  // cleared); an empty queue is operation_would_block.
  std::optional<Received> recv(UdpId id, std::span<uint8_t> out, std::error_code& ec,
                               bool peek = false);
  // Payload bytes of the next datagram (Linux's FIONREAD on UDP), 0 when none.
  size_t next_datagram_len(UdpId id) const;
  size_t queued_datagrams(UdpId id) const;

  // Builds a datagram to `dst` (nullptr: the connected peer) into out (at least 8 + payload
  // bytes): binds an ephemeral port first if needed. Errors: a pending ICMP error (cleared),
  // destination_address_required (no dst, not connected), address_family_not_supported (dst
  // of the other family), address_not_available (no local address of dst's family),
  // message_size (over 65,507 bytes of payload over IPv4, 65,527 over IPv6), no_buffer_space (out
  // too short).
  // `from` (a forwarded flow's reply from another original destination): the source address
  // and port instead of the socket's; its family must be the destination's.
  std::optional<Sent> send(UdpId id, const UdpEndpoint* dst, std::span<const uint8_t> payload,
                           std::span<uint8_t> out, std::error_code& ec, bool checksum = true,
                           const UdpEndpoint* from = nullptr);

  // Readiness, as poll() would say: readable with a datagram or a pending error queued,
  // error with a pending error; writable always (datagrams are not buffered for sending).
  bool readable(UdpId id) const;
  bool has_error(UdpId id) const;
  std::error_code take_error(UdpId id);  // SO_ERROR: the pending error, cleared

  const UdpCounters& counters() const { return counters_; }
  // The counters by name ("udp.in", "udp.drop.queue-full", ...), for Stack::counters().
  void append_counters(std::vector<std::pair<std::string_view, uint64_t>>& out) const;

 private:
  static constexpr uint32_t kIndexBits = 20;
  static constexpr uint32_t kIndexMask = (1u << kIndexBits) - 1;

  struct Socket {
    bool open = false;
    uint32_t gen = 0;
    bool bound = false;
    bool connected = false;
    bool reuse_addr = false;
    bool detached = false;  // bound and connected, but in no port map (open_detached_flow)
    uint32_t owner = UINT32_MAX;
    uint64_t bind_order = 0;  // later binds win ties
    UdpEndpoint local;        // bound address (maybe a wildcard) and port
    IpAddr conn_local;        // connected: the concrete source address
    UdpEndpoint remote;       // connected: the peer
    std::errc error{};        // pending ICMP error (0: none)
    DatagramQueue queue;
  };

  Socket* find(UdpId id);
  const Socket* find(UdpId id) const;
  UdpId id_of(uint32_t index) const { return sockets_[index].gen << kIndexBits | index; }
  bool conflicts(const Socket& s, const UdpEndpoint& local, uint32_t self) const;
  std::optional<uint16_t> ephemeral_port(const Socket& s, const IpAddr& addr);
  void attach(uint32_t index, const UdpEndpoint& local);
  void detach(uint32_t index);
  std::optional<IpAddr> source_for(const IpAddr& dst) const;
  UdpInput push(Socket& s, const DatagramInfo& info, std::span<const uint8_t> payload);

  UdpConfig config_;
  Prng rng_;
  std::vector<IpAddr> local_;
  std::vector<Socket> sockets_;
  std::vector<uint32_t> free_;
  size_t open_count_ = 0;
  uint64_t bind_counter_ = 0;
  // Bound port -> the slots bound to it (of both families). Changes at bind/close only.
  std::unordered_map<uint16_t, std::vector<uint32_t>> by_port_;
  UdpCounters counters_;
};

}  // namespace utcp::udp
