// SPDX-License-Identifier: BSD-2-Clause
// The event loop of a script run. Every event has a time window; the port's virtual clock is
// moved to it with usleep(), outbound packets are pulled with netdev_receive() (which never
// moves the clock past the window's end), and socket calls run on threads of their own so a
// blocking call can wait while later events happen.
#include "runner.hpp"

#include <dlfcn.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cstring>
#include <deque>
#include <memory>
#include <ostream>
#include <sstream>
#include <thread>

#include "packet_codec.hpp"
#include "script_parser.hpp"
#include "syscall_exec.hpp"
#include "utcp/packetdrill_interface.h"
#include "wire/ipv4.hpp"
#include "wire/packet_format.hpp"
#include "wire/tcp.hpp"

namespace utcp::drill {

namespace {

constexpr int64_t kForever = 1'000'000'000;  // "*" and the end of a script: 1000 s
constexpr uint16_t kFirstRemotePort = 48'000;

std::string secs(int64_t usecs) {
  char b[32];
  std::snprintf(b, sizeof b, "%s%" PRId64 ".%06" PRId64, usecs < 0 ? "-" : "",
                (usecs < 0 ? -usecs : usecs) / 1'000'000, (usecs < 0 ? -usecs : usecs) % 1'000'000);
  return b;
}

// The packetdrill table plus utcp's runner extensions, from the linked-in port or a .so.
struct Binding {
  packetdrill_interface ifc{};
  utcp_packetdrill_set_receive_horizon_t set_horizon = nullptr;
  utcp_packetdrill_blocked_calls_t blocked = nullptr;
  utcp_packetdrill_last_return_usecs_t last_return = nullptr;
  utcp_packetdrill_stop_waiting_t stop_waiting = nullptr;
  void* dl = nullptr;

  bool load(const RunConfig& cfg, std::string& error) {
    packetdrill_interface_init_t init = packetdrill_interface_init;
    if (!cfg.so_path.empty()) {
      dl = dlopen(cfg.so_path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!dl) return error = dlerror(), false;
      init =
          reinterpret_cast<packetdrill_interface_init_t>(dlsym(dl, "packetdrill_interface_init"));
      set_horizon = reinterpret_cast<utcp_packetdrill_set_receive_horizon_t>(
          dlsym(dl, "utcp_packetdrill_set_receive_horizon"));
      blocked = reinterpret_cast<utcp_packetdrill_blocked_calls_t>(
          dlsym(dl, "utcp_packetdrill_blocked_calls"));
      last_return = reinterpret_cast<utcp_packetdrill_last_return_usecs_t>(
          dlsym(dl, "utcp_packetdrill_last_return_usecs"));
      stop_waiting = reinterpret_cast<utcp_packetdrill_stop_waiting_t>(
          dlsym(dl, "utcp_packetdrill_stop_waiting"));
      if (!init || !set_horizon || !blocked || !last_return || !stop_waiting) {
        return error = cfg.so_path + " lacks the packetdrill/utcp entry points", false;
      }
    } else {
      set_horizon = utcp_packetdrill_set_receive_horizon;
      blocked = utcp_packetdrill_blocked_calls;
      last_return = utcp_packetdrill_last_return_usecs;
      stop_waiting = utcp_packetdrill_stop_waiting;
    }
    // The runner moves the clock itself, from this thread only (see lib/packetdrill/port.hpp).
    std::string flags = "driven_clock local_ip=" + cfg.local_ip().to_string() + " " + cfg.so_flags;
    init(flags.c_str(), &ifc);
    if (!ifc.userdata) return error = "the port did not start (bad flags?)", false;
    return true;
  }
  ~Binding() {
    if (ifc.free) ifc.free(ifc.userdata);
    if (dl) dlclose(dl);
  }
};

// A socket call running on its own thread.
struct Job {
  const Event* event = nullptr;
  int64_t start = 0;  // script time
  std::optional<int64_t> end;
  std::thread thread;
  std::atomic<bool> done{false};
  CallResult result;
  int64_t returned_at = 0;  // script time
  bool checked = false;
};

class Runner {
 public:
  Runner(const Script& s, const RunConfig& cfg, std::ostream& log)
      : script_(s), cfg_(cfg), log_(log) {
    flow_.local_ip = cfg.local_ip();
    flow_.remote_ip = cfg.remote_ip();
  }

  RunResult run() {
    std::string error;
    if (!port_.load(cfg_, error)) return {Outcome::kFail, "cannot load the port: " + error};
    t0_ = clock();
    for (const Event& ev : script_.events) {
      if (!failure_.empty()) break;
      step(ev);
      check_jobs();
    }
    if (failure_.empty()) finish();
    teardown();
    if (!failure_.empty()) return {Outcome::kFail, failure_};
    return {Outcome::kPass, ""};
  }

 private:
  int64_t clock() {
    timeval tv{};
    port_.ifc.gettimeofday(port_.ifc.userdata, &tv, nullptr);
    return int64_t{tv.tv_sec} * 1'000'000 + tv.tv_usec;
  }
  int64_t now() { return clock() - t0_; }

  void fail(const Event* ev, const std::string& what) {
    if (!failure_.empty()) return;
    std::ostringstream s;
    if (ev) s << script_.path << ":" << ev->line << ": " << ev->text << "\n  ";
    s << what;
    if (!trace_.empty()) {
      s << "\n  packets before it (script time, script terms):";
      for (const std::string& t : trace_) s << "\n    " << t;
    }
    failure_ = s.str();
  }

  int64_t tolerance(int64_t nominal) const {
    int64_t tol = cfg_.tolerance_usecs;
    if (cfg_.tolerance_percent > 0) {
      tol = std::max(tol, static_cast<int64_t>(static_cast<double>(nominal - base_) *
                                               cfg_.tolerance_percent / 100.0));
    }
    return tol;
  }

  // Moves the clock to script time t; anything the stack sends meanwhile was not expected.
  void sleep_to(int64_t t, const Event* ev) {
    // useconds_t is 32 bits: sleep in steps of at most 1000 s.
    for (int64_t n = now(); t > n; n = now()) {
      port_.ifc.usleep(port_.ifc.userdata,
                       static_cast<useconds_t>(std::min<int64_t>(t - n, 1'000'000'000)));
    }
    wait_quiet();
    check_no_outbound(ev);
  }

  void check_no_outbound(const Event* ev) {
    uint8_t buf[65536];
    port_.set_horizon(port_.ifc.userdata, clock());
    size_t count = sizeof buf;
    long long at = 0;
    port_.ifc.netdev_receive(port_.ifc.userdata, buf, &count, &at);
    if (count == 0) return;
    std::string err;
    auto o = decode_outbound({buf, count}, flow_, err);
    fail(ev, "unexpected outbound packet at " + secs(at - t0_) + ": " +
                 (o ? o->text : err + " " + format_packet({buf, count})));
  }

  void step(const Event& ev) {
    const TimeSpec& t = ev.time;
    int64_t start = 0;
    int64_t end = 0;
    switch (t.kind) {
      case TimeSpec::Kind::kAny:
        start = now();
        end = start + kForever;
        break;
      case TimeSpec::Kind::kAbsolute:
        start = t.start_usecs;
        break;
      case TimeSpec::Kind::kRelative:
        start = base_ + t.start_usecs;
        break;
    }
    if (t.kind != TimeSpec::Kind::kAny) {
      end = start;
      if (t.range_end_usecs)
        end = t.range_end_relative ? base_ + *t.range_end_usecs : *t.range_end_usecs;
    }
    const int64_t tol = t.kind == TimeSpec::Kind::kAny ? 0 : tolerance(start);
    if (cfg_.verbose)
      log_ << "  [" << secs(now()) << "] line " << ev.line << ": " << ev.text << "\n";
    if (ev.is_packet && ev.packet.direction == '>') {
      expect(ev, start - tol, end + tol);
      return;
    }
    if (start < now() - tol && t.kind != TimeSpec::Kind::kAny) {
      fail(&ev,
           "the script is already at " + secs(now()) + ", past this event's time " + secs(start));
      return;
    }
    sleep_to(std::max(start, now()), &ev);
    if (!failure_.empty()) return;
    base_ = t.kind == TimeSpec::Kind::kAny ? now() : start;
    if (ev.is_packet) {
      inject(ev);
    } else {
      call(ev, start, t);
    }
  }

  void inject(const Event& ev) {
    const PacketSpec& p = ev.packet;
    const bool pure_syn = !p.icmp && (p.flags & 0x02) && !(p.flags & 0x10);
    if (!flow_.known || (pure_syn && new_passive_)) {
      flow_.known = true;
      flow_.local_port = cfg_.bind_port;
      flow_.remote_port = next_remote_port_++;
      flow_.local_isn.reset();
      flow_.ts_offset.reset();
      new_passive_ = false;
    }
    // A new SYN may start a new incarnation: the next SYN we send carries a fresh ISN.
    if (pure_syn) relearn_isn_ = true;
    std::string error;
    const std::vector<uint8_t> bytes = build_inbound(p, flow_, error);
    if (bytes.empty()) {
      fail(&ev, error);
      return;
    }
    if (cfg_.verbose) log_ << "    < " << format_packet(bytes) << "\n";
    remember(secs(now()) + " " + describe_spec(p));
    if (port_.ifc.netdev_send(port_.ifc.userdata, bytes.data(), bytes.size()) != 0) {
      fail(&ev, "netdev_send failed");
    }
    wait_quiet();
  }

  // Pulls one outbound packet no later than `hi`; false if none came.
  bool receive(int64_t hi, std::vector<uint8_t>& out, int64_t& at) {
    out.resize(65536);
    port_.set_horizon(port_.ifc.userdata, t0_ + hi);
    size_t count = out.size();
    long long when = 0;
    port_.ifc.netdev_receive(port_.ifc.userdata, out.data(), &count, &when);
    wait_quiet();
    out.resize(count);
    at = when - t0_;
    return count > 0;
  }

  void expect(const Event& ev, int64_t lo, int64_t hi) {
    const PacketSpec& want = ev.packet;
    uint32_t seq = want.seq;
    uint32_t left = want.len;
    bool first = true;
    for (;;) {
      std::vector<uint8_t> bytes;
      int64_t at = 0;
      if (!receive(first ? hi : std::max(hi, now()), bytes, at)) {
        fail(&ev, std::string(first ? "expected packet did not come"
                                    : "the rest of the data did not come") +
                      " by " + secs(hi) + "\n  expected: " + describe_spec(want));
        return;
      }
      std::string err;
      // A SYN we send defines the flow for an active open.
      auto peek = decode_outbound(bytes, flow_, err);
      if (peek && (peek->flags & 0x02) && !(peek->flags & 0x10) && (!flow_.known || new_active_)) {
        flow_.known = true;
        flow_.local_port = peek->src_port;
        flow_.remote_port = peek->dst_port;
        flow_.local_isn = peek->rel_seq + flow_.local_isn.value_or(0);
        flow_.ts_offset.reset();
        new_active_ = false;
        peek = decode_outbound(bytes, flow_, err);
      }
      if (peek && relearn_isn_ && (peek->flags & 0x02) && flow_.local_isn) {
        flow_.local_isn = peek->rel_seq + *flow_.local_isn;
        flow_.ts_offset.reset();
        peek = decode_outbound(bytes, flow_, err);
      }
      relearn_isn_ = false;
      if (!peek) {
        fail(&ev, "outbound packet at " + secs(at) + " is not a valid TCP segment: " + err + ": " +
                      format_packet(bytes));
        return;
      }
      learn_ts(want, bytes);
      if (first && at < lo) {
        fail(&ev, "packet came too early, at " + secs(at) + " (window " + secs(lo) + " to " +
                      secs(hi) + ")\n  actual: " + peek->text);
        return;
      }
      const bool can_merge = !cfg_.strict_segments && peek->len > 0 && peek->len < left &&
                             !(peek->flags & 0x07) && peek->rel_seq == seq;
      const uint32_t piece = can_merge ? peek->len : left;
      const std::string diff = match_outbound(want, *peek, bytes, flow_, seq, piece, !can_merge);
      if (!diff.empty()) {
        fail(&ev, "outbound packet differs (" + diff + ") at " + secs(at) +
                      "\n  expected: " + describe_spec(want) + "\n  actual:   " + peek->text);
        return;
      }
      if (cfg_.verbose) log_ << "    > " << peek->text << " at " << secs(at) << "\n";
      remember(secs(at) + " " + peek->text);
      if (first) base_ = at;
      first = false;
      if (!can_merge) return;
      seq += piece;
      left -= piece;
    }
  }

  // The last few packets each way, shown with a failure.
  void remember(std::string line) {
    if (trace_.size() == 8) trace_.pop_front();
    trace_.push_back(std::move(line));
  }

  void learn_ts(const PacketSpec& want, std::span<const uint8_t> bytes) {
    if (flow_.ts_offset || want.any_options) return;
    for (const TcpOptionSpec& o : want.options) {
      if (o.kind != TcpOptionSpec::Kind::kTimestamp) continue;
      const auto tcp = tcp_of(bytes);
      if (!tcp || !tcp->options().timestamps) return;
      flow_.ts_offset = static_cast<int64_t>(tcp->options().timestamps->tsval) - o.a;
    }
  }

  void call(const Event& ev, int64_t start, const TimeSpec& t) {
    const std::string& name = ev.call.name;
    if (name == "listen") new_passive_ = true;
    if (name == "connect") new_active_ = true;
    for (auto& j : jobs_) {
      if (!j->done) {
        if (!ev.time.blocking_end_usecs) break;
        fail(&ev, "a blocking call is already in progress (line " + std::to_string(j->event->line) +
                      ")");
        return;
      }
    }
    auto job = std::make_unique<Job>();
    job->event = &ev;
    job->start = start;
    if (t.blocking_end_usecs) {
      job->end = t.kind == TimeSpec::Kind::kAbsolute ? *t.blocking_end_usecs
                                                     : base_ + *t.blocking_end_usecs;
    }
    const bool v4 = cfg_.ip_version == RunConfig::IpVersion::kIpv4;
    CallContext ctx{&port_.ifc,
                    cfg_.local_ip(),
                    cfg_.remote_ip(),
                    v4 ? AF_INET : AF_INET6,
                    cfg_.bind_port,
                    cfg_.connect_port,
                    &fds_};
    Job* j = job.get();
    auto last_return = port_.last_return;
    void* ud = port_.ifc.userdata;
    const int64_t t0 = t0_;
    j->thread = std::thread([j, ctx, last_return, ud, t0] {
      j->result = execute_call(j->event->call, ctx);
      j->returned_at = last_return(ud) - t0;
      j->done = true;
    });
    jobs_.push_back(std::move(job));
    wait_quiet();
    if (!j->done && !j->end) {
      fail(&ev, "the call blocked; mark a blocking call with its return time (start...end)");
      return;
    }
    check_jobs();
  }

  // Waits until every running call has returned or is blocked inside the port.
  void wait_quiet() {
    for (;;) {
      int running = 0;
      for (auto& j : jobs_) running += !j->done;
      if (running == 0) return;
      if (port_.blocked(port_.ifc.userdata) >= running) return;
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }

  void check_jobs() {
    for (auto& j : jobs_) {
      if (!j->done || j->checked) continue;
      j->checked = true;
      j->thread.join();
      verify_call(*j);
    }
  }

  void verify_call(const Job& j) {
    const Event& ev = *j.event;
    const SyscallSpec& c = ev.call;
    const CallResult& r = j.result;
    if (!r.mismatch.empty() && r.ret == -2) {
      fail(&ev, r.mismatch);
      return;
    }
    const int64_t end = j.end.value_or(j.start);
    const int64_t tol = tolerance(end);
    if (j.returned_at < end - tol || j.returned_at > end + tol) {
      fail(&ev, "the call returned at " + secs(j.returned_at) + ", expected at " + secs(end));
      return;
    }
    std::string got = std::to_string(r.ret);
    if (r.ret == -1) {
      // Appended piece by piece: g++ 12 -O3 reports a false -Wrestrict on `" " + std::string`.
      got += ' ';
      got += errno_name(r.err);
      got += " (";
      got += std::strerror(r.err);
      got += ')';
    }
    if (c.ret.kind == Expr::Kind::kInt && r.ret != c.ret.value) {
      fail(&ev, "returned " + got + ", expected " + std::to_string(c.ret.value) +
                    (c.errno_name.empty() ? "" : " " + c.errno_name));
      return;
    }
    if (!c.errno_name.empty() && r.ret == -1 && *errno_value(c.errno_name) != r.err) {
      fail(&ev, "returned " + got + ", expected errno " + c.errno_name);
      return;
    }
    if (!r.mismatch.empty()) fail(&ev, r.mismatch);
  }

  void finish() {
    wait_quiet();
    check_jobs();
    // Let blocking calls reach the time the script says they return.
    int64_t last_end = -1;
    for (auto& j : jobs_) {
      if (!j->done && j->end) last_end = std::max(last_end, *j->end + tolerance(*j->end));
    }
    if (last_end > now()) {
      for (auto& j : jobs_) {
        if (j->done || !j->end) continue;
        sleep_to(std::min(*j->end, last_end), j->event);
        check_jobs();
      }
      if (failure_.empty()) sleep_to(last_end, nullptr);
      check_jobs();
    }
    check_no_outbound(nullptr);
    // A reply the stack owes (a delayed ACK is due within 500 ms, RFC 9293 §3.8.6.3) must be
    // in the script too: look a little past the last event.
    if (failure_.empty() && cfg_.end_wait_usecs > 0) sleep_to(now() + cfg_.end_wait_usecs, nullptr);
    for (auto& j : jobs_) {
      if (!j->done) fail(j->event, "the call was still blocked when the script ended");
    }
  }

  void teardown() {
    port_.stop_waiting(port_.ifc.userdata);
    for (auto& j : jobs_) {
      if (j->thread.joinable()) j->thread.join();
    }
  }

  const Script& script_;
  const RunConfig& cfg_;
  std::ostream& log_;
  Binding port_;
  FdMap fds_;
  Flow flow_;
  int64_t t0_ = 0;
  int64_t base_ = 0;
  bool new_passive_ = false;
  bool new_active_ = false;
  bool relearn_isn_ = false;
  uint16_t next_remote_port_ = kFirstRemotePort;
  std::vector<std::unique_ptr<Job>> jobs_;
  std::string failure_;
  std::deque<std::string> trace_;
};

std::optional<int64_t> to_int(const std::string& v) {
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
  return out;
}

}  // namespace

bool apply_option(RunConfig& cfg, const std::string& name, const std::string& value,
                  std::string& error) {
  auto bad = [&] { return error = "bad value '" + value + "' for --" + name, false; };
  if (name == "tolerance_usecs") {
    auto v = to_int(value);
    if (!v || *v < 0) return bad();
    cfg.tolerance_usecs = *v;
  } else if (name == "tolerance_percent") {
    auto v = to_int(value);
    if (!v || *v < 0) return bad();
    cfg.tolerance_percent = static_cast<double>(*v);
  } else if (name == "strict_segments") {
    cfg.strict_segments = value.empty() || value == "1" || value == "true";
  } else if (name == "local_ip" || name == "remote_ip") {
    // Either family, matching --ip_version when the run starts (see RunConfig).
    auto a = IpAddr::parse(value);
    if (!a) return bad();
    (name == "local_ip" ? cfg.local_ip_set : cfg.remote_ip_set) = *a;
  } else if (name == "bind_port" || name == "connect_port") {
    auto v = to_int(value);
    if (!v || *v <= 0 || *v > 65535) return bad();
    (name == "bind_port" ? cfg.bind_port : cfg.connect_port) = static_cast<uint16_t>(*v);
  } else if (name == "end_wait_usecs") {
    auto v = to_int(value);
    if (!v || *v < 0) return bad();
    cfg.end_wait_usecs = *v;
  } else if (name == "ip_version") {
    if (value == "ipv4") {
      cfg.ip_version = RunConfig::IpVersion::kIpv4;
    } else if (value == "ipv4-mapped-ipv6") {
      cfg.ip_version = RunConfig::IpVersion::kIpv4MappedIpv6;
    } else if (value == "ipv6") {
      cfg.ip_version = RunConfig::IpVersion::kIpv6;
    } else {
      return error = "--ip_version must be ipv4, ipv4-mapped-ipv6 or ipv6", false;
    }
  } else if (name == "so_flags") {
    cfg.so_flags += " " + value;
  } else {
    return error = "unknown option --" + name, false;
  }
  return true;
}

IpAddr RunConfig::local_ip() const {
  if (local_ip_set) return *local_ip_set;
  if (ip_version == IpVersion::kIpv6) return Ipv6Addr(0xfd3d, 0xfa7b, 0xd17d, 0, 0, 0, 0, 0);
  return Ipv4Addr(192, 168, 0, 1);
}

IpAddr RunConfig::remote_ip() const {
  if (remote_ip_set) return *remote_ip_set;
  if (ip_version == IpVersion::kIpv6) return Ipv6Addr(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
  return Ipv4Addr(192, 0, 2, 1);
}

RunResult run_script(const Script& script, const RunConfig& cfg_in, std::ostream& log) {
  if (!script.unsupported.empty()) {
    return {Outcome::kSkip, "unsupported: " + script.unsupported};
  }
  RunConfig cfg = cfg_in;
  for (const auto& [name, value] : script.options) {
    std::string error;
    if (!apply_option(cfg, name, value, error)) return {Outcome::kFail, script.path + ": " + error};
  }
  // The addresses must be of the family the packets carry.
  const bool v6 = cfg.ip_version == RunConfig::IpVersion::kIpv6;
  if (cfg.local_ip().is_v6() != v6 || cfg.remote_ip().is_v6() != v6) {
    return {Outcome::kFail, script.path + ": --local_ip/--remote_ip must be " +
                                (v6 ? "IPv6" : "IPv4") + " addresses for this --ip_version"};
  }
  Runner r(script, cfg, log);
  return r.run();
}

}  // namespace utcp::drill
