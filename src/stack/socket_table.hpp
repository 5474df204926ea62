// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The Stack's socket table: one record per listener or connection in a slot vector, handed out
// as SocketIds that carry a generation (a stale handle never reaches a reused slot); the
// 4-tuple map that finds a connection by its addresses and ports; the port -> listener map;
// the list of sockets with work to flush ("dirty"); and each socket's readiness bits. It owns
// this state and nothing else: no packet, no device, no timer.
#include <array>
#include <cstdint>
#include <memory>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "stack/four_tuple.hpp"
#include "stack/index_fifo.hpp"
#include "tcp/connection.hpp"
#include "utcp/stack.hpp"

namespace utcp::stack {

// kUdp: a UDP socket (udp::UdpSocketTable holds it; `udp` is its handle there). lookup()
// does not return one, so the TCP calls refuse UDP handles.
enum class SocketKind : uint8_t { kFree, kListener, kConnection, kUdp };

inline constexpr uint32_t kNoIndex = UINT32_MAX;

struct Socket {
  // Fields ordered by alignment (8, 4, 2, 1 bytes): one record per socket, little padding.
  uint32_t gen = 0;
  SocketKind kind = SocketKind::kFree;
  // Connection.
  std::unique_ptr<tcp::Connection> conn;
  FourTuple tuple;
  uint32_t listener = kNoIndex;  // index of the listener while not yet accepted
  uint32_t flow_label = 0;       // IPv6: this connection's flow label (RFC 6437 §3), 0 over IPv4
  std::error_code error;
  // Listener.
  uint32_t syn_backlog = 0;
  uint32_t accept_backlog = 0;
  uint32_t half_open = 0;
  // UDP: the handle in udp::UdpSocketTable.
  uint32_t udp = UINT32_MAX;
  uint16_t port = 0;      // listener
  uint16_t user_mss = 0;  // listener: TCP_MAXSEG for the connections it accepts (0: the stack's)
  // Connection.
  bool in_accept_queue = false;
  bool released = false;  // the application gave up its handle (close/abort/never accepted)
  bool dirty = false;
  bool closed = false;  // the engine reached CLOSED
  bool peer_finished = false;
  bool connected = false;
  bool in_table = false;  // reachable by its 4-tuple (until the engine reaches CLOSED)
  bool orphan = false;    // closed by the application, still ending (stack/orphan_queue.hpp)
  uint8_t tos = 0;        // Diffserv part of the TOS byte (RFC 9293 §3.9.1.9); ECN bits zero
  // Listener.
  bool listen_v4 = true;  // takes IPv4 SYNs to its port
  bool listen_v6 = true;  // takes IPv6 SYNs to its port
  IndexFifo accept_queue;
};

class SocketTable {
 public:
  // Handles: the low kIndexBits are the slot, the rest its generation.
  static constexpr uint32_t kIndexBits = 20;
  static constexpr uint32_t kIndexMask = (1u << kIndexBits) - 1;

  explicit SocketTable(uint64_t hash_seed) : by_tuple_(1024, FourTupleHash(hash_seed)) {}

  Socket& operator[](uint32_t index) { return sockets_[index]; }
  const Socket& operator[](uint32_t index) const { return sockets_[index]; }
  std::vector<Socket>& all() { return sockets_; }

  SocketId id_of(uint32_t index) const { return sockets_[index].gen << kIndexBits | index; }
  uint32_t index_of(const Socket& s) const { return static_cast<uint32_t>(&s - sockets_.data()); }
  // The live socket a handle names, or nullptr (unknown, stale or released handle).
  Socket* lookup(SocketId id) {
    const uint32_t index = id & kIndexMask;
    if (index >= sockets_.size()) return nullptr;
    Socket& s = sockets_[index];
    if (s.kind == SocketKind::kFree || s.kind == SocketKind::kUdp || s.gen != (id >> kIndexBits) ||
        s.released) {
      return nullptr;
    }
    return &s;
  }
  // The UDP socket a handle names, or nullptr.
  Socket* lookup_udp(SocketId id) {
    const uint32_t index = id & kIndexMask;
    if (index >= sockets_.size()) return nullptr;
    Socket& s = sockets_[index];
    if (s.kind != SocketKind::kUdp || s.gen != (id >> kIndexBits)) return nullptr;
    return &s;
  }
  const Socket* lookup(SocketId id) const { return const_cast<SocketTable*>(this)->lookup(id); }

  // A fresh record of `kind` in a free slot (its generation advanced).
  uint32_t allocate(SocketKind kind);
  // A connection record for `t`, reachable by its 4-tuple.
  uint32_t add_connection(const FourTuple& t, tcp::SharedConfig config, const tcp::Env& env);
  // Frees the slot (and a connection's 4-tuple); the generation survives for the next owner.
  void release(uint32_t index);

  // ---- the 4-tuple map ----
  uint32_t find(const FourTuple& t) const {
    const auto it = by_tuple_.find(t);
    return it == by_tuple_.end() ? kNoIndex : it->second;
  }
  bool tuple_in_use(const FourTuple& t) const { return by_tuple_.count(t) > 0; }
  // Makes a connection unreachable by its 4-tuple (it reached CLOSED, or a new incarnation
  // takes the tuple), so a new SYN finds the listener.
  void unlink(uint32_t index) {
    Socket& s = sockets_[index];
    if (s.in_table) by_tuple_.erase(s.tuple);
    s.in_table = false;
  }

  // ---- listeners: one per port and family (a dual-stack listener holds both) ----
  uint32_t listener(uint16_t port, IpAddr::Family family) const {
    if (!listeners_) return kNoIndex;
    return family == IpAddr::Family::kV6 ? listeners_->v6[port] : listeners_->v4[port];
  }
  // Any listener on the port, of either family (a local port in use).
  bool port_listened(uint16_t port) const {
    return listeners_ && (listeners_->v4[port] != kNoIndex || listeners_->v6[port] != kNoIndex);
  }
  // Registers (or with kNoIndex clears) the listener for the families it takes.
  void set_listener(uint16_t port, bool v4, bool v6, uint32_t index) {
    if (!listeners_) {
      if (index == kNoIndex) return;
      listeners_ = std::make_unique<PortListeners>();
      listeners_->v4.fill(kNoIndex);
      listeners_->v6.fill(kNoIndex);
    }
    if (v4) listeners_->v4[port] = index;
    if (v6) listeners_->v6[port] = index;
  }

  // ---- work to flush ----
  void mark_dirty(uint32_t index) {
    Socket& s = sockets_[index];
    if (!s.dirty) {
      s.dirty = true;
      dirty_.push_back(index);
    }
  }
  bool has_dirty() const { return !dirty_.empty(); }
  // Swaps the dirty list with `round` (which must be empty): the caller drains one round.
  void take_dirty(std::vector<uint32_t>& round) { round.swap(dirty_); }

  // The ready:: bits of a socket, as poll() would report them.
  static uint32_t readiness(const Socket& s);

  size_t connection_count() const { return connection_count_; }

 private:
  std::vector<Socket> sockets_;
  std::vector<uint32_t> free_slots_;
  std::unordered_map<FourTuple, uint32_t, FourTupleHash> by_tuple_;
  // port -> listener index, per family: O(1) for every SYN. 512 KiB, so made at the first
  // listen(): a Stack that only connects or forwards (utcp-proxy) never has it.
  struct PortListeners {
    std::array<uint32_t, 65536> v4;
    std::array<uint32_t, 65536> v6;
  };
  std::unique_ptr<PortListeners> listeners_;
  std::vector<uint32_t> dirty_;
  size_t connection_count_ = 0;
};

}  // namespace utcp::stack
