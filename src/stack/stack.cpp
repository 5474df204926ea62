#include "utcp/stack.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <random>
#include <unordered_map>

#include "ip/ipv4_input.hpp"
#include "ip/ipv4_output.hpp"
#include "stack/counters.hpp"
#include "stack/four_tuple.hpp"
#include "stack/index_fifo.hpp"
#include "stack/null_span.hpp"
#include "stack/port_allocator.hpp"
#include "stack/timer_heap.hpp"
#include "tcp/challenge_ack_limiter.hpp"
#include "tcp/connection.hpp"
#include "tcp/isn_generator.hpp"
#include "tcp/reset_generator.hpp"
#include "tcp/time_wait_reuse.hpp"
#include "wire/endian.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/packet_format.hpp"
#include "wire/tcp.hpp"

namespace utcp {

using stack::Counter;
using stack::FourTuple;

std::array<uint8_t, 16> StackConfig::random_secret() {
  std::array<uint8_t, 16> s{};
  std::random_device rd;
  for (size_t i = 0; i < s.size(); i += 4) {
    uint32_t v = rd();
    for (size_t j = 0; j < 4; ++j) s[i + j] = static_cast<uint8_t>(v >> (8 * j));
  }
  return s;
}

namespace {

// Socket handles carry a generation so a stale handle never reaches a reused slot.
constexpr uint32_t kIndexBits = 20;
constexpr uint32_t kIndexMask = (1u << kIndexBits) - 1;
constexpr size_t kBatch = 64;  // packets per device call
// Most packets one process() call reads before it runs timers and output.
constexpr size_t kMaxPacketsPerProcess = 16 * kBatch;
// Received bytes after which the stack sends its ACKs before reading more (see receive_all).
constexpr size_t kAckEveryBytes = 256 * 1024;
// Segments at least this large make their connection the target of direct placement.
constexpr size_t kPlaceMinPayload = 16 * 1024;

std::error_code error_for(tcp::ErrorReason r) {
  switch (r) {
    case tcp::ErrorReason::kRefused:
      return std::make_error_code(std::errc::connection_refused);
    case tcp::ErrorReason::kReset:
      return std::make_error_code(std::errc::connection_reset);
    case tcp::ErrorReason::kTimedOut:
      return std::make_error_code(std::errc::timed_out);
    case tcp::ErrorReason::kAborted:
      return std::make_error_code(std::errc::connection_aborted);
    case tcp::ErrorReason::kNone:
      break;
  }
  return {};
}

// Linux's errno for each soft error (net/ipv4/icmp.c icmp_err_convert, tcp_v4_err).
std::error_code soft_error_code(const tcp::SoftError& e) {
  using std::errc;
  if (e.kind == tcp::SoftError::Kind::kRetransmitThreshold) {
    return std::make_error_code(errc::timed_out);
  }
  switch (e.icmp) {
    case tcp::IcmpError::kNetUnreachable:
      return std::make_error_code(errc::network_unreachable);
    case tcp::IcmpError::kProtocolUnreachable:
      return std::make_error_code(errc::no_protocol_option);
    case tcp::IcmpError::kPortUnreachable:
      return std::make_error_code(errc::connection_refused);
    case tcp::IcmpError::kFragmentationNeeded:
      return std::make_error_code(errc::message_size);
    case tcp::IcmpError::kSourceRouteFailed:
      return std::make_error_code(errc::operation_not_supported);
    case tcp::IcmpError::kParameterProblem:
      return std::make_error_code(errc::protocol_error);
    case tcp::IcmpError::kHostUnreachable:
    case tcp::IcmpError::kAdminProhibited:
    case tcp::IcmpError::kTimeExceeded:
      break;
  }
  return std::make_error_code(errc::host_unreachable);
}

constexpr uint8_t kEcnMask = 0x03;  // RFC 3168 §5: the TOS byte's two low bits

}  // namespace

struct Stack::Impl {
  enum class Kind : uint8_t { kFree, kListener, kConnection };

  struct Socket {
    Kind kind = Kind::kFree;
    uint32_t gen = 0;
    // Connection.
    std::unique_ptr<tcp::Connection> conn;
    FourTuple tuple;
    uint32_t listener = UINT32_MAX;  // index of the listener while not yet accepted
    bool in_accept_queue = false;
    bool released = false;  // the application gave up its handle (close/abort/never accepted)
    bool dirty = false;
    bool closed = false;  // the engine reached CLOSED
    bool peer_finished = false;
    bool connected = false;
    bool in_table = false;  // reachable by its 4-tuple (until the engine reaches CLOSED)
    uint8_t tos = 0;        // Diffserv part of the TOS byte (RFC 9293 §3.9.1.9); ECN bits zero
    std::error_code error;
    // Listener.
    uint16_t port = 0;
    uint32_t syn_backlog = 0;
    uint32_t accept_backlog = 0;
    uint32_t half_open = 0;
    uint16_t user_mss = 0;  // TCP_MAXSEG for the connections it accepts (0: the stack's)
    stack::IndexFifo accept_queue;
  };

  Impl(dev::Device& d, StackConfig c)
      : device(d),
        config(std::move(c)),
        isn(config.secret),
        ports(config.secret, config.ephemeral_ports),
        limiter(config.challenge_acks_per_second),
        ip_out(1, config.ttl),
        ip_in(ip_config(config.address), ip_out),
        table(1024, stack::FourTupleHash(seed_from(config.secret))) {
    rx_storage.resize(kBatch * kMaxPacket);
    tx_storage.resize(kBatch * kMaxPacket);
    for (size_t i = 0; i < kBatch; ++i) {
      rx_slots[i].buf = std::span<uint8_t>(rx_storage.data() + i * kMaxPacket, kMaxPacket);
    }
    listeners.fill(UINT32_MAX);
  }

  static ip::Ipv4InputConfig ip_config(Ipv4Addr address) {
    ip::Ipv4InputConfig c;
    c.local_addresses = {address};
    return c;
  }

  static uint64_t seed_from(const std::array<uint8_t, 16>& s) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) v = v << 8 | s[i + 8];
    return v;
  }

  static constexpr size_t kMaxPacket = 65535;

  dev::Device& device;
  StackConfig config;
  tcp::IsnGenerator isn;
  stack::PortAllocator ports;
  tcp::ChallengeAckLimiter limiter;
  ip::Ipv4Output ip_out;
  ip::Ipv4Input ip_in;
  stack::Counters counters;
  stack::TimerHeap timers;
  std::vector<Socket> sockets;
  std::vector<uint32_t> free_slots;
  std::unordered_map<FourTuple, uint32_t, stack::FourTupleHash> table;
  std::array<uint32_t, 65536> listeners;  // port -> listener index
  std::vector<uint32_t> dirty;
  std::vector<uint8_t> rx_storage, tx_storage;
  // Direct placement (see receive_all): the connection whose next segment is read straight
  // into its receive buffer, the header length and payload size its segments had, and the
  // receive-buffer bytes the headers overwrite, kept to be put back.
  uint32_t place_index = UINT32_MAX;
  size_t place_header = 0;
  size_t place_payload = 0;
  size_t ip_header_len = 0;  // of the packet being input, 0 when its segment lies elsewhere
  std::array<uint8_t, tcp::ReassemblyQueue::kPlacementHeadroom> place_stash{};
  std::array<dev::PacketSlot, kBatch> rx_slots;
  std::array<std::span<const uint8_t>, kBatch> tx_packets;
  size_t tx_count = 0;
  Instant now{};
  size_t connection_count = 0;
  std::function<void(SocketId, uint32_t)> on_readiness;
  std::function<void(char, std::string_view)> trace;

  // ---- handles ----
  SocketId id_of(uint32_t index) const { return sockets[index].gen << kIndexBits | index; }
  Socket* lookup(SocketId id) {
    uint32_t index = id & kIndexMask;
    if (index >= sockets.size()) return nullptr;
    Socket& s = sockets[index];
    if (s.kind == Kind::kFree || s.gen != (id >> kIndexBits) || s.released) return nullptr;
    return &s;
  }
  const Socket* lookup(SocketId id) const { return const_cast<Impl*>(this)->lookup(id); }
  uint32_t index_of(const Socket& s) const { return static_cast<uint32_t>(&s - sockets.data()); }

  uint32_t allocate(Kind kind) {
    uint32_t index;
    if (!free_slots.empty()) {
      index = free_slots.back();
      free_slots.pop_back();
    } else {
      index = static_cast<uint32_t>(sockets.size());
      sockets.emplace_back();
    }
    Socket& s = sockets[index];
    uint32_t gen = (s.gen + 1) & ((1u << (32 - kIndexBits)) - 1);
    s = Socket{};
    s.gen = gen;
    s.kind = kind;
    return index;
  }

  void release_slot(uint32_t index) {
    Socket& s = sockets[index];
    if (s.kind == Kind::kConnection) {
      if (s.in_table) table.erase(s.tuple);
      timers.cancel(index);
      --connection_count;
    }
    uint32_t gen = s.gen;
    s = Socket{};
    s.gen = gen;
    free_slots.push_back(index);
  }

  void mark_dirty(uint32_t index) {
    Socket& s = sockets[index];
    if (!s.dirty) {
      s.dirty = true;
      dirty.push_back(index);
    }
  }

  uint32_t new_connection(const FourTuple& t) {
    uint32_t index = allocate(Kind::kConnection);
    Socket& s = sockets[index];
    s.tuple = t;
    tcp::Env env;
    env.challenge_acks = &limiter;
    s.conn = std::make_unique<tcp::Connection>(
        tcp::Endpoints{t.local_addr, t.local_port, t.remote_addr, t.remote_port}, config.tcp, env);
    table.emplace(t, index);
    s.in_table = true;
    ++connection_count;
    return index;
  }

  // ---- output ----
  std::span<uint8_t> tx_slot() {
    return std::span<uint8_t>(tx_storage.data() + tx_count * kMaxPacket, kMaxPacket);
  }

  void flush_tx() {
    size_t sent = 0;
    while (sent < tx_count) {
      size_t n = device.transmit(std::span(tx_packets.data() + sent, tx_count - sent), now);
      if (n == 0) {
        counters.inc(Counter::dev_tx_dropped, tx_count - sent);
        break;
      }
      sent += n;
    }
    tx_count = 0;
  }

  // Prepends the IPv4 header to a transport payload already written at buf[20..]; `tos` is
  // the whole TOS byte (Diffserv field and ECN codepoint).
  void queue_ip(std::span<uint8_t> buf, size_t payload_len, uint8_t protocol, Ipv4Addr dst,
                uint8_t tos = 0) {
    size_t total = ip_out.write_header(buf, payload_len, config.address, dst, protocol, tos);
    if (total == 0) return;
    queue_packet(buf.first(total));
  }

  // Queues a whole IPv4 packet that already sits in the current tx slot.
  void queue_packet(std::span<const uint8_t> packet) {
    if (trace) trace('>', wire::format_ipv4_packet(packet));
    tx_packets[tx_count++] = packet;
    if (tx_count == kBatch) flush_tx();
  }

  void send_tcp_repr(const wire::TcpRepr& seg, Ipv4Addr src, Ipv4Addr dst) {
    std::span<uint8_t> buf = tx_slot();
    size_t n = seg.emit(buf.subspan(wire::kIpv4HeaderMin), src, dst);
    counters.inc(Counter::tcp_out);
    queue_ip(buf, n, wire::ip_proto::kTcp, dst);
  }

  void drain_connection(uint32_t index) {
    Socket& s = sockets[index];
    tcp::Connection& c = *s.conn;
    for (;;) {
      std::span<uint8_t> buf = tx_slot();
      size_t n = c.poll_transmit(now, buf.subspan(wire::kIpv4HeaderMin));
      if (n == 0) break;
      counters.inc(Counter::tcp_out);
      // RFC 9293 §3.9.1.9 (SHLD-22): the application's Diffserv field, unchanged, with the
      // ECN codepoint the engine chose for this segment.
      queue_ip(buf, n, wire::ip_proto::kTcp, s.tuple.remote_addr,
               static_cast<uint8_t>(s.tos | c.ecn_codepoint()));
    }
    while (auto ev = c.poll_event()) {
      switch (ev->kind) {
        case tcp::EventKind::kConnected:
          s.connected = true;
          if (s.listener != UINT32_MAX) promote_to_accept_queue(index);
          break;
        case tcp::EventKind::kPeerFinished:
          s.peer_finished = true;
          break;
        case tcp::EventKind::kError:
          s.error = error_for(ev->reason);
          if (ev->reason == tcp::ErrorReason::kReset) counters.inc(Counter::tcp_resets_in);
          if (ev->reason == tcp::ErrorReason::kTimedOut) counters.inc(Counter::tcp_timeouts);
          break;
        case tcp::EventKind::kClosed:
          s.closed = true;
          counters.inc(Counter::tcp_closed);
          // RFC 9293 §3.10.7.4: a closed connection's TCB is gone; its 4-tuple is free at
          // once (a new SYN from the peer must reach the listener), even if the application
          // has not yet collected the error.
          if (s.in_table) {
            table.erase(s.tuple);
            s.in_table = false;
          }
          break;
        default:
          break;
      }
    }
    // One heap entry per connection: its protocol timers and the release of idle buffers.
    timers.schedule(index, std::min(c.next_deadline(), c.memory_release_deadline()));
  }

  void promote_to_accept_queue(uint32_t index) {
    Socket& s = sockets[index];
    Socket& l = sockets[s.listener];
    if (l.half_open > 0) --l.half_open;
    l.accept_queue.push_back(index);
    s.in_accept_queue = true;
    notify(s.listener);
  }

  // Frees connections nobody will ever look at again.
  void reap(uint32_t index) {
    Socket& s = sockets[index];
    if (s.kind != Kind::kConnection || !s.closed) return;
    if (s.listener != UINT32_MAX && !s.in_accept_queue) {
      // Died during the handshake: leave the listener's half-open count.
      Socket& l = sockets[s.listener];
      if (l.half_open > 0) --l.half_open;
      release_slot(index);
      return;
    }
    if (s.released) release_slot(index);
  }

  uint32_t readiness(const Socket& s) const {
    if (s.kind == Kind::kListener) return s.accept_queue.empty() ? 0 : ready::kAcceptable;
    uint32_t r = 0;
    const tcp::Connection& c = *s.conn;
    if (s.connected) r |= ready::kConnected;
    if (c.recv_available() > 0 || s.peer_finished || s.error) r |= ready::kReadable;
    if (tcp::can_send_data(c.state()) && s.connected && c.send_space() > 0) r |= ready::kWritable;
    if (s.error) r |= ready::kError | ready::kWritable;
    if (s.peer_finished || s.closed) r |= ready::kHangup;
    if (c.urgent_mark()) r |= ready::kUrgent;
    if (c.soft_error()) r |= ready::kSoftError;
    return r;
  }

  void notify(uint32_t index) {
    if (on_readiness && !sockets[index].released)
      on_readiness(id_of(index), readiness(sockets[index]));
  }

  void flush(Instant t) {
    now = t;
    // Drain in rounds: notifying the application may make it send more.
    while (!dirty.empty()) {
      std::vector<uint32_t> round;
      round.swap(dirty);
      for (uint32_t index : round) {
        sockets[index].dirty = false;
        if (sockets[index].kind != Kind::kConnection) continue;
        drain_connection(index);
      }
      flush_tx();
      for (uint32_t index : round) {
        if (sockets[index].kind != Kind::kConnection) continue;
        notify(index);
        reap(index);
      }
      round.clear();
      if (dirty.empty()) dirty.swap(round);  // keep the capacity
    }
    flush_tx();  // RSTs for unmatched segments and ICMP replies queued during input
  }

  // ---- input ----
  // checksum_verified: the device vouched for the TCP checksum (offload), so skip it.
  void on_packet(std::span<const uint8_t> bytes, bool checksum_verified = false) {
    if (trace) trace('<', wire::format_ipv4_packet(bytes, !checksum_verified));
    ip::InputResult r = ip_in.input(bytes, now, tx_slot().first(device.mtu()));
    switch (r.action) {
      case ip::InputAction::kTcp:
        // A segment inside this packet (not a reassembled datagram) may seed placement.
        ip_header_len = r.payload.data() >= bytes.data() &&
                                r.payload.data() + r.payload.size() == bytes.data() + bytes.size()
                            ? static_cast<size_t>(r.payload.data() - bytes.data())
                            : 0;
        on_tcp(r.src, r.dst, r.payload, checksum_verified, r.ecn);
        break;
      case ip::InputAction::kIcmpError:
        on_icmp_error(r.icmp_error);
        break;
      case ip::InputAction::kReply:
        queue_packet(r.reply);
        break;
      default:
        break;  // dropped, held for reassembly or consumed: ip counters say which
    }
  }

  // RFC 1122 §4.2.3.9 / RFC 5927: an ICMP error quoting one of our segments goes to its
  // connection, which decides (hard errors abort only a SYN-SENT connection).
  void on_icmp_error(const ip::IcmpError& e) {
    FourTuple t{e.local_addr, e.local_port, e.remote_addr, e.remote_port};
    auto it = table.find(t);
    if (it == table.end()) {
      counters.inc(Counter::icmp_unmatched);
      return;
    }
    counters.inc(Counter::icmp_to_conn);
    tcp::Connection& c = *sockets[it->second].conn;
    if (e.kind == ip::IcmpErrorKind::kPathMtu) {
      // RFC 1191 §5: a router that does not say the MTU gets the next lower plateau; we
      // take the conservative 576 of RFC 1122 §3.3.3 (MSS 536).
      c.set_path_mtu(e.next_hop_mtu ? e.next_hop_mtu : 576);
      c.on_icmp_error(tcp::IcmpError::kFragmentationNeeded, now);
    } else {
      c.on_icmp_error(map_icmp(e), now);
    }
    mark_dirty(it->second);
  }

  static tcp::IcmpError map_icmp(const ip::IcmpError& e) {
    if (e.type == wire::icmp_type::kTimeExceeded) return tcp::IcmpError::kTimeExceeded;
    if (e.type == wire::icmp_type::kParameterProblem) return tcp::IcmpError::kParameterProblem;
    switch (e.code) {
      case 0:
        return tcp::IcmpError::kNetUnreachable;
      case 1:
        return tcp::IcmpError::kHostUnreachable;
      case 2:
        return tcp::IcmpError::kProtocolUnreachable;
      case 3:
        return tcp::IcmpError::kPortUnreachable;
      case 4:
        return tcp::IcmpError::kFragmentationNeeded;
      case 5:
        return tcp::IcmpError::kSourceRouteFailed;
      case 9:
      case 10:
      case 13:
        return tcp::IcmpError::kAdminProhibited;
      default:
        return tcp::IcmpError::kHostUnreachable;
    }
  }

  void on_tcp(Ipv4Addr src, Ipv4Addr dst, std::span<const uint8_t> bytes, bool checksum_verified,
              uint8_t ecn = 0) {
    counters.inc(Counter::tcp_in);
    auto seg = wire::TcpPacket::parse(bytes, src, dst, !checksum_verified);
    if (!seg) {
      counters.inc(seg.error() == wire::ParseError::kBadChecksum  ? Counter::tcp_bad_checksum
                   : seg.error() == wire::ParseError::kBadOptions ? Counter::tcp_bad_options
                                                                  : Counter::tcp_bad_header);
      return;
    }
    wire::TcpRepr repr = seg->repr();
    FourTuple t{dst, repr.dst_port, src, repr.src_port};
    if (auto it = table.find(t); it != table.end()) {
      if (repr.has(wire::tcp_flag::kSyn) && reopen_time_wait(it->second, t, repr)) return;
      sockets[it->second].conn->on_segment(repr, now, ecn);
      mark_dirty(it->second);
      if (repr.payload.size() >= kPlaceMinPayload && ip_header_len != 0 &&
          device.supports_placement()) {
        // Bulk data: the next segment of this connection is likely the same shape.
        place_index = it->second;
        place_header = ip_header_len + (bytes.size() - repr.payload.size());
        place_payload = repr.payload.size();
      }
      return;
    }
    uint32_t l = listeners[repr.dst_port];
    bool pure_syn =
        repr.has(wire::tcp_flag::kSyn) && !repr.has(wire::tcp_flag::kAck | wire::tcp_flag::kRst);
    if (l != UINT32_MAX && pure_syn) {
      on_syn_to_listener(l, t, repr);
      return;
    }
    if (l != UINT32_MAX &&
        !repr.has(wire::tcp_flag::kSyn | wire::tcp_flag::kAck | wire::tcp_flag::kRst)) {
      // RFC 9293 §3.10.7.2 fourth: other text or control at a listener is dropped.
      counters.inc(Counter::tcp_no_listener);
      return;
    }
    // RFC 9293 §3.10.7.1 (and §3.10.7.2 for an ACK or data at a listener): answer with RST.
    counters.inc(Counter::tcp_no_listener);
    if (auto rst = tcp::reset_for_unmatched(repr)) {
      counters.inc(Counter::tcp_rst_sent);
      send_tcp_repr(*rst, dst, src);
    }
  }

  // RFC 9293 §3.6.1 (MAY-2, SHLD-4), RFC 6191: a SYN that cannot be an old duplicate ends the
  // connection's TIME-WAIT and goes to the listener as a new incarnation, as in Linux.
  bool reopen_time_wait(uint32_t index, const FourTuple& t, const wire::TcpRepr& syn) {
    tcp::Connection& old = *sockets[index].conn;
    const uint32_t l = listeners[t.local_port];
    if (l == UINT32_MAX || old.state() != tcp::State::kTimeWait ||
        !tcp::syn_may_reopen_time_wait(old.tcb(), syn, now)) {
      return false;
    }
    const wire::SeqNum iss = tcp::time_wait_successor_iss(old.tcb());
    table.erase(t);  // free the 4-tuple before the new connection claims it
    sockets[index].in_table = false;
    old.end_time_wait();
    mark_dirty(index);  // its kClosed event lets reap() free it
    counters.inc(Counter::tcp_time_wait_reopened);
    // Should the listener's queues be full, the SYN is dropped like any other; its
    // retransmission then finds the 4-tuple free.
    on_syn_to_listener(l, t, syn, iss);
    return true;
  }

  void on_syn_to_listener(uint32_t l, const FourTuple& t, const wire::TcpRepr& syn,
                          std::optional<wire::SeqNum> iss_override = std::nullopt) {
    Socket& ls = sockets[l];
    // Overflow: drop the SYN silently, as Linux does; the peer retransmits it (RFC 4987 §3).
    if (ls.half_open >= ls.syn_backlog) {
      counters.inc(Counter::tcp_syn_queue_full);
      return;
    }
    if (ls.accept_queue.size() >= ls.accept_backlog) {
      counters.inc(Counter::tcp_accept_queue_full);
      return;
    }
    if (connection_count >= config.max_connections) {
      counters.inc(Counter::tcp_conn_limit);
      return;
    }
    uint32_t index = new_connection(t);
    Socket& s = sockets[index];
    s.listener = l;
    s.tos = sockets[l].tos;  // accepted connections inherit the listener's (as in Linux)
    ++sockets[l].half_open;
    counters.inc(Counter::tcp_accepted);
    // TCP_MAXSEG of the listener, before the SYN-ACK announces it (`ls` may dangle by now).
    if (const uint16_t m = sockets[l].user_mss) s.conn->set_user_mss(m);
    s.conn->listen(iss_override
                       ? *iss_override
                       : isn.isn(t.local_addr, t.local_port, t.remote_addr, t.remote_port, now));
    s.conn->on_segment(syn, now);
    mark_dirty(index);
  }

  // send() and send_urgent(): the checks a write must pass, then the engine takes the bytes.
  size_t send(SocketId id, std::span<const uint8_t> data, std::error_code& ec, bool urgent) {
    ec.clear();
    Socket* s = lookup(id);
    if (!s || s->kind != Kind::kConnection) {
      ec = std::make_error_code(std::errc::bad_file_descriptor);
      return 0;
    }
    if (s->error) {
      ec = s->error;
      return 0;
    }
    if (!tcp::can_send_data(s->conn->state())) {
      ec = std::make_error_code(std::errc::broken_pipe);
      return 0;
    }
    size_t n = urgent ? s->conn->send_urgent(data, now) : s->conn->send(data, now);
    if (n == 0 && !data.empty()) ec = std::make_error_code(std::errc::operation_would_block);
    if (n > 0) mark_dirty(index_of(*s));
    return n;
  }

  // Where the next packet should be read: the receive buffer of the connection that last got
  // bulk data, its expected headers in front (empty: no placement now).
  std::span<uint8_t> placement_target() {
    if (place_index == UINT32_MAX) return {};
    Socket& s = sockets[place_index];
    if (s.kind != Kind::kConnection || !s.conn || !s.in_table ||
        place_header > place_stash.size()) {
      place_index = UINT32_MAX;
      return {};
    }
    return s.conn->receive_placement(place_header, place_payload);
  }

  // The placed packet is the predicted connection's next in-order segment with the predicted
  // headers, so its payload already sits at RCV.NXT in the receive buffer.
  bool placed_as_predicted(std::span<const uint8_t> p) const {
    if (p.size() <= place_header || p[0] >> 4 != 4) return false;
    const size_t ihl = size_t{p[0] & 0x0fu} * 4;
    if (ihl < 20 || ihl + 20 > place_header || p[9] != 6) return false;
    if ((wire::load_be16(&p[2]) != p.size()) || (wire::load_be16(&p[6]) & 0x3fff) != 0)
      return false;
    const uint8_t* tcp = p.data() + ihl;
    if (ihl + size_t{tcp[12]} / 16 * 4 != place_header) return false;
    if (tcp[13] & (wire::tcp_flag::kSyn | wire::tcp_flag::kRst)) return false;
    const Socket& s = sockets[place_index];
    return wire::load_be32(&p[12]) == s.tuple.remote_addr.value &&
           wire::load_be32(&p[16]) == s.tuple.local_addr.value &&
           wire::load_be16(tcp) == s.tuple.remote_port &&
           wire::load_be16(tcp + 2) == s.tuple.local_port &&
           wire::SeqNum(wire::load_be32(tcp + 4)) == s.conn->tcb().rcv_nxt;
  }

  // `headroom`: how many bytes at the start of slot.place were saved in place_stash; they are
  // put back as soon as the packet no longer needs them, and always before anything may
  // reallocate or read the receive ring.
  void input_slot(dev::PacketSlot& slot, size_t headroom) {
    if (slot.placed == 0) {
      if (headroom) std::memcpy(slot.place.data(), place_stash.data(), headroom);
      on_packet(slot.data(), slot.checksum_verified);
      return;
    }
    const std::span<uint8_t> placed = slot.place.first(slot.placed);
    if (slot.placed == slot.len && placed_as_predicted(placed)) {
      // The payload fits the room placement offered, so storing it cannot grow (move) the
      // ring, and nothing reads the bytes under the headers before they are put back.
      counters.inc(Counter::rx_placed);
      on_packet(placed, slot.checksum_verified);
      std::memcpy(slot.place.data(), place_stash.data(), headroom);
      return;
    }
    // Not what was predicted: gather the packet into the slot, put the ring's bytes back, and
    // take the usual path (one copy, as without placement). Storing it may grow the ring.
    counters.inc(Counter::rx_place_missed);
    const size_t rest = slot.len - slot.placed;
    if (slot.len <= slot.buf.size()) {  // always: buf holds any IPv4 packet
      std::memmove(slot.buf.data() + slot.placed, slot.buf.data(), rest);
      std::memcpy(slot.buf.data(), slot.place.data(), slot.placed);
    }
    std::memcpy(slot.place.data(), place_stash.data(), headroom);
    if (slot.len <= slot.buf.size()) on_packet(slot.data(), slot.checksum_verified);
  }

  void receive_all() {
    // A bounded amount of input per call keeps timers and output flowing under load.
    size_t want = kBatch, packets = 0, unflushed = 0;
    while (packets < kMaxPacketsPerProcess) {
      // Direct placement, for bulk data on a device that scatters reads (TUN): one packet at a
      // time is read straight into the receive buffer of the connection that had the last
      // bulk segment, its headers into the bytes just before RCV.NXT (saved first, put back
      // after). If it is that connection's next segment, the payload is stored without the
      // slot-to-buffer copy; anything else is gathered back into the slot.
      const std::span<uint8_t> place = placement_target();
      // Input may change the prediction (place_header) before the headroom is put back.
      const size_t headroom = place.empty() ? 0 : place_header;
      const size_t ask = place.empty() ? want : 1;
      if (!place.empty()) {
        std::memcpy(place_stash.data(), place.data(), headroom);
        rx_slots[0].place = place;
      }
      const size_t n = device.receive(std::span(rx_slots).first(ask), now);
      size_t bytes = 0;
      for (size_t i = 0; i < n; ++i) {
        bytes += rx_slots[i].len;
        input_slot(rx_slots[i], i == 0 ? headroom : 0);
      }
      if (!place.empty()) {
        if (n == 0) std::memcpy(place.data(), place_stash.data(), headroom);
        rx_slots[0].place = {};
        rx_slots[0].placed = 0;
      }
      packets += n;
      if (n < ask) break;
      unflushed += bytes;
      // The device has more. After a large batch, send its ACKs (and let the application read)
      // before reading on: a sender that has filled the window waits for that ACK, and would
      // otherwise sit idle until the whole backlog is drained. RFC 5681 §4.2 asks for an ACK
      // per two full-sized segments; one 64 KB GSO frame already holds ~45, so this bounds the
      // data per ACK in bytes, not in packets.
      if (unflushed >= kAckEveryBytes) {
        flush(now);
        unflushed = 0;
      }
      // Size the next read to hold about kAckEveryBytes (a few slots for 64 KB GSO frames).
      const size_t average = std::max<size_t>(bytes / n, 1);
      want = std::clamp<size_t>((kAckEveryBytes + average - 1) / average, 1, kBatch);
    }
  }

  void run_timers() {
    stack::TimerHeap::Id index;
    while (timers.pop_expired(now, index)) {
      tcp::Connection& c = *sockets[index].conn;
      const bool release = c.memory_release_deadline() <= now;
      if (release) c.release_idle_memory();
      if (!release || c.next_deadline() <= now) c.on_timeout(now);
      mark_dirty(index);
    }
  }
};

Stack::Stack(dev::Device& device, StackConfig config) {
  if (config.secret == std::array<uint8_t, 16>{}) config.secret = StackConfig::random_secret();
  impl_ = std::make_unique<Impl>(device, std::move(config));
}
Stack::~Stack() = default;

void Stack::process(Instant now) {
  impl_->now = now;
  impl_->receive_all();
  impl_->ip_in.expire(now);
  impl_->run_timers();
  impl_->flush(now);
}

void Stack::flush(Instant now) {
  impl_->flush(now);
}

Instant Stack::next_deadline() const {
  if (!impl_->dirty.empty()) return impl_->now;
  return std::min(
      {impl_->timers.earliest(), impl_->device.next_deadline(), impl_->ip_in.next_deadline()});
}

Instant Stack::now() const {
  return impl_->now;
}

SocketId Stack::listen(uint16_t port, std::error_code& ec, uint32_t backlog) {
  ec.clear();
  if (port == 0) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return kNoSocket;
  }
  if (impl_->listeners[port] != UINT32_MAX) {
    ec = std::make_error_code(std::errc::address_in_use);
    return kNoSocket;
  }
  uint32_t index = impl_->allocate(Impl::Kind::kListener);
  auto& s = impl_->sockets[index];
  s.port = port;
  s.accept_backlog = backlog ? backlog : impl_->config.accept_backlog;
  s.syn_backlog = impl_->config.syn_backlog;
  impl_->listeners[port] = index;
  return impl_->id_of(index);
}

SocketId Stack::accept(SocketId listener, std::error_code& ec, Endpoint* peer) {
  ec.clear();
  auto* l = impl_->lookup(listener);
  if (!l || l->kind != Impl::Kind::kListener) {
    ec = std::make_error_code(std::errc::bad_file_descriptor);
    return kNoSocket;
  }
  if (l->accept_queue.empty()) {
    ec = std::make_error_code(std::errc::operation_would_block);
    return kNoSocket;
  }
  uint32_t index = l->accept_queue.front();
  l->accept_queue.pop_front();
  auto& s = impl_->sockets[index];
  s.listener = UINT32_MAX;
  s.in_accept_queue = false;
  if (peer) *peer = {s.tuple.remote_addr, s.tuple.remote_port};
  return impl_->id_of(index);
}

SocketId Stack::connect(Ipv4Addr addr, uint16_t port, std::error_code& ec, uint16_t local_port) {
  ConnectOptions options;
  options.local_port = local_port;
  return connect(addr, port, options, ec);
}

SocketId Stack::connect(Ipv4Addr addr, uint16_t port, const ConnectOptions& options,
                        std::error_code& ec) {
  ec.clear();
  const uint16_t local_port = options.local_port;
  // RFC 9293 §3.9.1.1 (MUST-43): a local address, if given, must be one of ours.
  if (options.local_addr != Ipv4Addr() && options.local_addr != impl_->config.address) {
    ec = std::make_error_code(std::errc::address_not_available);
    return kNoSocket;
  }
  if (port == 0) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return kNoSocket;
  }
  // RFC 9293 §3.9.1.1 (MUST-46): no connection to an unspecified, broadcast, multicast or
  // reserved address, nor to ourselves (there is no loopback path through the device).
  const uint32_t a = addr.value;
  if (a == 0 || a == 0xffffffffu || (a >> 28) == 0xe || (a >> 28) == 0xf ||
      addr == impl_->config.address) {
    ec = std::make_error_code(std::errc::network_unreachable);
    return kNoSocket;
  }
  auto& im = *impl_;
  if (im.connection_count >= im.config.max_connections) {
    ec = std::make_error_code(std::errc::too_many_files_open);
    return kNoSocket;
  }
  FourTuple t{im.config.address, local_port, addr, port};
  auto in_use = [&](uint16_t p) {
    FourTuple probe = t;
    probe.local_port = p;
    return im.table.count(probe) > 0 || im.listeners[p] != UINT32_MAX;
  };
  if (local_port == 0) {
    auto p = im.ports.allocate(t.local_addr, addr, port, in_use);
    if (!p) {
      ec = std::make_error_code(std::errc::address_not_available);
      return kNoSocket;
    }
    t.local_port = *p;
  } else if (im.table.count(t)) {
    ec = std::make_error_code(std::errc::address_in_use);
    return kNoSocket;
  }
  uint32_t index = im.new_connection(t);
  im.sockets[index].tos = static_cast<uint8_t>(options.tos & ~kEcnMask);
  im.counters.inc(Counter::tcp_connects);
  im.sockets[index].conn->open_active(
      im.now, im.isn.isn(t.local_addr, t.local_port, t.remote_addr, t.remote_port, im.now));
  im.mark_dirty(index);
  return im.id_of(index);
}

size_t Stack::send(SocketId id, std::span<const uint8_t> data, std::error_code& ec) {
  if (reject_null_span(data, ec)) return 0;
  return impl_->send(id, data, ec, false);
}

size_t Stack::recv(SocketId id, std::span<uint8_t> out, std::error_code& ec) {
  ec.clear();
  if (reject_null_span(out, ec)) return 0;
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) {
    ec = std::make_error_code(std::errc::bad_file_descriptor);
    return 0;
  }
  size_t n = s->conn->recv(out, impl_->now);
  if (n > 0) {
    impl_->mark_dirty(impl_->index_of(*s));  // the window opened: a window update may be due
    return n;
  }
  if (out.empty()) return 0;
  if (s->error) {
    ec = s->error;
    return 0;
  }
  if (s->peer_finished) return 0;  // end of stream
  if (s->closed) return 0;
  ec = std::make_error_code(std::errc::operation_would_block);
  return 0;
}

void Stack::shutdown_write(SocketId id, std::error_code& ec) {
  ec.clear();
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) {
    ec = std::make_error_code(std::errc::bad_file_descriptor);
    return;
  }
  s->conn->shutdown_write(impl_->now);
  impl_->mark_dirty(impl_->index_of(*s));
}

void Stack::close(SocketId id) {
  auto* s = impl_->lookup(id);
  if (!s) return;
  uint32_t index = impl_->index_of(*s);
  if (s->kind == Impl::Kind::kListener) {
    impl_->listeners[s->port] = UINT32_MAX;
    // Connections never accepted are reset, as when a Linux listener closes.
    for (auto& other : impl_->sockets) {
      if (other.kind == Impl::Kind::kConnection && other.listener == index) {
        other.conn->abort(impl_->now);
        other.released = true;
        other.listener = UINT32_MAX;
        other.in_accept_queue = false;
        impl_->mark_dirty(impl_->index_of(other));
      }
    }
    impl_->release_slot(index);
    return;
  }
  s->released = true;
  // The engine resets instead of closing when unread data remains (RFC 1122 §4.2.2.13).
  s->conn->close(impl_->now);
  impl_->mark_dirty(index);
}

void Stack::abort(SocketId id) {
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) return;
  s->released = true;
  s->conn->abort(impl_->now);
  impl_->mark_dirty(impl_->index_of(*s));
}

uint32_t Stack::readiness(SocketId id) const {
  auto* s = impl_->lookup(id);
  return s ? impl_->readiness(*s) : ready::kError;
}

std::error_code Stack::error(SocketId id) const {
  auto* s = impl_->lookup(id);
  if (!s) return std::make_error_code(std::errc::bad_file_descriptor);
  return s->error;
}

tcp::State Stack::state(SocketId id) const {
  auto* s = impl_->lookup(id);
  if (!s) return tcp::State::kClosed;
  return s->kind == Impl::Kind::kListener ? tcp::State::kListen : s->conn->state();
}

std::optional<tcp::TcpInfo> Stack::tcp_info(SocketId id) const {
  auto* s = impl_->lookup(id);
  if (!s || s->kind == Impl::Kind::kListener || !s->conn) return std::nullopt;
  return s->conn->tcp_info();
}

Endpoint Stack::local_endpoint(SocketId id) const {
  auto* s = impl_->lookup(id);
  if (!s) return {};
  if (s->kind == Impl::Kind::kListener) return {impl_->config.address, s->port};
  return {s->tuple.local_addr, s->tuple.local_port};
}

Endpoint Stack::remote_endpoint(SocketId id) const {
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) return {};
  return {s->tuple.remote_addr, s->tuple.remote_port};
}

void Stack::set_nodelay(SocketId id, bool on) {
  auto* s = impl_->lookup(id);
  if (s && s->kind == Impl::Kind::kConnection) s->conn->set_nodelay(on);
}

void Stack::set_keepalive(SocketId id, const tcp::KeepaliveConfig& keepalive) {
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) return;
  s->conn->set_keepalive(keepalive, impl_->now);
  impl_->mark_dirty(impl_->index_of(*s));
}

void Stack::set_user_timeout(SocketId id, Duration timeout) {
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) return;
  s->conn->set_user_timeout(timeout);
  impl_->mark_dirty(impl_->index_of(*s));
}

void Stack::set_buffer_sizes(SocketId id, size_t send_bytes, size_t recv_bytes) {
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) return;
  if (send_bytes) s->conn->set_send_buffer(send_bytes);
  if (recv_bytes) s->conn->set_recv_buffer(recv_bytes);
  impl_->mark_dirty(impl_->index_of(*s));
}

void Stack::set_mss(SocketId id, uint16_t mss) {
  auto* s = impl_->lookup(id);
  if (!s) return;
  const uint16_t cap = impl_->config.tcp.mss;
  const uint16_t m = mss == 0 ? cap : std::min(mss, cap);
  if (s->kind == Impl::Kind::kListener) {
    s->user_mss = m;
  } else if (s->kind == Impl::Kind::kConnection) {
    s->conn->set_user_mss(m);
  }
}

size_t Stack::send_unacked(SocketId id) const {
  auto* s = impl_->lookup(id);
  return s && s->kind == Impl::Kind::kConnection ? s->conn->send_queued() : 0;
}

size_t Stack::send_unsent(SocketId id) const {
  auto* s = impl_->lookup(id);
  return s && s->kind == Impl::Kind::kConnection ? s->conn->send_unsent() : 0;
}

size_t Stack::recv_available(SocketId id) const {
  auto* s = impl_->lookup(id);
  return s && s->kind == Impl::Kind::kConnection ? s->conn->recv_available() : 0;
}

std::optional<size_t> Stack::urgent_mark(SocketId id) const {
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) return std::nullopt;
  if (auto m = s->conn->urgent_mark()) return static_cast<size_t>(*m);
  return std::nullopt;
}

size_t Stack::send_urgent(SocketId id, std::span<const uint8_t> data, std::error_code& ec) {
  if (reject_null_span(data, ec)) return 0;
  return impl_->send(id, data, ec, true);
}

void Stack::set_tos(SocketId id, uint8_t tos) {
  auto* s = impl_->lookup(id);
  if (s) s->tos = static_cast<uint8_t>(tos & ~kEcnMask);
}

uint8_t Stack::tos(SocketId id) const {
  auto* s = impl_->lookup(id);
  return s ? s->tos : 0;
}

std::error_code Stack::take_soft_error(SocketId id) {
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) return {};
  auto e = s->conn->take_soft_error();
  if (!e) return {};
  impl_->mark_dirty(impl_->index_of(*s));  // ready::kSoftError went away: told at the next flush
  return soft_error_code(*e);
}

void Stack::set_readiness_callback(std::function<void(SocketId, uint32_t)> callback) {
  impl_->on_readiness = std::move(callback);
}

void Stack::set_trace(std::function<void(char, std::string_view)> trace) {
  impl_->trace = std::move(trace);
}

std::vector<std::pair<std::string_view, uint64_t>> Stack::counters() const {
  std::vector<std::pair<std::string_view, uint64_t>> out;
  impl_->ip_in.counters().append_to(out);
  impl_->counters.append_to(out);
  return out;
}

size_t Stack::connection_count() const {
  return impl_->connection_count;
}

const StackConfig& Stack::config() const {
  return impl_->config;
}

}  // namespace utcp
