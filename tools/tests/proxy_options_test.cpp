// SPDX-License-Identifier: BSD-2-Clause
// utcp-proxy's command line into ProxyConfig: each upstream kind with and without
// credentials, routes of both families, DNS and timeouts, -v counting, and the bad command
// lines (no upstream, two upstreams, bad HOST:PORT, a user without a password, bad prefixes),
// which must be usage errors (exit 2), never a half-filled config.
#include "proxy_options.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "common_options.hpp"
#include "toml_config.hpp"

namespace utcp::proxy {
namespace {

// Names the tests' resolver knows (no lookup leaves the process); others fail as glibc's do.
std::optional<IpAddr> fake_resolve(const std::string& name, std::string& error) {
  static const std::map<std::string, std::string> names = {
      {"socks.test", "10.80.0.2"}, {"proxy.example.", "10.80.0.3"}, {"v6only.test", "fd80::2"}};
  const auto it = names.find(name);
  if (it == names.end()) {
    error = "Name or service not known";
    return std::nullopt;
  }
  return IpAddr::parse(it->second);
}

// Parses `args` as utcp-proxy would; returns the error text ("" if none): "cli: ..." for
// CLI11's errors, "runtime: ..." for a runtime error (exit 1), else a UsageError's (exit 2).
std::string parse(std::vector<std::string> args, ProxyConfig& config) {
  CLI::App app{"test"};
  ProxyFlags flags;
  tools::add_common_options(app, config.common);
  add_proxy_options(app, config, flags);
  std::vector<const char*> argv{"utcp-proxy"};
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
    finish_proxy_options(app, config, flags, fake_resolve);
  } catch (const CLI::ParseError& e) {
    return std::string("cli: ") + e.what();
  } catch (const tools::UsageError& e) {
    return e.what();
  } catch (const std::runtime_error& e) {
    return std::string("runtime: ") + e.what();
  }
  return "";
}

TEST(ProxyOptions, Socks5WithCredentialsAndRoutes) {
  ProxyConfig c;
  ASSERT_EQ(parse({"--socks5", "10.80.0.2:1080", "--socks-user", "u", "--socks-pass", "p",
                   "--route", "10.81.0.0/24", "--route", "fd81::/64"},
                  c),
            "");
  EXPECT_EQ(c.upstream, UpstreamKind::kSocks5);
  EXPECT_EQ(c.upstream_server, (Endpoint{Ipv4Addr(10, 80, 0, 2), 1080}));
  ASSERT_TRUE(c.credentials);
  EXPECT_EQ(c.credentials->user, "u");
  EXPECT_EQ(c.credentials->pass, "p");
  ASSERT_EQ(c.routes.size(), 2u);
  EXPECT_EQ(c.routes[0], *IpPrefix::parse("10.81.0.0/24"));
  EXPECT_EQ(c.routes[1], *IpPrefix::parse("fd81::/64"));
  EXPECT_EQ(c.verbose, 0);
}

// Off unless asked for (microsocks drops a pipelined request); only with --socks5.
TEST(ProxyOptions, Socks5PipelineIsOptIn) {
  ProxyConfig c;
  ASSERT_EQ(parse({"--socks5", "10.80.0.2:1080"}, c), "");
  EXPECT_FALSE(c.socks5_pipeline);
  ProxyConfig p;
  ASSERT_EQ(parse({"--socks5", "10.80.0.2:1080", "--socks5-pipeline"}, p), "");
  EXPECT_TRUE(p.socks5_pipeline);
  ProxyConfig h;
  EXPECT_NE(parse({"--http-proxy", "10.80.0.2:3128", "--socks5-pipeline"}, h).find("requires"),
            std::string::npos);
}

TEST(ProxyOptions, HttpProxyIpv6AndDirect) {
  ProxyConfig c;
  ASSERT_EQ(parse({"--http-proxy", "[fd80::2]:3128", "--proxy-user", "a", "--proxy-pass", "b"}, c),
            "");
  EXPECT_EQ(c.upstream, UpstreamKind::kHttpConnect);
  EXPECT_EQ(c.upstream_server.addr, *IpAddr::parse("fd80::2"));
  EXPECT_EQ(c.upstream_server.port, 3128);
  ASSERT_TRUE(c.credentials);
  ProxyConfig d;
  ASSERT_EQ(parse({"--direct", "--interface", "eth0", "--fwmark", "7"}, d), "");
  EXPECT_EQ(d.upstream, UpstreamKind::kDirect);
  EXPECT_EQ(d.outbound_interface, "eth0");
  EXPECT_EQ(d.fwmark, 7u);
  EXPECT_FALSE(d.credentials);
}

TEST(ProxyOptions, DnsTimeoutsLimitsAndVerbosity) {
  ProxyConfig c;
  ASSERT_EQ(parse({"--direct",
                   "--dns",
                   "fake-ip",
                   "--fake-ip-pool",
                   "198.19.0.0/16",
                   "--dns-server",
                   "10.81.0.2:53",
                   "--connect-timeout",
                   "2.5",
                   "--idle-timeout",
                   "30",
                   "--udp-timeout",
                   "0.5",
                   "--drain-timeout",
                   "0",
                   "--max-sessions",
                   "100",
                   "--memory-limit",
                   "8",
                   "-v",
                   "-v",
                   "--stats-json",
                   "s.json",
                   "--control",
                   "/tmp/x.sock"},
                  c),
            "");
  EXPECT_EQ(c.dns, DnsMode::kFakeIp);
  EXPECT_EQ(c.fake_ip_pool, *IpPrefix::parse("198.19.0.0/16"));
  ASSERT_TRUE(c.dns_upstream);
  EXPECT_EQ(c.dns_upstream->port, 53);
  EXPECT_EQ(c.connect_timeout.count(), 2500);
  EXPECT_EQ(c.tcp_idle_timeout.count(), 30000);
  EXPECT_EQ(c.udp_idle_timeout.count(), 500);
  EXPECT_EQ(c.drain_timeout.count(), 0);
  EXPECT_EQ(c.max_sessions, 100u);
  EXPECT_EQ(c.memory_limit_mib, 8u);
  EXPECT_EQ(c.verbose, 2);
  EXPECT_TRUE(c.common.verbose);  // -vv: the segment trace too
  EXPECT_EQ(c.stats_json, "s.json");
  EXPECT_EQ(c.control_socket, "/tmp/x.sock");
  ProxyConfig one;
  ASSERT_EQ(parse({"--direct", "-v"}, one), "");
  EXPECT_EQ(one.verbose, 1);
  EXPECT_FALSE(one.common.verbose);
}

// HOST may be a name, resolved once while the options are finished; the config keeps the name.
TEST(ProxyOptions, UpstreamHostNamesAreResolvedOnce) {
  ProxyConfig c;
  ASSERT_EQ(parse({"--socks5", "socks.test:1080", "--dns-server", "v6only.test:53"}, c), "");
  EXPECT_EQ(c.upstream_server, (Endpoint{Ipv4Addr(10, 80, 0, 2), 1080}));
  EXPECT_EQ(c.upstream_host, "socks.test");
  ASSERT_TRUE(c.dns_upstream);
  EXPECT_EQ(*c.dns_upstream, (Endpoint{*IpAddr::parse("fd80::2"), 53}));
  ProxyConfig h;
  ASSERT_EQ(parse({"--http-proxy", "proxy.example.:3128"}, h), "");  // fully qualified
  EXPECT_EQ(h.upstream_server, (Endpoint{Ipv4Addr(10, 80, 0, 3), 3128}));
  EXPECT_EQ(h.upstream_host, "proxy.example.");
  ProxyConfig a;  // an address is not a name
  ASSERT_EQ(parse({"--socks5", "[fd80::2]:1080"}, a), "");
  EXPECT_EQ(a.upstream_server, (Endpoint{*IpAddr::parse("fd80::2"), 1080}));
  EXPECT_TRUE(a.upstream_host.empty());
}

TEST(ProxyOptions, HostPortSyntax) {
  const auto name = parse_upstream_host_port("my_proxy-1.lan:1080");
  ASSERT_TRUE(name);
  EXPECT_EQ(name->name, "my_proxy-1.lan");
  EXPECT_FALSE(name->addr);
  EXPECT_EQ(name->port, 1080);
  const auto v4 = parse_upstream_host_port("10.80.0.2:1");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->name.empty());
  EXPECT_EQ(v4->addr, IpAddr::parse("10.80.0.2"));
  EXPECT_TRUE(parse_upstream_host_port(std::string(63, 'a') + ".b:65535"));
  EXPECT_FALSE(parse_upstream_host_port(std::string(64, 'a') + ".b:80"));  // label > 63
  std::string long_name;
  while (long_name.size() < 254) long_name += "abcdefghi.";
  EXPECT_FALSE(parse_upstream_host_port(long_name.substr(0, 254) + "x:80"));  // > 253
  EXPECT_FALSE(parse_upstream_host_port("1080"));
  EXPECT_FALSE(parse_upstream_host_port("10.0.0.1:80:80"));
}

// The real resolver on a name every host has without DNS (/etc/hosts), and a failure.
TEST(ProxyOptions, GetaddrinfoResolvesLocalhost) {
  std::string error;
  const auto a = resolve_host_name("localhost", error);
  ASSERT_TRUE(a) << error;
  EXPECT_TRUE(*a == *IpAddr::parse("127.0.0.1") || *a == *IpAddr::parse("::1")) << a->to_string();
  // A numeric name getaddrinfo answers without any lookup (AI_NUMERICHOST is not needed).
  EXPECT_EQ(resolve_host_name("10.1.2.3", error), IpAddr::parse("10.1.2.3"));
}

// The TOML file's keys take names the same way (the same finish_proxy_options).
TEST(ProxyOptions, TomlKeysTakeNames) {
  char path[] = "/tmp/proxy_options_testXXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "socks5 = \"socks.test:1080\"\ndns-server = \"[fd80::2]:53\"\n"
                         "socks5-pipeline = true\n";
  ProxyConfig c;
  const std::string error = parse({"--config", path}, c);
  std::remove(path);
  if (!toml_supported()) GTEST_SKIP() << "built without tomlplusplus: " << error;
  ASSERT_EQ(error, "");
  EXPECT_EQ(c.upstream_server, (Endpoint{Ipv4Addr(10, 80, 0, 2), 1080}));
  EXPECT_EQ(c.upstream_host, "socks.test");
  EXPECT_TRUE(c.socks5_pipeline);
  ASSERT_TRUE(c.dns_upstream);
  EXPECT_EQ(c.dns_upstream->port, 53);
}

// utcp-proxy's TUN queue is longer than the kernel's 500 unless --txqueuelen says otherwise
// (docs/proxy.md "Bursts of new connections").
TEST(ProxyOptions, TxQueueLenDefaultsLongerThanTheKernels) {
  ProxyConfig c;
  ASSERT_EQ(parse({"--direct"}, c), "");
  EXPECT_EQ(c.common.txqueuelen, kDefaultTxQueueLen);
  EXPECT_GT(c.common.txqueuelen, 500u);
  ProxyConfig d;
  ASSERT_EQ(parse({"--direct", "--txqueuelen", "1000"}, d), "");
  EXPECT_EQ(d.common.txqueuelen, 1000u);
  ProxyConfig k;
  ASSERT_EQ(parse({"--direct", "--txqueuelen", "0"}, k), "");
  EXPECT_EQ(k.common.txqueuelen, 0u);  // the kernel's default
  ProxyConfig bad;
  EXPECT_NE(parse({"--direct", "--txqueuelen", "-1"}, bad).find("cli:"), std::string::npos);
}

TEST(ProxyOptions, BadCommandLines) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{}, "choose the upstream"},
      {{"--socks5", "10.80.0.2:1080", "--direct"}, "excludes"},
      {{"--socks5", "10.80.0.2"}, "not HOST:PORT"},
      {{"--socks5", "fd80::2:1080"}, "not HOST:PORT"},
      {{"--socks5", "socks.test"}, "not HOST:PORT"},
      {{"--socks5", "socks.test:0"}, "not HOST:PORT"},
      {{"--socks5", "socks.test:65536"}, "not HOST:PORT"},
      {{"--socks5", "1.2.3:1080"}, "not HOST:PORT"},
      {{"--socks5", "300.1.1.1:1080"}, "not HOST:PORT"},
      {{"--socks5", "-socks.test:1080"}, "not HOST:PORT"},
      {{"--socks5", "socks-.test:1080"}, "not HOST:PORT"},
      {{"--socks5", "socks..test:1080"}, "not HOST:PORT"},
      {{"--socks5", "so cks.test:1080"}, "not HOST:PORT"},
      {{"--socks5", ":1080"}, "not HOST:PORT"},
      {{"--socks5", "[socks.test]:1080"}, "not HOST:PORT"},
      {{"--socks5", std::string(64, 'a') + ".test:1080"}, "not HOST:PORT"},
      {{"--http-proxy", "[fd80::2:3128"}, "not HOST:PORT"},
      {{"--socks5", "10.80.0.2:1080", "--socks-user", "u"}, "requires"},
      {{"--direct", "--socks-user", "u", "--socks-pass", "p"}, "requires"},
      {{"--socks5", "10.80.0.2:1080", "--socks-user", std::string(256, 'u'), "--socks-pass", "p"},
       "1 to 255"},
      {{"--http-proxy", "10.80.0.2:1080", "--proxy-user", "a:b", "--proxy-pass", "p"}, "':'"},
      {{"--direct", "--route", "10.81.0.0/33"}, "not a prefix"},
      {{"--direct", "--route", "nonsense"}, "not a prefix"},
      {{"--direct", "--dns", "tcp"}, "cli:"},
      {{"--direct", "--fake-ip-pool", "fd00::/64"}, "IPv4 prefix"},
      {{"--direct", "--max-sessions", "0"}, "cli:"},
      {{"--direct", "--connect-timeout", "0"}, "cli:"},
      {{"--direct", "--dns-server", "10.0.0.1"}, "not HOST:PORT"},
      // Well-formed names that do not resolve: a runtime error (exit 1) naming flag and name.
      {{"--socks5", "nowhere.test:1080"},
       "runtime: --socks5 nowhere.test:1080: cannot resolve nowhere.test: Name or service"},
      {{"--http-proxy", "nowhere.test:3128"}, "runtime: --http-proxy nowhere.test:3128"},
      {{"--direct", "--dns-server", "nowhere.test:53"}, "runtime: --dns-server nowhere.test:53"},
  };
  for (const Case& c : cases) {
    ProxyConfig config;
    const std::string error = parse(c.args, config);
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    EXPECT_NE(error.find(c.says), std::string::npos) << joined << "-> '" << error << "'";
  }
}

}  // namespace
}  // namespace utcp::proxy
