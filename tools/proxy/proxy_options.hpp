// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// utcp-proxy's own flags (PROXY.md's command line) and how they become a ProxyConfig. The
// shared flags (--tun, --addr, ...) come from tools::add_common_options. With tomlplusplus,
// --config FILE reads the same flags from a TOML file (keys: the long flag names; the command
// line wins); without it --config is a usage error.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "proxy_config.hpp"

namespace utcp::proxy {

// utcp-proxy's default --txqueuelen (the shared flag's default is the kernel's 500).
inline constexpr uint32_t kDefaultTxQueueLen = 4096;

// What CLI11 fills in before it is checked and converted (finish_proxy_options).
struct ProxyFlags {
  std::string socks5;
  std::string http_proxy;
  bool direct = false;
  std::string socks_user, socks_pass;
  std::string proxy_user, proxy_pass;
  std::vector<std::string> routes;
  std::string dns = "relay";
  std::string fake_ip_pool = "198.18.0.0/15";
  std::string fake_ip_pool6 = "fc00:18::/96";
  std::string dns_server;
  double connect_timeout_s = 10;
  double idle_timeout_s = 0;
  double udp_timeout_s = 60;
  double drain_timeout_s = 5;
};

// Registers the flags (and the help's examples).
void add_proxy_options(CLI::App& app, ProxyConfig& config, ProxyFlags& flags);
// After parsing: checks what CLI11 could not and fills `config`; throws tools::UsageError.
// -v's count becomes config.verbose (1: a line per session; 2: and the segment trace).
void finish_proxy_options(const CLI::App& app, ProxyConfig& config, const ProxyFlags& flags);

}  // namespace utcp::proxy
