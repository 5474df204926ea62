// SPDX-License-Identifier: BSD-2-Clause
#include "common_options.hpp"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "dev/tun_steering.hpp"

#ifdef UTCP_HAVE_PCAP
#include "pcap_tap.hpp"
#endif

namespace utcp::tools {

namespace {

struct Prefix {
  Ipv4Addr addr;
  uint8_t len = 24;
};

Prefix parse_prefix(const std::string& text) {
  const size_t slash = text.find('/');
  Prefix p;
  const auto addr = Ipv4Addr::parse(std::string_view(text).substr(0, slash));
  if (!addr) throw UsageError("'" + text + "' is not A.B.C.D/N");
  p.addr = *addr;
  if (slash != std::string::npos) {
    const std::string len = text.substr(slash + 1);
    if (len.empty() || len.size() > 2 || len.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(len) > 32) {
      throw UsageError("'" + text + "': the prefix length must be 0..32");
    }
    p.len = static_cast<uint8_t>(std::stoi(len));
  }
  return p;
}

struct Prefix6 {
  Ipv6Addr addr;
  uint8_t len = 64;
};

// A unicast address someone can hold on the link: not ::, ::1, multicast or IPv4-mapped.
std::optional<Ipv6Addr> parse_unicast6(std::string_view text) {
  const auto a = Ipv6Addr::parse(text);
  if (!a || a->is_unspecified() || a->is_loopback() || a->is_multicast() || a->is_v4_mapped()) {
    return std::nullopt;
  }
  return a;
}

Prefix6 parse_prefix6(const std::string& text) {
  const size_t slash = text.find('/');
  Prefix6 p;
  const auto addr = parse_unicast6(std::string_view(text).substr(0, slash));
  if (!addr) throw UsageError("'" + text + "' is not a unicast IPv6 ADDR/N");
  p.addr = *addr;
  if (slash != std::string::npos) {
    const std::string len = text.substr(slash + 1);
    if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(len) > 128) {
      throw UsageError("'" + text + "': the prefix length must be 0..128");
    }
    p.len = static_cast<uint8_t>(std::stoi(len));
  }
  return p;
}

dev::FaultConfig fault_config(const CommonOptions& o) {
  dev::FaultConfig f;
  f.drop = o.drop;
  f.duplicate = o.dup;
  f.reorder = o.reorder;
  f.corrupt = o.corrupt;
  f.delay = Duration(static_cast<int64_t>(o.delay_ms * 1000));
  f.jitter = Duration(static_cast<int64_t>(o.jitter_ms * 1000));
  f.rate_mbps = o.rate_mbit;
  f.rate_burst_bytes = 16 * o.mtu;  // a few packets may pass back to back, like a real queue
  return f;
}

void print_counter(const char* group, std::string_view name, uint64_t value) {
  std::fprintf(stderr, "%s%.*s %llu\n", group, static_cast<int>(name.size()), name.data(),
               static_cast<unsigned long long>(value));
}

using Stats = std::vector<std::pair<std::string, uint64_t>>;

void add_fault_counters(Stats& out, const char* dir, const dev::FaultCounters& c) {
  const std::string g = std::string("fault.") + dir + ".";
  out.emplace_back(g + "seen", c.seen);
  out.emplace_back(g + "delivered", c.delivered);
  out.emplace_back(g + "dropped", c.dropped);
  out.emplace_back(g + "duplicated", c.duplicated);
  out.emplace_back(g + "corrupted", c.corrupted);
  out.emplace_back(g + "reordered", c.reordered);
  out.emplace_back(g + "rate_dropped", c.rate_dropped);
  out.emplace_back(g + "queue_dropped", c.queue_dropped);
}

dev::TunOptions tun_options(const CommonOptions& options, const Prefix& host, const Ipv6Setup& v6) {
  dev::TunOptions t;
  t.name = options.tun;
  t.mtu = options.mtu;
  t.txqueuelen = options.txqueuelen;
  t.kernel_address = host.addr;
  t.prefix_len = host.len;
  if (v6.enabled) {
    t.kernel_address6 = v6.host;
    t.prefix6 = v6.prefix;
  }
  // The fault injector and the pcap tap copy packets and would lose the offload metadata
  // (partial checksums, 64 KB frames), so they run on plain packets.
  t.offload = !options.no_offload && !options.any_fault() && options.pcap.empty();
  for (const std::string& text : options.routes) {
    const auto p = IpPrefix::parse(text);
    if (!p) throw UsageError("--route '" + text + "' is not ADDR/N");
    if (p->addr.is_v6() && !v6.enabled) {
      throw UsageError("--route " + text + " needs IPv6 on the TUN, which is off");
    }
    t.routes.push_back(*p);
  }
  return t;
}

}  // namespace

Ipv6Setup resolve_ipv6(const CommonOptions& o) {
  Ipv6Setup v6;
  if (o.no_ipv6) return v6;
  const auto addr = parse_unicast6(o.addr6);
  if (!addr) throw UsageError("--addr6 '" + o.addr6 + "' is not a unicast IPv6 address");
  const Prefix6 host = parse_prefix6(o.host_addr6);
  if (host.addr == *addr)
    throw UsageError("--addr6 and --host-addr6 must differ (" + o.addr6 + ")");
  if (o.mtu < 1280) {
    // RFC 8200 §5: an IPv6 link carries 1280-byte packets; the kernel turns IPv6 off below.
    if (o.ipv6_given) {
      throw UsageError("--mtu " + std::to_string(o.mtu) +
                       " is below IPv6's minimum of 1280: give --no-ipv6 or a larger --mtu");
    }
    v6.off_why = "IPv6 off: --mtu " + std::to_string(o.mtu) + " is below its minimum of 1280";
    return v6;
  }
  if (::access("/proc/sys/net/ipv6", F_OK) != 0 && !o.ipv6_given) {
    v6.off_why = "IPv6 off: the kernel has no IPv6";
    return v6;
  }
  v6.enabled = true;
  v6.addr = *addr;
  v6.host = host.addr;
  v6.prefix = host.len;
  return v6;
}

std::string format_endpoint(const IpAddr& addr, uint16_t port) {
  const std::string a = addr.to_string();
  return (addr.is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(port);
}

std::optional<IpAddr> parse_host(std::string_view text) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    const auto v6 = Ipv6Addr::parse(text.substr(1, text.size() - 2));
    if (!v6) return std::nullopt;
    return IpAddr(*v6);
  }
  return IpAddr::parse(text);
}

std::optional<uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != text.npos) {
    return std::nullopt;
  }
  const unsigned long p = std::stoul(std::string(text));
  if (p == 0 || p > 65535) return std::nullopt;
  return static_cast<uint16_t>(p);
}

std::optional<std::pair<IpAddr, uint16_t>> parse_host_port(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == text.npos) return std::nullopt;
  const std::string_view host = text.substr(0, colon);
  // Without brackets an IPv6 address's last group would be read as the port.
  if (host.find(':') != host.npos && host.front() != '[') return std::nullopt;
  const auto addr = parse_host(host);
  const auto port = parse_port(text.substr(colon + 1));
  if (!addr || !port) return std::nullopt;
  return std::pair{*addr, *port};
}

bool CommonOptions::any_fault() const {
  return drop > 0 || dup > 0 || reorder > 0 || corrupt > 0 || delay_ms > 0 || jitter_ms > 0 ||
         rate_mbit > 0;
}

// CLI11 validators (an empty string means valid), so a bad address is a parse error: exit 2.
std::string check_ipv4(const std::string& text) {
  return Ipv4Addr::parse(text) ? "" : "'" + text + "' is not an IPv4 address (A.B.C.D)";
}

std::string check_prefix(const std::string& text) {
  try {
    parse_prefix(text);
    return "";
  } catch (const UsageError& e) {
    return e.what();
  }
}

std::string check_ipv6(const std::string& text) {
  return parse_unicast6(text) ? "" : "'" + text + "' is not a unicast IPv6 address";
}

std::string check_prefix6(const std::string& text) {
  try {
    parse_prefix6(text);
    return "";
  } catch (const UsageError& e) {
    return e.what();
  }
}

void add_common_options(CLI::App& app, CommonOptions& o) {
  app.set_version_flag("--version", app.get_name() + " " + UTCP_TOOLS_VERSION);
  app.add_option("--tun", o.tun, "TUN interface name")->capture_default_str();
  app.add_option("--addr", o.addr, "the stack's IPv4 address")
      ->check(CLI::Validator(check_ipv4, "A.B.C.D"))
      ->capture_default_str();
  app.add_option("--host-addr", o.host_addr, "the kernel's address/prefix on the TUN link")
      ->check(CLI::Validator(check_prefix, "A.B.C.D/N"))
      ->capture_default_str();
  const auto given = [&o](const std::string&) { o.ipv6_given = true; };
  auto* addr6 = app.add_option("--addr6", o.addr6, "the stack's IPv6 address")
                    ->check(CLI::Validator(check_ipv6, "ADDR"))
                    ->each(given)
                    ->capture_default_str();
  auto* host6 =
      app.add_option("--host-addr6", o.host_addr6, "the kernel's IPv6 address/prefix on the link")
          ->check(CLI::Validator(check_prefix6, "ADDR/N"))
          ->each(given)
          ->capture_default_str();
  app.add_flag("--no-ipv6", o.no_ipv6, "IPv4 only: no IPv6 address on either side")
      ->excludes(addr6)
      ->excludes(host6);
  app.add_option("--mtu", o.mtu, "interface MTU (IPv6 needs 1280 or more)")
      ->check(CLI::Range(68, 65535))
      ->capture_default_str();
  app.add_option("--txqueuelen", o.txqueuelen,
                 "packets the kernel queues for the TUN before dropping (0: its default, 500)")
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  app.add_option("--pcap", o.pcap, "record every packet to this pcap file");
  const auto prob = CLI::Range(0.0, 1.0);
  app.add_option("--drop", o.drop, "probability a packet is lost (each direction)")->check(prob);
  app.add_option("--dup", o.dup, "probability a packet is duplicated")->check(prob);
  app.add_option("--reorder", o.reorder, "probability a packet is held back behind the next")
      ->check(prob);
  app.add_option("--corrupt", o.corrupt, "probability one bit of a packet is flipped")->check(prob);
  app.add_option("--delay", o.delay_ms, "extra one-way delay, ms")->check(CLI::Range(0.0, 60000.0));
  app.add_option("--jitter", o.jitter_ms, "extra random delay up to this many ms")
      ->check(CLI::Range(0.0, 60000.0));
  app.add_option("--rate", o.rate_mbit, "bottleneck rate in Mbit/s (0: unlimited)")
      ->check(CLI::Range(0.0, 1e6));
  app.add_option("--seed", o.seed, "seed of the fault injector's random choices")
      ->capture_default_str();
  app.add_flag("-v,--verbose", o.verbose, "one line per segment and state change on stderr");
  app.add_flag("--stats", o.stats, "print the stack's counters to stderr on exit");
  app.add_option("--cc", o.cc, "congestion controller")
      ->check(CLI::IsMember({"cubic", "cubic+hystart", "cubic-rfc9438", "newreno", "reno"}))
      ->capture_default_str();
  app.add_flag("--no-pacing", o.no_pacing,
               "no sender pacing: each window leaves as fast as the ACKs open it");
  app.add_flag("--no-offload", o.no_offload,
               "no TUN checksum/segmentation offload (one packet per read and write)");
  app.add_option("--buffer-memory", o.buffer_memory_mib,
                 "MiB all connections' buffers may hold (default 1024; past 3/4 of it the stack "
                 "is under memory pressure)")
      ->check(CLI::Range(1, 1 << 20));
}

void add_route_option(CLI::App& app, CommonOptions& o) {
  app.add_option("--route", o.routes,
                 "a prefix (A.B.C.D/N or IPV6/N) the kernel routes into the TUN; repeatable")
      ->check(CLI::Validator(
          [](const std::string& text) {
            return IpPrefix::parse(text) ? "" : "'" + text + "' is not A.B.C.D/N or IPV6/N";
          },
          "CIDR"))
      ->allow_extra_args(false)
      ->take_all();
}

void add_threads_option(CLI::App& app, CommonOptions& o) {
  app.add_option("--threads", o.threads,
                 "stack threads: more than 1 opens a multi-queue TUN with one stack per queue")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
}

std::vector<std::unique_ptr<Runtime>> Runtime::open_queues(const CommonOptions& options,
                                                           const std::string& tool_name) {
  if (options.threads > 1 && !options.pcap.empty()) {
    throw UsageError("--pcap needs --threads 1");
  }
  // Checked before any queue is opened, as the constructors below would.
  const Prefix host = parse_prefix(options.host_addr);
  if (Ipv4Addr::parse(options.addr) == host.addr) {
    throw UsageError("--addr and --host-addr must differ (" + options.addr + ")");
  }
  const Ipv6Setup v6 = resolve_ipv6(options);
  dev::TunOptions t = tun_options(options, host, v6);
  t.queues = options.threads;
  auto queues = dev::TunDevice::open_queues(t);
  // The steering utcp::StackGroup uses; without it the driver's own flow table still keeps
  // each passive open on the queue its SYN arrived on, which is all a server needs.
  const dev::PortSteering steering(StackConfig{}.ephemeral_ports, queues.size());
  const int err = queues.size() > 1 ? steering.install(queues[0]->fd()) : 0;
  std::vector<std::unique_ptr<Runtime>> runtimes;
  for (size_t i = 0; i < queues.size(); ++i) {
    CommonOptions o = options;
    o.seed = options.seed + i;
    runtimes.push_back(std::make_unique<Runtime>(o, tool_name, std::move(queues[i])));
    runtimes.back()->steered_ = err == 0;
  }
  if (err != 0 && options.verbose) {
    runtimes[0]->log(std::string("eBPF queue steering refused (") + std::strerror(err) +
                     "): the TUN driver's flow table steers");
  }
  return runtimes;
}

Runtime::Runtime(const CommonOptions& options, std::string tool_name,
                 std::unique_ptr<dev::TunDevice> queue,
                 const std::function<void(StackConfig&)>& adjust)
    : options_(options), name_(std::move(tool_name)) {
  StackConfig config;
  const auto addr = Ipv4Addr::parse(options.addr);
  if (!addr) throw UsageError("--addr '" + options.addr + "' is not an IPv4 address");
  config.address = *addr;
  config.secret = StackConfig::random_secret();
  config.tcp.congestion_control = options_.cc;  // a view of options_, which outlives the stack
  if (options.buffer_memory_mib != 0) config.buffer_memory_limit = options.buffer_memory_mib << 20;
  config.tcp.pacing = !options_.no_pacing;
  const Prefix host = parse_prefix(options.host_addr);
  if (host.addr == config.address) {
    throw UsageError("--addr and --host-addr must differ (" + options.addr + ")");
  }
  // MSS, TSO segment size and checksum work: the Stack derives them from the device's
  // capabilities (MTU, offload), below.

  const Ipv6Setup v6 = resolve_ipv6(options);
  if (!v6.off_why.empty() && options.verbose) log(v6.off_why);
  // Dual stack unless IPv6 is off; then the Stack drops IPv6 and refuses IPv6 connects.
  config.ipv6 = v6.enabled;
  if (v6.enabled) config.address6 = v6.addr;

  tun_ =
      queue ? std::move(queue) : std::make_unique<dev::TunDevice>(tun_options(options, host, v6));
  dev::Device* device = tun_.get();

  if (!options.pcap.empty()) {
#ifdef UTCP_HAVE_PCAP
    pcap_ = std::make_unique<dev::PcapTap>(*device, options.pcap);
    device = pcap_.get();
#else
    throw UsageError("--pcap: this build has no libpcap (apt-get install libpcap-dev)");
#endif
  }
  if (options.any_fault()) {
    dev::FaultInjectorConfig fc;
    fc.tx = fault_config(options);
    fc.rx = fault_config(options);
    fc.seed = options.seed;
    faults_ = std::make_unique<dev::FaultInjector>(*device, fc);
    device = faults_.get();
    if (options.verbose) log("fault injector seed " + std::to_string(options.seed));
  }
  if (adjust) adjust(config);
  stack_ = std::make_unique<Stack>(*device, config);
  if (options.verbose) {
    stack_->set_trace([](char dir, std::string_view line) {
      std::fprintf(stderr, "%c %.*s\n", dir, static_cast<int>(line.size()), line.data());
    });
  }
  loop_ = std::make_unique<EventLoop>(*stack_, *device);
}

Runtime::~Runtime() {
  // Order: the loop and stack use the devices, the wrappers use the TUN.
  loop_.reset();
  stack_.reset();
  faults_.reset();
  pcap_.reset();
  tun_.reset();
}

std::vector<std::pair<std::string, uint64_t>> Runtime::stats() const {
  Stats out;
  for (const auto& [name, value] : stack_->counters()) out.emplace_back(name, value);
  out.emplace_back("stack.connections", stack_->connection_count());
  const dev::TunCounters& t = tun_->counters();
  out.emplace_back("tun.rx_packets", t.rx_packets);
  out.emplace_back("tun.rx_bytes", t.rx_bytes);
  out.emplace_back("tun.tx_packets", t.tx_packets);
  out.emplace_back("tun.tx_bytes", t.tx_bytes);
  out.emplace_back("tun.tx_rejected", t.tx_rejected);
  out.emplace_back("tun.tx_busy", t.tx_busy);
  out.emplace_back("tun.offload", tun_->offload_active() ? 1 : 0);
  out.emplace_back("tun.rx_gso_frames", t.rx_gso_frames);
  out.emplace_back("tun.rx_checksum_trusted", t.rx_checksum_trusted);
  out.emplace_back("tun.tx_gso_frames", t.tx_gso_frames);
  if (faults_) {
    add_fault_counters(out, "tx", faults_->tx_counters());
    add_fault_counters(out, "rx", faults_->rx_counters());
  }
  return out;
}

void Runtime::print_stats_if_asked() const {
  if (!options_.stats) return;
  for (const auto& [name, value] : stats()) print_counter("", name, value);
}

void print_group_stats_if_asked(const std::vector<std::unique_ptr<Runtime>>& runtimes) {
  if (runtimes.empty() || !runtimes[0]->options().stats) return;
  std::vector<Stats> each;
  for (const auto& rt : runtimes) each.push_back(rt->stats());
  // Every runtime lists the same names in the same order.
  for (size_t k = 0; k < each[0].size(); ++k) {
    uint64_t sum = 0;
    for (const Stats& s : each) sum += s[k].second;
    // A flag, not an amount.
    if (each[0][k].first == "tun.offload") sum = each[0][k].second;
    print_counter("", each[0][k].first, sum);
  }
  print_counter("tun.", "queues", runtimes.size());
  print_counter("tun.", "queue_steering_ebpf", runtimes[0]->queue_steering() ? 1 : 0);
  for (size_t i = 0; i < each.size(); ++i) {
    const std::string prefix = "queue" + std::to_string(i) + ".";
    for (const auto& [name, value] : each[i]) print_counter(prefix.c_str(), name, value);
  }
}

void Runtime::print_tcp_info_if_asked(SocketId s) const {
  if (!options_.stats) return;
  const auto i = stack_->tcp_info(s);
  if (!i) return;
  std::fprintf(stderr, "tcp_info.congestion_control %s\n", i->congestion_control);
  print_counter("tcp_info.", "sack", i->sack_enabled ? 1 : 0);
  print_counter("tcp_info.", "timestamps", i->ts_enabled ? 1 : 0);
  print_counter("tcp_info.", "snd_mss", i->snd_mss);
  print_counter("tcp_info.", "cwnd", i->cwnd);
  print_counter("tcp_info.", "ssthresh", i->ssthresh);
  print_counter("tcp_info.", "srtt_us", i->srtt_us);
  print_counter("tcp_info.", "rttvar_us", i->rttvar_us);
  print_counter("tcp_info.", "rto_us", i->rto_us);
  print_counter("tcp_info.", "min_rtt_us", i->min_rtt_us);
  print_counter("tcp_info.", "pacing_rate", i->pacing_rate);
  print_counter("tcp_info.", "rcv_space", i->rcv_space);
  print_counter("tcp_info.", "total_retrans", i->total_retrans);
  print_counter("tcp_info.", "fast_recoveries", i->fast_recoveries);
  print_counter("tcp_info.", "rto_count", i->rto_count);
  print_counter("tcp_info.", "tlp_probes", i->tlp_probes);
  print_counter("tcp_info.", "spurious_undos", i->spurious_undos);
  print_counter("tcp_info.", "dsacks_received", i->dsacks_received);
  print_counter("tcp_info.", "segs_out", i->segs_out);
  print_counter("tcp_info.", "segs_in", i->segs_in);
  print_counter("tcp_info.", "bytes_sent", i->bytes_sent);
  print_counter("tcp_info.", "bytes_acked", i->bytes_acked);
  print_counter("tcp_info.", "bytes_received", i->bytes_received);
}

void Runtime::log(const std::string& message) const {
  std::fprintf(stderr, "%s: %s\n", name_.c_str(), message.c_str());
}

void Runtime::observe_state(SocketId s) {
  if (!options_.verbose) return;
  const tcp::State now = stack_->state(s);
  auto [it, inserted] = states_.try_emplace(s, tcp::State::kClosed);
  if (!inserted && it->second == now) return;
  const Endpoint local = stack_->local_endpoint(s);
  const Endpoint remote = stack_->remote_endpoint(s);
  std::fprintf(stderr, "* %s > %s state %s -> %s\n",
               format_endpoint(local.addr, local.port).c_str(),
               format_endpoint(remote.addr, remote.port).c_str(),
               std::string(tcp::to_string(inserted ? tcp::State::kClosed : it->second)).c_str(),
               std::string(tcp::to_string(now)).c_str());
  it->second = now;
}

void Runtime::forget_state(SocketId s) {
  states_.erase(s);
}

namespace {
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

void SignalWatcher::block_signals() {
  const sigset_t set = stop_signals();
  // Blocked signals stay pending for the signalfd instead of killing the process.
  if (const int err = pthread_sigmask(SIG_BLOCK, &set, nullptr); err != 0) {
    throw std::system_error(err, std::generic_category(), "pthread_sigmask");
  }
}

SignalWatcher::SignalWatcher(EventLoop& loop, std::function<void(int)> on_signal) : loop_(loop) {
  block_signals();
  const sigset_t set = stop_signals();
  fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "signalfd");
  loop_.add_fd(fd_, EPOLLIN, [this, on_signal = std::move(on_signal)](uint32_t) {
    signalfd_siginfo info{};
    while (::read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      on_signal(static_cast<int>(info.ssi_signo));
    }
  });
}

SignalWatcher::~SignalWatcher() {
  loop_.remove_fd(fd_);
  ::close(fd_);
}

int run_main(CLI::App& app, int argc, char** argv, const std::function<int()>& body) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "%s: %s (see --help)\n", app.get_name().c_str(), e.what());
    return 2;
  }
  return run_body(app.get_name(), body);
}

int run_body(const std::string& tool_name, const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s (see --help)\n", tool_name.c_str(), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", tool_name.c_str(), e.what());
    return 1;
  }
}

}  // namespace utcp::tools
