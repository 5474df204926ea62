// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Command-line flags every utcp tool shares (device, addresses, faults, tracing, stats) and
// the runtime they describe: TUN device -> pcap tap -> fault injector -> Stack -> EventLoop.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dev/fault_injector.hpp"
#include "utcp/event_loop.hpp"
#include "utcp/stack.hpp"
#include "utcp/tun.hpp"

namespace utcp::tools {

struct CommonOptions {
  std::string tun = "utcp0";
  std::string addr = "10.77.0.2";          // the stack's own address
  std::string host_addr = "10.77.0.1/24";  // the kernel's side of the TUN link
  // Dual stack: the stack's IPv6 address and the kernel's IPv6 address/prefix on the link.
  std::string addr6 = "fd77::2";
  std::string host_addr6 = "fd77::1/64";
  bool no_ipv6 = false;     // --no-ipv6: IPv4 only
  bool ipv6_given = false;  // --addr6 or --host-addr6 was on the command line
  size_t mtu = 1500;
  std::string pcap;  // empty: no capture
  // Faults, applied to both directions (what utcp sends and what it receives).
  double drop = 0;
  double dup = 0;
  double reorder = 0;
  double corrupt = 0;
  double delay_ms = 0;
  double jitter_ms = 0;
  double rate_mbit = 0;
  uint64_t seed = 1;
  bool verbose = false;
  bool stats = false;
  bool no_offload = false;   // plain packets on the TUN (no virtio header, TSO or csum offload)
  std::string cc = "cubic";  // congestion controller (tcp::Config::congestion_control)
  bool no_pacing = false;    // tcp::Config::pacing off
  size_t threads = 1;        // > 1: a multi-queue TUN, one Stack and thread per queue (utcp-serve)
  size_t buffer_memory_mib = 0;     // StackConfig::buffer_memory_limit in MiB; 0: the default
  std::vector<std::string> routes;  // --route CIDR (repeatable): TunOptions::routes
  uint32_t txqueuelen = 0;          // --txqueuelen N: TunOptions::txqueuelen (0: the kernel's)

  bool any_fault() const;
};

// The IPv6 side a Runtime sets up, resolved from the flags.
struct Ipv6Setup {
  bool enabled = false;
  Ipv6Addr addr;        // the stack's
  Ipv6Addr host;        // the kernel's
  uint8_t prefix = 64;  // of the kernel's address
  std::string off_why;  // why IPv6 is off when it was not asked off (for -v)
};
// IPv6 is on unless --no-ipv6; off by itself (off_why says why) where it cannot work and was
// not asked for explicitly: an MTU below 1280 (RFC 8200 §5), a kernel without IPv6. With
// --addr6/--host-addr6 given those are UsageErrors instead.
Ipv6Setup resolve_ipv6(const CommonOptions& options);

// "10.77.0.1:5001", "[fd77::1]:5001" (RFC 5952 §6).
std::string format_endpoint(const IpAddr& addr, uint16_t port);
// An address as HOST: a dotted quad, an IPv6 text form, or one in brackets ([fd77::1]).
std::optional<IpAddr> parse_host(std::string_view text);
// "A.B.C.D:PORT" or "[IPV6]:PORT" (a bare IPv6 address is ambiguous with its port, so the
// brackets are required); nullopt if either part is bad or the port is not 1..65535.
std::optional<std::pair<IpAddr, uint16_t>> parse_host_port(std::string_view text);
// A decimal port 1..65535; nullopt otherwise.
std::optional<uint16_t> parse_port(std::string_view text);

// A bad command line found after parsing (a bad HOST, conflicting flags): run_main reports
// it like CLI11's own errors, with exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Registers the shared flags on `app`, and --version.
void add_common_options(CLI::App& app, CommonOptions& options);
// Registers --route CIDR (repeatable, both families): kernel routes into the TUN, for a tool
// whose Stack terminates forwarded prefixes. The routes go with the device.
void add_route_option(CLI::App& app, CommonOptions& options);
// Registers --threads (for tools that serve many connections: utcp-serve).
void add_threads_option(CLI::App& app, CommonOptions& options);

// The device chain, Stack and EventLoop a tool runs on. Construction errors are thrown as
// std::exception whose what() is one line fit for the user.
class Runtime {
 public:
  // Opens the TUN itself, or runs on `queue` (one queue of a multi-queue TUN). `adjust`, if
  // given, changes the StackConfig the flags made before the Stack is built (utcp-proxy:
  // forwarding prefixes, UDP flows).
  Runtime(const CommonOptions& options, std::string tool_name,
          std::unique_ptr<dev::TunDevice> queue = nullptr,
          const std::function<void(StackConfig&)>& adjust = {});
  // options.threads runtimes, one per queue of one multi-queue TUN (the fault injectors'
  // seeds are seed, seed + 1, ...). --pcap is refused with more than one thread.
  static std::vector<std::unique_ptr<Runtime>> open_queues(const CommonOptions& options,
                                                           const std::string& tool_name);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  Stack& stack() { return *stack_; }
  EventLoop& loop() { return *loop_; }
  const CommonOptions& options() const { return options_; }
  // One queue of several, steered by dev::PortSteering (else by the TUN driver's flow table).
  bool queue_steering() const { return steered_; }
  // Prints Stack::counters() and the device and fault counters to stderr if --stats.
  void print_stats_if_asked() const;
  // Those counters as name/value pairs.
  std::vector<std::pair<std::string, uint64_t>> stats() const;
  // With --stats: the connection's TCP_INFO-like statistics (Stack::tcp_info) as tcp_info.* lines.
  void print_tcp_info_if_asked(SocketId s) const;
  // "<tool>: <message>" on stderr.
  void log(const std::string& message) const;
  // With -v: one line when a socket the tool holds changes state (the Stack's own trace
  // shows segments). forget() when the handle is released.
  void observe_state(SocketId s);
  void forget_state(SocketId s);

 private:
  CommonOptions options_;
  std::string name_;
  std::unique_ptr<dev::TunDevice> tun_;
  std::unique_ptr<dev::Device> pcap_;
  std::unique_ptr<dev::FaultInjector> faults_;
  std::unique_ptr<Stack> stack_;
  std::unique_ptr<EventLoop> loop_;
  std::unordered_map<SocketId, tcp::State> states_;
  bool steered_ = false;
};

// With --stats: every counter summed over the runtimes under its usual name, then each
// runtime's own as "queue<i>.<name>".
void print_group_stats_if_asked(const std::vector<std::unique_ptr<Runtime>>& runtimes);

// Turns SIGINT and SIGTERM into a readable descriptor on the loop (signalfd), so the tool
// can exit cleanly from its own loop instead of being killed mid-connection.
class SignalWatcher {
 public:
  SignalWatcher(EventLoop& loop, std::function<void(int signo)> on_signal);
  // Blocks SIGINT and SIGTERM in the calling thread (threads started later inherit it), so
  // they wait for a signalfd instead of killing the process.
  static void block_signals();
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  EventLoop& loop_;
  int fd_ = -1;
};

// Parses argv with `app` and runs `body`, turning exceptions into "<tool>: <what>" and
// exit status 1; a bad command line (CLI11's errors, UsageError) is one line and status 2.
int run_main(CLI::App& app, int argc, char** argv, const std::function<int()>& body);
// run_main's second half: runs `body` (after the command line was parsed, and its parser
// perhaps freed), with the same messages and exit statuses for what it throws.
int run_body(const std::string& tool_name, const std::function<int()>& body);

}  // namespace utcp::tools
