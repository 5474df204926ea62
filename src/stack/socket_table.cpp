// SPDX-License-Identifier: BSD-2-Clause
#include "stack/socket_table.hpp"

namespace utcp::stack {

uint32_t SocketTable::allocate(SocketKind kind) {
  uint32_t index;
  if (!free_slots_.empty()) {
    index = free_slots_.back();
    free_slots_.pop_back();
  } else {
    index = static_cast<uint32_t>(sockets_.size());
    sockets_.emplace_back();
  }
  Socket& s = sockets_[index];
  const uint32_t gen = (s.gen + 1) & ((1u << (32 - kIndexBits)) - 1);
  s = Socket{};
  s.gen = gen;
  s.kind = kind;
  return index;
}

uint32_t SocketTable::add_connection(const FourTuple& t, tcp::SharedConfig config,
                                     const tcp::Env& env) {
  const uint32_t index = allocate(SocketKind::kConnection);
  Socket& s = sockets_[index];
  s.tuple = t;
  s.conn = std::make_unique<tcp::Connection>(
      tcp::Endpoints{t.local_addr, t.local_port, t.remote_addr, t.remote_port}, config, env);
  by_tuple_.emplace(t, index);
  s.in_table = true;
  ++connection_count_;
  return index;
}

void SocketTable::release(uint32_t index) {
  Socket& s = sockets_[index];
  if (s.kind == SocketKind::kConnection) {
    unlink(index);
    --connection_count_;
  }
  const uint32_t gen = s.gen;
  s = Socket{};
  s.gen = gen;
  free_slots_.push_back(index);
}

uint32_t SocketTable::readiness(const Socket& s) {
  if (s.kind == SocketKind::kListener) return s.accept_queue.empty() ? 0 : ready::kAcceptable;
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

}  // namespace utcp::stack
