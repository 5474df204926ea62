// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Flags for tools that hold connections: how long a connection may sit idle (or, for HTTP,
// take over its request head) before the tool closes it, and TCP keepalive (RFC 1122
// §4.2.3.6) for each connection. Kept apart from common_options so each tool takes only
// what applies to it.
#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "conn_timeouts.hpp"
#include "utcp/stack.hpp"
#include "utcp/tcp_config.hpp"

namespace utcp::tools {

struct ConnectionOptions {
  double idle_timeout_s = 0;    // 0: never
  double header_timeout_s = 0;  // utcp-serve --http only; 0: never
  std::string keepalive;        // "IDLE,INTVL,CNT" in seconds, seconds, probes; empty: off

  TimeoutConfig timeouts() const;
  // The parsed --keepalive (checked when the command line is parsed); nullopt when not given.
  std::optional<tcp::KeepaliveConfig> keepalive_config() const;
  // Turns keepalive on for `s` if --keepalive was given.
  void apply(Stack& stack, SocketId s) const;
};

// "IDLE,INTVL,CNT" -> keepalive on with those values; nullopt if malformed (each a positive
// number, IDLE and INTVL in seconds, CNT probes 1..255).
std::optional<tcp::KeepaliveConfig> parse_keepalive(const std::string& text);

// Registers --idle-timeout and --keepalive; --header-timeout too if `http`.
void add_connection_options(CLI::App& app, ConnectionOptions& options, bool http);

}  // namespace utcp::tools
