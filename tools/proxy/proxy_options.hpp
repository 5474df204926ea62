// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// utcp-proxy's own flags (PROXY.md's command line) and how they become a ProxyConfig. The
// shared flags (--tun, --addr, ...) come from tools::add_common_options. With tomlplusplus,
// --config FILE reads the same flags from a TOML file (keys: the long flag names; the command
// line wins); without it --config is a usage error.
#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
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

// HOST:PORT as --socks5, --http-proxy and --dns-server take it: HOST is an IPv4 address, an
// IPv6 address in brackets ([fd80::2]:1080, RFC 3986 §3.2.2) or a host name (RFC 1123 §2.1:
// letters, digits, '-', dot-separated labels of 1 to 63, 253 in all; '_' is let through for
// names local resolvers hand out). A name leaves `addr` unset until resolve_upstream_hosts().
struct HostPort {
  std::string name;  // empty: HOST was an address
  std::optional<IpAddr> addr;
  uint16_t port = 0;
};
// nullopt if the text is none of those (a bare IPv6 address, a bad port, "1.2.3:80", ...).
std::optional<HostPort> parse_upstream_host_port(std::string_view text);

// A name's address, or nullopt with `error` set (one line). The default, resolve_host_name,
// asks getaddrinfo (both families; the first answer in the order glibc sorts them, RFC 6724).
using HostResolver =
    std::function<std::optional<IpAddr>(const std::string& name, std::string& error)>;
std::optional<IpAddr> resolve_host_name(const std::string& name, std::string& error);

// Registers the flags (and the help's examples).
void add_proxy_options(CLI::App& app, ProxyConfig& config, ProxyFlags& flags);
// After parsing: checks what CLI11 could not and fills `config`; throws tools::UsageError.
// -v's count becomes config.verbose (1: a line per session; 2: and the segment trace).
// Host names in --socks5, --http-proxy and --dns-server are resolved here, once, with
// `resolve`: at start, before the TUN and its routes exist, so the lookup cannot be routed into
// the TUN; they are never looked up again. A name that does not resolve is a runtime error
// (std::runtime_error: exit status 1), not a usage error: the same line may work later.
void finish_proxy_options(const CLI::App& app, ProxyConfig& config, const ProxyFlags& flags,
                          const HostResolver& resolve = resolve_host_name);

}  // namespace utcp::proxy
