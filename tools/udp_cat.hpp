// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// utcp-cat -u: netcat's UDP mode over utcp (as `nc -u`). Each read from standard input is
// sent as one datagram; every datagram received goes to standard output.
//   utcp-cat -u HOST PORT   a connected socket: hears HOST:PORT only; a port unreachable
//                           answer ends the program with "connection refused" (status 1);
//                           after the end of input it waits until nothing has arrived for
//                           --linger (1 s), then exits 0
//   utcp-cat -u -l PORT     waits for the first datagram, over IPv4 or IPv6 (unless
//                           --no-ipv6), then talks to its sender only (connects, as
//                           nc -u -l does); with -k it answers whoever sent last, of either
//                           family, and never connects. Runs until SIGINT/SIGTERM.
#include <cstdint>
#include <optional>

#include "common_options.hpp"
#include "utcp/address.hpp"
#include "utcp/time.hpp"

namespace utcp::tools {

struct UdpCatOptions {
  std::optional<IpAddr> host;  // connect to host:port ...
  uint16_t port = 0;
  uint16_t listen_port = 0;  // ... or listen here
  bool keep = false;         // -k with -l
  Duration linger{1'000'000};
};

int run_udp_cat(Runtime& rt, const UdpCatOptions& options);

}  // namespace utcp::tools
