// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What utcp-proxy is told to do (issue 14), filled from the command line and, with --config,
// a TOML file whose keys are the long flag names (tools/proxy/toml_config.hpp). The parts of
// the program (TCP relay, UDP relay and DNS, routes) read it; none of them parses flags.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common_options.hpp"
#include "utcp/address.hpp"

namespace utcp::proxy {

// Where relayed connections go: a SOCKS5 server (RFC 1928), an HTTP proxy's CONNECT
// (RFC 9110 §9.3.6), or the original destination through the kernel.
enum class UpstreamKind : uint8_t { kDirect, kSocks5, kHttpConnect };

// RFC 1929 username/password for SOCKS5; Basic (RFC 7617) for HTTP CONNECT.
struct Credentials {
  std::string user;
  std::string pass;
};

// How DNS (UDP to port 53 arriving on the TUN) is handled. kRelay: like any UDP flow, through
// the upstream (SOCKS5 UDP ASSOCIATE, or directly); kFakeIp: answered at once from a pool of
// addresses (fake_ip_pool, routed into the TUN), each standing for the name it was given for,
// so a later connection to it goes upstream by name (SOCKS5 ATYP 3, CONNECT host:port).
enum class DnsMode : uint8_t { kRelay, kFakeIp };

struct ProxyConfig {
  tools::CommonOptions common;  // --tun, --addr, --host-addr, --mtu, --pcap, -v, --stats, ...

  UpstreamKind upstream = UpstreamKind::kDirect;
  Endpoint upstream_server;                // --socks5 / --http-proxy HOST:PORT
  std::optional<Credentials> credentials;  // --socks-user/--socks-pass (or --proxy-user/-pass)
  // --socks5-pipeline: without credentials, the CONNECT request rides with the greeting (one
  // round trip less per connection). Off by default: some servers (Debian's microsocks) read
  // the greeting with one recv() and drop what came with it, so every dial would time out.
  bool socks5_pipeline = false;

  std::vector<IpPrefix> routes;    // --route CIDR (repeatable): kernel routes into the TUN
  bool auto_route = false;         // --auto-route: everything but the proxy's own traffic
  std::string outbound_interface;  // --interface: upstream sockets bound to it (SO_BINDTODEVICE);
                                   // empty with --auto-route: the one the upstream is reached by
  uint32_t fwmark = 0;             // --fwmark: SO_MARK on upstream sockets (0: none)

  DnsMode dns = DnsMode::kRelay;                              // --dns relay|fake-ip
  IpPrefix fake_ip_pool = *IpPrefix::parse("198.18.0.0/15");  // --fake-ip-pool
  IpPrefix fake_ip_pool6 = *IpPrefix::parse("fc00:18::/96");  // --fake-ip-pool6
  std::optional<Endpoint> dns_upstream;  // --dns-server HOST:PORT: where relayed queries go
                                         // (default: the query's own destination)

  std::string stats_json;      // --stats-json FILE: per-connection records and totals at exit
  std::string control_socket;  // --control PATH: a unix socket answering with the same JSON
  int verbose = 0;             // -v: one line per connection (-vv adds the segment trace)

  size_t max_sessions = 10000;  // --max-sessions: TCP connections + UDP flows at once
  size_t memory_limit_mib = 0;  // --memory-limit MiB: relay + stack buffers (0: default)
  std::chrono::milliseconds connect_timeout{
      10000};                                     // --connect-timeout s: upstream dial + handshake
  std::chrono::milliseconds tcp_idle_timeout{0};  // --idle-timeout s (0: none)
  std::chrono::milliseconds udp_idle_timeout{60000};  // --udp-timeout s
  std::chrono::milliseconds drain_timeout{5000};      // --drain-timeout s: SIGTERM waits this long

  // --socks5/--http-proxy's HOST when it was a name (empty: an address): upstream_server holds
  // the address it resolved to, once, at start (docs/proxy.md "Upstream host names").
  std::string upstream_host;

  size_t keep_ended = 256;  // --keep-ended: ended sessions' records kept for --control
};

// One relayed TCP connection or UDP flow, as -v logs it and --stats-json writes it.
struct SessionRecord {
  uint64_t id = 0;
  bool udp = false;
  Endpoint client;          // who sent the SYN / first datagram (the TUN side)
  Endpoint destination;     // the original destination
  std::string domain;       // the name behind a fake IP, if any
  std::string upstream;     // "direct", "socks5 10.80.0.2:1080", "http 10.80.0.2:3128"
  uint64_t bytes_up = 0;    // client -> upstream (payload bytes)
  uint64_t bytes_down = 0;  // upstream -> client
  double started_s = 0;     // seconds since the proxy started
  double duration_s = 0;
  // How it ended: "closed" (FIN both ways), "client-reset", "upstream-reset", "refused",
  // "unreachable", "auth-failed", "timeout", "idle", "limit", "shutdown", ...; empty while open.
  std::string end;
};

}  // namespace utcp::proxy
