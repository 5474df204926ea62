// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// utcp's event-driven, non-blocking API: a Stack owns one packet device and every TCP
// connection on it, and is driven by one thread (see utcp/event_loop.hpp, or call process()
// yourself). Sockets are small integer handles; errors are std::error_codes with errno
// meanings (std::errc::connection_refused, connection_reset, timed_out,
// operation_would_block, ...).
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "utcp/address.hpp"
#include "utcp/device.hpp"
#include "utcp/port_range.hpp"
#include "utcp/tcp_config.hpp"
#include "utcp/tcp_info.hpp"
#include "utcp/tcp_state.hpp"
#include "utcp/time.hpp"

namespace utcp {

struct StackConfig {
  Ipv4Addr address{10, 77, 0, 2};  // the stack's own IPv4 address
  uint8_t ttl = 64;                // IPv4 time to live (RFC 1122 §3.2.1.7, MUST-49)
  // Dual stack (issue 12): the stack's own IPv6 address, beside the IPv4 one; with ipv6 off
  // the stack drops IPv6 packets as before (ip.drop.bad-version) and refuses IPv6 connects.
  Ipv6Addr address6{0xfd77, 0, 0, 0, 0, 0, 0, 2};
  bool ipv6 = true;
  uint8_t hop_limit = 64;         // IPv6 hop limit of what the stack sends (RFC 8200 §3)
  tcp::Config tcp;                // defaults for every new connection
  uint32_t syn_backlog = 256;     // half-open connections per listener (RFC 4987 §3.1)
  uint32_t accept_backlog = 128;  // established connections waiting for accept()
  bool syn_cookies = true;        // past a full SYN queue, answer with SYN cookies (RFC 4987 §3.6)
  PortRange ephemeral_ports;
  uint32_t challenge_acks_per_second = 1000;  // RFC 5961 §7, stack-wide (jittered ±50 %)
  // RFC 5961 §7 per connection (0 = none): 2 per second, Linux's tcp_invalid_ratelimit, so no
  // connection can observe another's challenge ACKs through the shared budget (CVE-2016-5696).
  uint32_t challenge_acks_per_connection = 2;
  uint32_t max_connections = 1u << 20;
  // Bytes all connections' send and receive rings may hold together (Linux's tcp_mem; 0 = no
  // limit). Past 3/4 of it the stack is under pressure: autotuning stops, receive windows
  // open no further than the storage held, out-of-order data grows no ring; at the limit no
  // ring grows past its first 4 KiB (tcp::MemoryBudget). 1 GiB: 100,000 connections with
  // about 10 KiB of data in flight each, or 250 bulk transfers at the 4 MiB autotuning cap.
  size_t buffer_memory_limit = size_t{1} << 30;
  // Connections the application closed that are still ending (FIN-WAIT-1/2, CLOSING,
  // LAST-ACK): at most this many, the oldest reset beyond it (Linux: tcp_max_orphans) ...
  uint32_t max_orphans = 16384;
  // ... and none kept longer than this (zero: no limit). Linux bounds them by
  // tcp_orphan_retries (8 FIN retransmissions, about 100 s from a 200 ms RTO); a time bound
  // also ends an orphan whose peer answers zero-window probes forever.
  Duration orphan_timeout{100'000'000};
  // Forwarding (issue 13; docs/embedding.md): a SYN to any address in these prefixes (either
  // family; not the stack's own) goes to no listener but becomes a ConnectionRequest the
  // application decides on (next_request(), accept_request(), ...). An accepted connection's
  // local endpoint is the original destination. UDP (unless forward_udp) and ICMP (unless
  // forward_echo) to them stay not-for-us.
  std::vector<IpPrefix> forward;
  // Answer ICMP/ICMPv6 echo requests to forwarded addresses (so ping through a tunnel works).
  bool forward_echo = false;
  // UDP to forwarded addresses (off: not for us): each new 4-tuple becomes a flow, a UDP
  // socket connected to the peer whose local endpoint is the original destination (its
  // replies leave from there); next_udp_flow() hands them out. At most max_udp_flows (a
  // datagram that would make one more is dropped, fwd.udp.drop.flow-limit); a flow unused
  // (no datagram in or out) for udp_flow_idle_timeout is closed by the stack, which first
  // reports it to the readiness callback as ready::kHangup (fwd.udp.flow-expired).
  bool forward_udp = false;
  // Endpoint-independent mapping (RFC 4787 §4.1 REQ-1, "full cone", as tun2socks-style
  // software needs it; with forward_udp): a flow is keyed by the client's address and port
  // alone, so every datagram from one client endpoint is one flow whatever its destination.
  // recv_from()'s DatagramInfo::dst tells each datagram's original destination, and
  // send_from() answers from any forwarded address; send_to(flow, data, nullptr) sends from
  // the flow's first destination (UdpFlow::local). Such flows take no ports: a socket of the
  // application bound to a forwarded datagram's port does not see it.
  bool udp_endpoint_independent = false;
  uint32_t max_udp_flows = 4096;
  Duration udp_flow_idle_timeout{60'000'000};
  // Requests held undecided at once; a SYN past it is dropped (fwd.drop.pending-full).
  uint32_t max_pending_requests = 1024;
  // An undecided request is answered with a RST after this long (fwd.reset.timeout).
  Duration request_timeout{10'000'000};
  // Keys ISNs, ephemeral ports and the connection-table hash. Fill it from a random
  // source (random_secret()); a fixed value makes a run reproducible. All zero (the
  // default) means "pick one": the Stack then draws it from std::random_device, so ISNs are
  // never predictable by accident (RFC 9293 §3.4.1, MUST-9).
  std::array<uint8_t, 16> secret{};
  static std::array<uint8_t, 16> random_secret();
};

using SocketId = uint32_t;
inline constexpr SocketId kNoSocket = UINT32_MAX;

// Readiness bits, as poll() would report them.
namespace ready {
inline constexpr uint32_t kReadable = 1;     // recv() returns data, or 0 at end of stream
inline constexpr uint32_t kWritable = 2;     // send() accepts bytes
inline constexpr uint32_t kError = 4;        // the connection failed: error() says why
inline constexpr uint32_t kHangup = 8;       // the peer finished sending (or the connection closed)
inline constexpr uint32_t kAcceptable = 16;  // a listener has a connection for accept()
inline constexpr uint32_t kConnected = 32;   // the connection reached ESTABLISHED once
inline constexpr uint32_t kUrgent = 64;      // urgent data is pending: see urgent_mark()
inline constexpr uint32_t kSoftError = 128;  // a soft error is pending: see take_soft_error()
}  // namespace ready

// The optional parts of an active OPEN (RFC 9293 §3.9.1.1, §3.9.1.9).
struct ConnectOptions {
  // MUST-43: the local address; unspecified (0.0.0.0 or ::) or the stack's own address of
  // the destination's family, anything else fails with address_not_available (EADDRNOTAVAIL,
  // as Linux's bind()).
  IpAddr local_addr;
  uint16_t local_port = 0;  // 0: an ephemeral port (RFC 6056)
  uint8_t tos = 0;          // the Diffserv field (IPv4 TOS byte, IPv6 traffic class): see set_tos()
};

// The optional parts of a passive OPEN. A listener takes both families on its port (dual
// stack) unless told otherwise; per family a port has at most one listener, so an IPv4-only
// and an IPv6-only listener can share a port (as an AF_INET and an IPV6_V6ONLY socket do).
struct ListenOptions {
  uint32_t backlog = 0;  // accept queue length; 0: StackConfig::accept_backlog
  bool v6only = false;   // IPv6 only (IPV6_V6ONLY): IPv4 SYNs to the port are answered by RST
  bool v4only = false;   // IPv4 only (an AF_INET socket)
};

// What recv_from() says about a UDP datagram besides its bytes.
struct DatagramInfo {
  Endpoint src;               // who sent it (recvfrom's address)
  Endpoint dst;               // where it was sent (IP_PKTINFO): one of the stack's addresses,
                              // or a forwarded flow's original destination
  uint8_t traffic_class = 0;  // the IPv4 TOS byte: DSCP << 2 | ECN
  size_t datagram_len = 0;    // its payload; more than recv_from() returned: truncated
};

// Forwarding: a SYN to a forwarded destination, held unanswered until the application
// decides (Stack::accept_request, reset_request, reject_request) or StackConfig::
// request_timeout passes. Retransmissions of the SYN meanwhile are absorbed.
using RequestId = uint64_t;
struct ConnectionRequest {
  RequestId id = 0;
  Endpoint local;   // the original destination: the accepted connection's local endpoint
  Endpoint remote;  // the peer that sent the SYN
  // The SYN's options (RFC 9293 §3.2, RFC 7323, RFC 2018), e.g. to mirror them upstream.
  std::optional<uint16_t> mss;
  std::optional<uint8_t> window_scale;
  bool sack_permitted = false;
  bool timestamps = false;
};

// How reject_request() answers: ICMP Destination Unreachable (RFC 1122 §3.2.2.1; codes 1, 3
// and 13 of RFC 792 / RFC 1812 §5.2.7.1) or ICMPv6 (RFC 4443 §3.1: codes 3, 4 and 1).
enum class RejectReason : uint8_t { kHostUnreachable, kPortUnreachable, kAdminProhibited };

class Stack {
 public:
  // The stack derives its path MTU, MSS, TSO segment size and checksum work from the
  // device's capabilities(); config.tcp.mss and tso_max_bytes can only lower them.
  Stack(dev::Device& device, StackConfig config);
  // A stack without a device, for an embedder that owns its I/O loop: packets go in with
  // input() and come out with poll_transmit(); `capabilities` describe the link they travel
  // (its MTU at least). Time is the embedder's too: next_deadline(), then process(now).
  Stack(const dev::DeviceCapabilities& capabilities, StackConfig config);
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // Drives everything: reads what the device has, runs due timers, sends what is ready.
  // Call it when the device's fd is readable, at next_deadline(), and after API calls.
  void process(Instant now);
  // Sends only what API calls made since process() queued, without reading the device or
  // running timers: the cheap call when nothing can have arrived in between.
  void flush(Instant now);
  // The earliest time process() must run again (kNever if nothing is pending).
  Instant next_deadline() const;
  Instant now() const;

  // Push-style entry, beside process(), for an embedder that moves the packets itself:
  // input() takes one received IPv4 or IPv6 packet (checksum_verified: the link vouched for the TCP
  // checksum); what it causes is queued and sent at the next flush. poll_transmit() flushes
  // and copies the next packet to send into `buf` (at least capabilities().mtu bytes, or
  // tso_max_bytes with TSO), returning its length, 0 when there is none; call it until then.
  // On a stack with a device, input() works the same and its output goes to the device.
  void input(std::span<const uint8_t> packet, Instant now, bool checksum_verified = false);
  size_t poll_transmit(std::span<uint8_t> buf);
  // What the device (or the push-style link) said it supports.
  const dev::DeviceCapabilities& capabilities() const;

  // Listeners: both families, or one (ListenOptions). address_in_use when a listener already
  // holds the port for a family asked for; invalid_argument for v6only and v4only both set,
  // or v6only on a stack without IPv6.
  SocketId listen(uint16_t port, std::error_code& ec, uint32_t backlog = 0);
  SocketId listen(uint16_t port, const ListenOptions& options, std::error_code& ec);
  // A connection that completed its handshake, or kNoSocket with operation_would_block.
  SocketId accept(SocketId listener, std::error_code& ec, Endpoint* peer = nullptr);

  // Connections. connect() starts an active open to an IPv4 or IPv6 address (an IPv4-mapped
  // IPv6 address means its IPv4 address); ready::kConnected or kError follows.
  SocketId connect(IpAddr addr, uint16_t port, std::error_code& ec, uint16_t local_port = 0);
  SocketId connect(IpAddr addr, uint16_t port, const ConnectOptions& options, std::error_code& ec);
  // Bytes taken into the send buffer (0 with operation_would_block when full).
  size_t send(SocketId s, std::span<const uint8_t> data, std::error_code& ec);
  // Bytes read; 0 without error means end of stream (the peer's FIN).
  size_t recv(SocketId s, std::span<uint8_t> out, std::error_code& ec);
  void shutdown_write(SocketId s, std::error_code& ec);
  // Releases the handle; the connection closes gracefully in the background (RFC 9293 §3.10.4).
  // Unread received data turns the close into a reset, as RFC 9293 §3.10.4 and Linux do.
  void close(SocketId s);
  // Sends a RST and frees the connection at once (SO_LINGER 0).
  void abort(SocketId s);

  uint32_t readiness(SocketId s) const;
  std::error_code error(SocketId s) const;  // why a connection failed, if it did
  tcp::State state(SocketId s) const;
  // TCP_INFO-like statistics (cwnd, RTT, retransmissions, SACK/recovery counters); nullopt for
  // a listener or an unknown socket.
  std::optional<tcp::TcpInfo> tcp_info(SocketId s) const;
  // The addresses of a connection (either family). A listener's local endpoint is the
  // stack's address of its family: IPv6 for an IPv6-only one, IPv4 otherwise.
  Endpoint local_endpoint(SocketId s) const;
  Endpoint remote_endpoint(SocketId s) const;
  void set_nodelay(SocketId s, bool on);
  // Per-connection options: keepalive (RFC 1122 §4.2.3.6), user timeout (RFC 9293 §3.10.8,
  // zero = none), buffer sizes (0 leaves one as it is; the receive window follows at once,
  // its scale was fixed by the SYN; a send size set here pins the send buffer, which otherwise
  // grows with cwnd up to tcp::Config::send_buffer_max).
  void set_keepalive(SocketId s, const tcp::KeepaliveConfig& keepalive);
  void set_user_timeout(SocketId s, Duration timeout);
  void set_buffer_sizes(SocketId s, size_t send_bytes, size_t recv_bytes);
  // TCP_MAXSEG (RFC 9293 §3.7.1): caps the MSS we announce and the segment size we send, never
  // above the stack's configured MSS; 0 restores that. On a listener it applies to connections
  // it accepts from now on; on a connection only until it is synchronized (as Linux).
  void set_mss(SocketId s, uint16_t mss);
  // Bytes written and not yet acknowledged (SIOCOUTQ), and of those the bytes not yet sent
  // (SIOCOUTQNSD).
  size_t send_unacked(SocketId s) const;
  size_t send_unsent(SocketId s) const;
  // In-order bytes recv() would return now (FIONREAD).
  size_t recv_available(SocketId s) const;
  // RFC 9293 §3.8.5 (MUST-32/33): bytes from the next recv() to the end of the urgent data
  // the peer marked, or nullopt when none is pending. ready::kUrgent tells it changed.
  std::optional<size_t> urgent_mark(SocketId s) const;
  // send() whose last byte is marked urgent (RFC 9293 §3.8.5, MSG_OOB).
  size_t send_urgent(SocketId s, std::span<const uint8_t> data, std::error_code& ec);

  // RFC 9293 §3.9.1.9 (MUST-48, SHLD-21/22): the Diffserv field, as the IPv4 TOS byte (DSCP in
  // the upper six bits, RFC 2474); over IPv6 the same byte is the traffic class (RFC 8200 §7).
  // Every segment the connection sends from then on carries it unchanged: data, retransmissions,
  // ACKs, FIN, RST. The two low (ECN) bits are ignored, as Linux does for IP_TOS on TCP sockets:
  // ECN (RFC 3168) owns them. On a listener it is what its SYN-ACKs carry and what accepted
  // connections inherit. Default 0.
  void set_tos(SocketId s, uint8_t tos);
  uint8_t tos(SocketId s) const;  // the TOS byte set, ECN bits zero

  // Linux's send controls (man 7 tcp, send(2)); each applies to one connection.
  // send_more(): send() with MSG_MORE: more data follows, so a short last segment is held
  // until the next send() without it (or 200 ms with nothing in flight). set_cork(): TCP_CORK:
  // while on, only full segments go; turning it off sends what was held (Nagle permitting),
  // and a held tail goes after 200 ms with nothing in flight anyway. set_notsent_lowat():
  // TCP_NOTSENT_LOWAT: send() takes data only while fewer than `bytes` written bytes are
  // unsent, and ready::kWritable is set only while fewer than bytes / 2 are (UINT32_MAX: off).
  size_t send_more(SocketId s, std::span<const uint8_t> data, std::error_code& ec);
  void set_cork(SocketId s, bool on);
  void set_notsent_lowat(SocketId s, uint32_t bytes);

  // Soft errors (RFC 9293 §3.9.2.2 SHLD-25, §3.8.3 SHLD-9/10; RFC 1122 §4.2.3.9): problems
  // that do not close the connection. ready::kSoftError is set while one is pending; this
  // returns the latest and clears it. network_unreachable / host_unreachable (ICMP Destination
  // Unreachable codes 0/1; time exceeded and administratively prohibited are host_unreachable),
  // operation_not_supported (code 5, source route failed), no_protocol_option / connection_refused
  // (protocol / port unreachable once synchronized), protocol_error (parameter problem), or
  // timed_out: retransmissions of one segment reached R1 (tcp::Config::r1_retransmits, default 3)
  // and TCP keeps trying until R2. Errno values follow Linux's ICMP mapping. A pending soft error
  // is also dropped when the peer acknowledges new data, as in Linux. Empty when none is pending.
  std::error_code take_soft_error(SocketId s);

  // Called from inside process() (and API calls) whenever a socket's readiness may have
  // changed: the place to wake a waiting reader or writer.
  void set_readiness_callback(std::function<void(SocketId, uint32_t)> callback);

  // Optional per-segment trace for tools' -v: direction ('<' in, '>' out) and a one-line decode.
  void set_trace(std::function<void(char dir, std::string_view line)> trace);

  // ---- UDP (RFC 768, RFC 1122 §4.1; docs/udp.md in the source tree) ----
  // Datagram sockets share the SocketId space and readiness() / the readiness callback
  // (kReadable: a datagram or a pending error; kWritable: always; kError: a pending error)
  // and close(); the TCP calls refuse them (bad_file_descriptor), as these refuse TCP sockets.
  // udp_bind(): a socket bound to `local` (an unspecified address: the wildcard of its family;
  // port 0: an ephemeral port). reuse_addr is SO_REUSEADDR: sockets share a port only if all
  // set it. Errors: address_in_use, address_not_available (not one of the stack's addresses).
  SocketId udp_bind(const Endpoint& local, std::error_code& ec, bool reuse_addr = false);
  // A socket connected to `remote`: bound to an ephemeral port, sending to `remote` by
  // default and hearing from it only; ICMP errors about its datagrams (port unreachable:
  // connection_refused) are the next send_to()/recv_from()'s error.
  SocketId udp_connect(const Endpoint& remote, std::error_code& ec);
  // Connects an existing socket (an unspecified address disconnects it).
  void udp_connect(SocketId s, const Endpoint& remote, std::error_code& ec);
  // Sends one datagram to `to` (nullptr: the connected peer), fragmented if larger than the
  // MTU. Returns data.size(), or 0 with an error: a pending ICMP error first,
  // destination_address_required, message_size (over 65,507 bytes), ...
  size_t send_to(SocketId s, std::span<const uint8_t> data, const Endpoint* to,
                 std::error_code& ec);
  // Receives the oldest datagram into out; the rest of a longer one is discarded (info says
  // how long it was). operation_would_block when none is queued.
  size_t recv_from(SocketId s, std::span<uint8_t> out, std::error_code& ec,
                   Endpoint* from = nullptr, DatagramInfo* info = nullptr);
  // Receive queue limits of one socket (defaults: 212,992 bytes, 1,024 datagrams); a datagram
  // that does not fit is dropped and counted (udp.drop.queue-full).
  void set_udp_recv_queue(SocketId s, size_t bytes, uint32_t datagrams);
  Endpoint udp_local_endpoint(SocketId s) const;
  Endpoint udp_remote_endpoint(SocketId s) const;  // port 0 unless connected

  // ---- Forwarding (StackConfig::forward; docs/embedding.md) ----
  // The next connection request not yet returned, oldest first; nullopt when none.
  std::optional<ConnectionRequest> next_request();
  // Called from inside process() with each new request, before anything is answered; the
  // callback may decide at once (accept_request() etc.) or later.
  void set_request_callback(std::function<void(const ConnectionRequest&)> callback);
  // Accepts: the SYN-ACK goes out and the returned socket is a connection like one from
  // connect() (ready::kConnected once the peer's ACK arrives, kError if it never comes).
  // invalid_argument for an unknown or decided request; too_many_files_open at
  // max_connections (the request stays pending).
  SocketId accept_request(RequestId id, std::error_code& ec);
  // Answers the SYN with a RST (RFC 9293 §3.10.7.1), as a closed port would.
  void reset_request(RequestId id, std::error_code& ec);
  // Answers with ICMP or ICMPv6 Destination Unreachable (rate-limited with every ICMP error).
  void reject_request(RequestId id, RejectReason why, std::error_code& ec);
  size_t pending_requests() const;
  // UDP (forward_udp): the next new flow, oldest first, or nullopt. Its socket is an
  // ordinary UDP socket: recv_from(), send_to(s, data, nullptr), readiness, close().
  struct UdpFlow {
    SocketId socket = kNoSocket;
    Endpoint local;   // the original destination
    Endpoint remote;  // the peer
  };
  std::optional<UdpFlow> next_udp_flow();
  // Sends one datagram on a flow to its peer (the client) from `from`, which must be a
  // forwarded address (StackConfig::forward) of the peer's family with a nonzero port: how an
  // endpoint-independent flow answers a datagram whose DatagramInfo::dst was `from` (RFC 4787
  // §4.1), or any flow speaks for another original destination. Errors as send_to(), and
  // address_not_available for a `from` outside the forwarded prefixes, invalid_argument for a
  // socket that is no flow.
  size_t send_from(SocketId flow, std::span<const uint8_t> data, const Endpoint& from,
                   std::error_code& ec);

  // Counters of everything received, sent, dropped and rejected, by name.
  std::vector<std::pair<std::string_view, uint64_t>> counters() const;
  size_t connection_count() const;

  const StackConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace utcp
