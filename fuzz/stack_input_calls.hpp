// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// fuzz_stack_input's stack configuration and the application calls that need none of the
// harness's model: socket options and the readers that must never fail on any socket id.
#include <cstdint>

#include "stack_input_packets.hpp"
#include "utcp/memory_link.hpp"
#include "utcp/stack.hpp"

namespace stack_input {

inline dev::MemoryLinkConfig link_config() {
  dev::MemoryLinkConfig c;
  c.queue_packets = 4096;
  c.mtu = kLinkMtu;
  return c;
}

inline StackConfig stack_config() {
  StackConfig c;
  c.address = kStackAddr;
  c.secret = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3};
  c.tcp.send_buffer = 8192;
  // Large enough for bulk segments to be placed, and for a ring that grows under a placement.
  c.tcp.recv_buffer = 65536;
  c.tcp.recv_buffer_max = kRecvBufferMax;
  c.syn_backlog = kSynBacklog;
  c.accept_backlog = 4;
  return c;
}

// One socket option, chosen by `which`, with fuzz-chosen values. True when it changed the
// socket's buffer sizes (the window edge may then move left).
inline bool set_socket_option(Stack& stack, SocketId s, uint8_t which, Input& in) {
  switch (which % 6) {
    case 0:
      stack.set_nodelay(s, in.u8() & 1);
      return false;
    case 1: {
      tcp::KeepaliveConfig k;
      k.enabled = true;
      k.idle = Duration(1'000'000 * (1 + in.u8()));
      k.interval = Duration(1'000'000 * (1 + in.u8()));
      k.count = in.u8() % 10;
      stack.set_keepalive(s, k);
      return false;
    }
    case 2:
      stack.set_user_timeout(s, Duration(1'000'000 * in.u8()));
      return false;
    case 3:
      stack.set_buffer_sizes(s, in.u16(), in.u16());
      return true;
    case 4:
      stack.set_mss(s, in.u16());
      return false;
    default:
      stack.set_tos(s, in.u8());
      return false;
  }
}

// Every reader, on any socket id (closed, never opened, a listener).
inline void read_everything(Stack& stack, SocketId s) {
  (void)stack.readiness(s);
  (void)stack.error(s);
  (void)stack.tcp_info(s);
  (void)stack.recv_available(s);
  (void)stack.urgent_mark(s);
  (void)stack.take_soft_error(s);
  (void)stack.send_unacked(s);
  (void)stack.send_unsent(s);
}

}  // namespace stack_input
