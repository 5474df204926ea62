// SPDX-License-Identifier: BSD-2-Clause
#include "proxy_options.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "base/plain_math.hpp"
#include "common_options.hpp"

#include "toml_config.hpp"

namespace utcp::proxy {

using tools::UsageError;

namespace {

constexpr const char* kExamples = R"(Examples:
  # Everything for 10.81.0.0/24 through a SOCKS5 server:
  utcp-proxy --socks5 10.80.0.2:1080 --route 10.81.0.0/24
  # All traffic but the proxy's own through an HTTP proxy with Basic authentication:
  utcp-proxy --http-proxy 10.80.0.2:3128 --proxy-user me --proxy-pass secret --auto-route
  # Directly (kernel sockets bound to eth0), DNS answered from a fake-IP pool, stats at exit:
  utcp-proxy --direct --interface eth0 --route 10.81.0.0/24 --dns fake-ip --stats-json s.json
  # Statistics while running: socat - UNIX-CONNECT:/run/utcp-proxy.sock (with --control)
Signals: SIGINT/SIGTERM drain (up to --drain-timeout) and exit 0; SIGUSR1 prints totals.)";

// RFC 1123 §2.1 host name syntax (with '_', which local names use); an all-numeric name is a
// malformed address ("1.2.3"), which getaddrinfo would otherwise read as inet_aton does.
bool is_host_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);  // fully qualified
  if (name.empty() || name.size() > 253) return false;
  if (name.find_first_not_of("0123456789.") == std::string_view::npos) return false;
  size_t label = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      if (label == 0 || label > 63 || name[i - 1] == '-' || name[i - label] == '-') return false;
      label = 0;
      continue;
    }
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
    ++label;
  }
  return true;
}

// A flag's HOST:PORT, its name (if any) resolved with `resolve`.
Endpoint host_port(const std::string& flag, const std::string& text, const HostResolver& resolve,
                   std::string* name_out = nullptr) {
  const auto hp = parse_upstream_host_port(text);
  if (!hp) {
    throw UsageError(flag + " '" + text +
                     "' is not HOST:PORT (A.B.C.D:PORT, [IPV6]:PORT or NAME:PORT)");
  }
  if (name_out) *name_out = hp->name;
  if (hp->addr) return Endpoint{*hp->addr, hp->port};
  std::string error;
  const auto addr = resolve(hp->name, error);
  if (!addr) {
    throw std::runtime_error(flag + " " + text + ": cannot resolve " + hp->name + ": " + error);
  }
  return Endpoint{*addr, hp->port};
}

IpPrefix prefix(const std::string& flag, const std::string& text) {
  const auto p = IpPrefix::parse(text);
  if (!p) throw UsageError(flag + " '" + text + "' is not a prefix (A.B.C.D/N or IPV6/N)");
  return *p;
}

std::chrono::milliseconds seconds(double s) {
  return std::chrono::milliseconds(round_to_int64(s * 1000));
}

}  // namespace

std::optional<HostPort> parse_upstream_host_port(std::string_view text) {
  if (const auto literal = tools::parse_host_port(text)) {
    return HostPort{"", literal->first, literal->second};
  }
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view host = text.substr(0, colon);
  const auto port = tools::parse_port(text.substr(colon + 1));
  if (!port || !is_host_name(host)) return std::nullopt;
  return HostPort{std::string(host), std::nullopt, *port};
}

std::optional<IpAddr> resolve_host_name(const std::string& name, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &list);
  if (rc != 0) {
    error = rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc);
    return std::nullopt;
  }
  std::optional<IpAddr> found;
  for (const addrinfo* a = list; a && !found; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      uint8_t b[4];
      std::memcpy(b, &sin->sin_addr, 4);
      found = IpAddr(Ipv4Addr(b[0], b[1], b[2], b[3]));
    } else if (a->ai_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      found = IpAddr(Ipv6Addr::from_bytes(sin6->sin6_addr.s6_addr));
    }
  }
  ::freeaddrinfo(list);
  if (!found) error = "no IPv4 or IPv6 address";
  return found;
}

void add_proxy_options(CLI::App& app, ProxyConfig& c, ProxyFlags& f) {
  app.footer(kExamples);
  // A burst of new connections (each SYN, and its retransmissions, one packet the kernel queues
  // for the TUN) overflows the kernel's 500 between two reads: docs/proxy.md "Bursts".
  c.common.txqueuelen = kDefaultTxQueueLen;
  app.get_option("--txqueuelen")->capture_default_str();
  app.get_option("--verbose")
      ->description("-v: one line per relayed session on stderr; -vv: also every segment");
  auto* socks =
      app.add_option("--socks5", f.socks5, "relay through this SOCKS5 server (HOST:PORT)");
  auto* http = app.add_option("--http-proxy", f.http_proxy,
                              "relay TCP through this HTTP proxy's CONNECT (HOST:PORT)");
  auto* direct = app.add_flag("--direct", f.direct,
                              "relay through kernel sockets to the original destinations");
  socks->excludes(http)->excludes(direct);
  http->excludes(direct);
  auto* su =
      app.add_option("--socks-user", f.socks_user, "SOCKS5 user name (RFC 1929)")->needs(socks);
  auto* sp = app.add_option("--socks-pass", f.socks_pass, "SOCKS5 password")->needs(socks);
  su->needs(sp);
  sp->needs(su);
  app.add_flag("--socks5-pipeline", c.socks5_pipeline,
               "send the SOCKS5 CONNECT request with the greeting, before the server answers "
               "(no credentials; one round trip less per connection; for servers that take it, "
               "e.g. dante: microsocks does not)")
      ->needs(socks);
  auto* pu = app.add_option("--proxy-user", f.proxy_user, "HTTP proxy user (Basic, RFC 7617)")
                 ->needs(http);
  auto* pp = app.add_option("--proxy-pass", f.proxy_pass, "HTTP proxy password")->needs(http);
  pu->needs(pp);
  pp->needs(pu);
  app.add_option("--route", f.routes,
                 "send this prefix into the TUN (repeatable; IPv4 or IPv6 CIDR)");
  app.add_flag("--auto-route", c.auto_route,
               "send everything into the TUN except the proxy's own upstream traffic");
  app.add_option("--interface", c.outbound_interface,
                 "bind upstream sockets to this interface (SO_BINDTODEVICE)");
  app.add_option("--fwmark", c.fwmark, "mark upstream sockets (SO_MARK) for policy routing");
  app.add_option("--dns", f.dns, "UDP DNS: relay (through the upstream) or fake-ip")
      ->check(CLI::IsMember({"relay", "fake-ip"}))
      ->capture_default_str();
  app.add_option("--fake-ip-pool", f.fake_ip_pool, "IPv4 addresses fake-ip hands out")
      ->capture_default_str();
  app.add_option("--fake-ip-pool6", f.fake_ip_pool6, "IPv6 addresses fake-ip hands out")
      ->capture_default_str();
  app.add_option("--dns-server", f.dns_server,
                 "send relayed DNS queries here (HOST:PORT; default: where each was sent)");
  app.add_option("--stats-json", c.stats_json,
                 "write every session's statistics here as it ends, and the totals at exit");
  app.add_option("--control", c.control_socket,
                 "unix socket answering each connection with the open sessions, the newest "
                 "ended ones and the totals as JSON");
  app.add_option("--keep-ended", c.keep_ended, "ended sessions --control still shows")
      ->check(CLI::Range(size_t{0}, size_t{1} << 20))
      ->capture_default_str();
  app.add_option("--max-sessions", c.max_sessions, "TCP connections and UDP flows at once")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  app.add_option("--memory-limit", c.memory_limit_mib,
                 "MiB all connections' buffers may hold together (default 64)")
      ->check(CLI::Range(size_t{0}, size_t{1} << 20));
  const auto range = CLI::Range(0.0, 86400.0 * 365);
  app.add_option("--connect-timeout", f.connect_timeout_s,
                 "seconds for the upstream to answer a new connection")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  app.add_option("--idle-timeout", f.idle_timeout_s,
                 "reset a TCP connection idle this many seconds (0: never)")
      ->check(range)
      ->capture_default_str();
  app.add_option("--udp-timeout", f.udp_timeout_s, "forget a UDP flow idle this many seconds")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  app.add_option("--drain-timeout", f.drain_timeout_s,
                 "on SIGTERM, wait this many seconds for connections to end")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  // TOML (tomlplusplus): keys are the long flag names, the command line wins; unknown keys
  // and a build without TOML support are usage errors.
  add_toml_config_option(app)->description(
      "read flags from this TOML file (keys: the long flag names; the command line wins)");
}

void finish_proxy_options(const CLI::App& app, ProxyConfig& c, const ProxyFlags& f,
                          const HostResolver& resolve) {
  if (!f.socks5.empty()) {
    c.upstream = UpstreamKind::kSocks5;
    c.upstream_server = host_port("--socks5", f.socks5, resolve, &c.upstream_host);
    if (!f.socks_user.empty() || !f.socks_pass.empty()) {
      // RFC 1929 §2: each 1 to 255 bytes.
      if (f.socks_user.empty() || f.socks_user.size() > 255 || f.socks_pass.empty() ||
          f.socks_pass.size() > 255) {
        throw UsageError("--socks-user and --socks-pass must be 1 to 255 bytes each (RFC 1929)");
      }
      c.credentials = Credentials{f.socks_user, f.socks_pass};
    }
  } else if (!f.http_proxy.empty()) {
    c.upstream = UpstreamKind::kHttpConnect;
    c.upstream_server = host_port("--http-proxy", f.http_proxy, resolve, &c.upstream_host);
    if (!f.proxy_user.empty() || !f.proxy_pass.empty()) {
      if (f.proxy_user.find(':') != std::string::npos) {
        throw UsageError("--proxy-user cannot contain ':' (RFC 7617 §2)");
      }
      c.credentials = Credentials{f.proxy_user, f.proxy_pass};
    }
  } else if (f.direct) {
    c.upstream = UpstreamKind::kDirect;
  } else {
    throw UsageError("choose the upstream: --socks5 HOST:PORT, --http-proxy HOST:PORT or --direct");
  }
  c.routes.clear();
  for (const std::string& r : f.routes) c.routes.push_back(prefix("--route", r));
  c.dns = f.dns == "fake-ip" ? DnsMode::kFakeIp : DnsMode::kRelay;
  c.fake_ip_pool = prefix("--fake-ip-pool", f.fake_ip_pool);
  if (!c.fake_ip_pool.addr.is_v4()) throw UsageError("--fake-ip-pool must be an IPv4 prefix");
  c.fake_ip_pool6 = prefix("--fake-ip-pool6", f.fake_ip_pool6);
  if (!c.fake_ip_pool6.addr.is_v6()) throw UsageError("--fake-ip-pool6 must be an IPv6 prefix");
  if (!f.dns_server.empty()) c.dns_upstream = host_port("--dns-server", f.dns_server, resolve);
  c.connect_timeout = seconds(f.connect_timeout_s);
  c.tcp_idle_timeout = seconds(f.idle_timeout_s);
  c.udp_idle_timeout = seconds(f.udp_timeout_s);
  c.drain_timeout = seconds(f.drain_timeout_s);
  // -v: a line per session; -vv also the Stack's segment trace (the shared -v's meaning).
  c.verbose = static_cast<int>(app.get_option("--verbose")->count());
  c.common.verbose = c.verbose >= 2;
}

}  // namespace utcp::proxy
