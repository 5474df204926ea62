// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What the packetdrill port is told through packetdrill's --so_flags string (space- or
// comma-separated words, each `key=value` or a bare `key`, an optional leading `--`):
//   local_ip=ADDR           the stack's address until bind() names another: IPv4
//                           (192.168.0.1) or IPv6 (fd3d:fa7b:d17d::, packetdrill's defaults)
//   real_time               gettimeofday/usleep use the real clock instead of virtual time
//   driven_clock            the virtual clock moves only inside usleep() and netdev_receive():
//                           gettimeofday() does not move it and a blocked call never moves it
//                           itself (utcp-drill drives the clock from one thread and sets this)
//   receive_wait_usecs=N    how long netdev_receive waits for an outbound packet (10 s; in the
//                           default virtual clock: until nothing is left to happen, 24 h at most)
//   mtu=N mss=N             device MTU (1500) and the MSS the stack announces (1460)
//   rto_min_usecs=N  rto_initial_usecs=N  delayed_ack_usecs=N  msl_usecs=N
//   window_scaling=0|1  timestamps=0|1  recv_buffer=N  send_buffer=N
//   recv_buffer_max=N       how far receive autotuning may grow; it sets the window scale
//                           (Linux's default tcp_rmem max of 6 MB gives 7, Google's
//                           scripts assume 15 MB, which gives 8)
//   syn_backlog=N  syn_cookies=0|1  synack_retries=N   half-open limit per listener, SYN
//                           cookies past it (RFC 4987), SYN-ACK retransmissions
//   seed=N                  keys ISNs and ports (a fixed default keeps runs reproducible)
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "utcp/stack.hpp"

namespace utcp::packetdrill {

struct PortOptions {
  StackConfig stack;  // address, TCP defaults, secret
  bool real_time = false;
  bool driven_clock = false;
  int64_t receive_wait_usecs = -1;  // -1: the default above (see receive_wait())
  size_t mtu = 1500;
  PortOptions();
  // The default virtual clock: it also moves when read (see port.hpp).
  bool auto_clock() const { return !real_time && !driven_clock; }
  int64_t receive_wait() const {
    if (receive_wait_usecs >= 0) return receive_wait_usecs;
    return auto_clock() ? 86'400'000'000 : 10'000'000;
  }
};

// nullopt with a message in `error` for an unknown key or a bad value.
std::optional<PortOptions> parse_port_flags(std::string_view flags, std::string& error);

}  // namespace utcp::packetdrill
