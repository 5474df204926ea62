// SPDX-License-Identifier: BSD-2-Clause
// utcp-proxy (issue 14): creates a TUN, runs a forwarding Stack on it (every SYN a
// ConnectionRequest, every UDP 4-tuple a flow), and relays each TCP connection (TcpRelay) and
// UDP flow (UdpRelay) to an upstream: a SOCKS5 server, an HTTP proxy's CONNECT, or the original
// destination through kernel sockets, which never loop back into the TUN (RouteSetup). Sessions
// are logged (-v), counted (SIGUSR1), and reported as JSON (--control, --stats-json at exit).
// SIGINT/SIGTERM: no new sessions; open ones get --drain-timeout to end; then exit 0.
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "common_options.hpp"
#include "control_socket.hpp"
#include "deadline_timer.hpp"
#include "heap_trim.hpp"
#include "proxy_config.hpp"
#include "proxy_options.hpp"
#include "session_log.hpp"
#include "stats_file.hpp"
#include "tcp_relay.hpp"

#include "route_setup.hpp"
#include "udp_relay.hpp"

namespace utcp::proxy {
namespace {

constexpr const char* kName = "utcp-proxy";
// A proxy's buffers by default: enough for a few bulk transfers at full speed (rings autotune to
// 4 MiB), while thousands of stalled connections cannot take the host's memory (the Stack's
// own default is 1 GiB).
constexpr size_t kDefaultMemoryMib = 64;

void log_line(const std::string& line) {
  std::fprintf(stderr, "%s: %s\n", kName, line.c_str());
}

// The Stack as the proxy needs it: every address forwarded (the TUN's own --addr stays local),
// UDP flows and echo answered for them, and the stack's limits following the proxy's.
void adjust_stack(const ProxyConfig& c, StackConfig& s) {
  s.forward = {*IpPrefix::parse("0.0.0.0/0"), *IpPrefix::parse("::/0")};
  s.forward_echo = true;
  s.forward_udp = true;
  s.max_udp_flows = static_cast<uint32_t>(std::min<size_t>(c.max_sessions, UINT32_MAX));
  s.udp_flow_idle_timeout = Duration(c.udp_idle_timeout.count() * 1000);
  // A request waits for the upstream's answer; the stack's own timeout must not come first.
  s.request_timeout = Duration((c.connect_timeout.count() + 1000) * 1000);
  s.max_pending_requests = static_cast<uint32_t>(std::min<size_t>(c.max_sessions, 65536));
  s.max_connections = static_cast<uint32_t>(std::min<size_t>(c.max_sessions * 2 + 64, 1u << 20));
  // The connections' buffers together (StackConfig::buffer_memory_limit, like Linux's tcp_mem):
  // --memory-limit, else --buffer-memory, else kDefaultMemoryMib. The relay itself holds at most
  // TcpRelay::kSlowRead per stalled session beside them.
  if (c.memory_limit_mib != 0) {
    s.buffer_memory_limit = c.memory_limit_mib << 20;
  } else if (c.common.buffer_memory_mib == 0) {
    s.buffer_memory_limit = kDefaultMemoryMib << 20;
  }
}

// SIGUSR1 as a descriptor on the loop (SignalWatcher takes SIGINT and SIGTERM).
class Usr1Watcher {
 public:
  Usr1Watcher(EventLoop& loop, std::function<void()> on_signal) : loop_(loop) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd_ < 0) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
    loop_.add_fd(fd_, EPOLLIN, [this, cb = std::move(on_signal)](uint32_t) {
      signalfd_siginfo info{};
      while (::read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) cb();
    });
  }
  ~Usr1Watcher() {
    loop_.remove_fd(fd_);
    ::close(fd_);
  }
  Usr1Watcher(const Usr1Watcher&) = delete;
  Usr1Watcher& operator=(const Usr1Watcher&) = delete;

 private:
  EventLoop& loop_;
  int fd_ = -1;
};

// The totals, with the UDP relay's counters (local DNS answers, drops by reason) and the
// stack's connection count and buffer bytes.
nlohmann::json totals_json(const SessionLog& log, const UdpRelay& udp, const Stack& stack) {
  nlohmann::json totals = log.totals_json();
  nlohmann::json counters = nlohmann::json::object();
  for (const auto& [name, value] : udp.counters()) counters[std::string(name)] = value;
  totals["udp_relay"] = std::move(counters);
  totals["stack_connections"] = stack.connection_count();
  // What the connections' rings hold now, against --memory-limit (tcp.mem.bytes).
  for (const auto& [name, value] : stack.counters()) {
    if (name == "tcp.mem.bytes") totals["stack_buffer_bytes"] = value;
  }
  return totals;
}

int run(const ProxyConfig& config) {
  // Before any thread starts (the resolver's): they inherit the blocked set.
  tools::SignalWatcher::block_signals();
  ::signal(SIGPIPE, SIG_IGN);  // sends use MSG_NOSIGNAL; this covers everything else
  const auto started = std::chrono::steady_clock::now();
  auto now_s = [started] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };

  // Created first: a path that cannot be written fails before any device or route exists.
  std::optional<StatsFile> stats_file;
  if (!config.stats_json.empty()) stats_file.emplace(config.stats_json);

  tools::Runtime rt(config.common, kName, nullptr,
                    [&config](StackConfig& s) { adjust_stack(config, s); });
  Stack& stack = rt.stack();
  EventLoop& loop = rt.loop();

  // Routes into the TUN, and the guard keeping upstream sockets out of them (docs/proxy.md).
  RouteSetup routes(config, config.common.tun);
  UpstreamSocketSetup setup = [&routes](int fd, std::string& error) {
    return routes.prepare_upstream_socket(fd, error);
  };
  if (config.verbose && !config.upstream_host.empty()) {  // resolved once, in proxy_options
    log_line(config.upstream_host + " resolved to " +
             tools::format_endpoint(config.upstream_server.addr, config.upstream_server.port));
  }
  if (config.verbose && !routes.outbound_interface().empty()) {
    log_line("upstream sockets bound to " + routes.outbound_interface());
  }

  SessionLog log(now_s,
                 config.verbose >= 1 ? std::function<void(const std::string&)>(log_line) : nullptr,
                 config.keep_ended);
  // --stats-json: each ended session's record goes to the file as it ends (stats_file.hpp).
  if (stats_file) {
    log.set_ended_writer([&stats_file](const std::string& json) { stats_file->record(json); });
  }
  UdpRelay udp(stack, loop, config, setup, log);
  TcpRelay tcp(
      stack, loop, config, setup, log, [&udp](const IpAddr& a) { return udp.fake_ip_name(a); },
      [&udp] { return udp.flow_count(); });
  // The Stack's readiness callback (inside process()): each relay notes its own sockets.
  stack.set_readiness_callback([&](SocketId s, uint32_t r) {
    if (!udp.on_readiness(s, r)) tcp.on_readiness(s, r);
  });

  bool draining = false;
  // Memory goes back to the system when sessions end or their buffers are freed (idle): the
  // trimmer follows the session count and the bytes the stack's rings hold (the counter
  // tcp.mem.bytes, read at most twice a second; a look skipped is taken by look_timer).
  tools::HeapTrimmer trimmer(loop);
  size_t ring_bytes = 0;
  Instant next_look{};
  auto note_memory = [&] {
    const Instant now = EventLoop::clock_now();
    if (now < next_look) return false;
    next_look = now + Duration(500'000);
    for (const auto& [name, v] : stack.counters()) {
      if (name == "tcp.mem.bytes") ring_bytes = v;
    }
    return true;
  };
  tools::DeadlineTimer look_timer(loop, [&] {
    note_memory();
    trimmer.note(tcp.session_count(), ring_bytes);
  });
  loop.add_after_process([&] {
    while (const auto flow = stack.next_udp_flow()) udp.on_flow(*flow);
    udp.after_process();
    tcp.after_process();
    look_timer.arm(note_memory() ? kNever : next_look);
    trimmer.note(tcp.session_count(), ring_bytes);
    if (draining && tcp.session_count() == 0) loop.stop();
  });

  // SIGINT/SIGTERM: drain; a second one, or the drain timeout, aborts what is left.
  tools::DeadlineTimer drain_timer(loop, [&] {
    tcp.abort_all("shutdown");
    loop.stop();
  });
  tools::SignalWatcher signals(loop, [&](int signo) {
    if (draining) {
      tcp.abort_all("shutdown");
      loop.stop();
      return;
    }
    draining = true;
    tcp.drain();
    if (config.verbose) {
      log_line(std::string(signo == SIGINT ? "SIGINT" : "SIGTERM") + ": draining " +
               std::to_string(tcp.session_count()) + " connections");
    }
    if (tcp.session_count() == 0) return loop.stop();
    drain_timer.arm(EventLoop::clock_now() + Duration(config.drain_timeout.count() * 1000));
  });
  Usr1Watcher usr1(loop, [&log] { log_line(log.totals_line()); });
  std::optional<ControlSocket> control;
  if (!config.control_socket.empty()) {
    control.emplace(loop, config.control_socket,
                    [&] { return log.to_json_text(totals_json(log, udp, stack)); });
  }

  log_line("ready");
  loop.run();
  // What is still open goes now, with its RSTs on the wire before the device closes.
  tcp.abort_all("shutdown");
  stack.flush(EventLoop::clock_now());
  if (config.verbose) log_line(log.totals_line());
  if (stats_file) {
    log.write_open([&stats_file](const std::string& json) { stats_file->record(json); });
    stats_file->finish(totals_json(log, udp, stack).dump());
  }
  rt.print_stats_if_asked();
  return 0;
}

}  // namespace
}  // namespace utcp::proxy

int main(int argc, char** argv) {
  using namespace utcp::proxy;
  ProxyConfig config;
  bool parsed = false;
  int status = 0;
  {
    // The parser lives only while the command line is read: its option objects (~50 KB of
    // heap) are freed before the proxy runs, for its sessions to reuse.
    CLI::App app{
        "utcp-proxy: relay a TUN's TCP connections and UDP flows through SOCKS5, HTTP CONNECT or "
        "directly, on the utcp user-space TCP/IP stack"};
    app.name(kName);
    ProxyFlags flags;
    utcp::tools::add_common_options(app, config.common);
    add_proxy_options(app, config, flags);
    status = utcp::tools::run_main(app, argc, argv, [&] {
      finish_proxy_options(app, config, flags);
      parsed = true;
      return 0;
    });
  }
  if (!parsed) return status;  // --help, --version, or a bad command line
  return utcp::tools::run_body(kName, [&] { return run(config); });
}
