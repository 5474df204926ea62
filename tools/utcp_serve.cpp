// SPDX-License-Identifier: BSD-2-Clause
// utcp-serve: a long-running server of many concurrent connections over utcp, any
// combination of echo (RFC 862, over TCP and with --udp-echo over UDP), discard (RFC 863),
// chargen (RFC 864) and HTTP/1.1 static files. SIGINT or SIGTERM closes everything and exits 0
// (printing --stats). --threads N runs one stack per queue of a multi-queue TUN, each on its own
// thread. --idle-timeout and
// --header-timeout reap connections that send nothing, or a request head too slowly.
#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "byte_queue.hpp"
#include "common_options.hpp"
#include "conn_timeouts.hpp"
#include "connection_options.hpp"
#include "deadline_timer.hpp"
#include "heap_trim.hpp"
#include "http_handler.hpp"
#include "utcp/stack_group.hpp"

namespace utcp::tools {
namespace {

enum class Service { kEcho, kDiscard, kChargen, kHttp };

const char* service_name(Service s) {
  switch (s) {
    case Service::kEcho:
      return "echo";
    case Service::kDiscard:
      return "discard";
    case Service::kChargen:
      return "chargen";
    case Service::kHttp:
      return "http";
  }
  return "?";
}

// The most one connection keeps of what the stack did not take (an echo's reply, an HTTP
// response chunk), and the size of the one scratch buffer all connections share.
constexpr size_t kConnBuffer = 64 * 1024;

// RFC 864: lines of 72 printable characters, each starting one character later than the
// last; after 95 lines the pattern repeats.
std::string chargen_pattern() {
  std::string p;
  for (int line = 0; line < 95; ++line) {
    for (int i = 0; i < 72; ++i) p += static_cast<char>(' ' + (line + i) % 95);
    p += "\r\n";
  }
  return p;
}

struct Conn {
  Service kind;
  // Bytes produced that the stack's send buffer had no room for; allocated only while it
  // holds some (ByteQueue::append), freed once drained.
  ByteQueue out{kConnBuffer};
  bool peer_fin = false;
  bool queued = false;  // already in the ready list
  size_t chargen_pos = 0;
  std::unique_ptr<HttpSession> http;
};

// How many connections the timeouts closed (printed with --stats).
struct ReapCounts {
  uint64_t idle = 0;
  uint64_t header = 0;
  uint64_t heap_trims = 0;  // not a reap: printed with them
};

class Server {
 public:
  Server(Runtime& rt, std::string root, const ConnectionOptions& conn_options)
      : rt_(rt),
        st_(rt.stack()),
        loop_(rt.loop()),
        root_(std::move(root)),
        conn_options_(conn_options),
        timeouts_(conn_options.timeouts()),
        timer_(loop_, [this] { reap(); }),
        trimmer_(loop_) {
    st_.set_readiness_callback([this](SocketId s, uint32_t) { note_ready(s); });
    loop_.add_after_process([this] {
      serve_ready();
      timer_.arm(timeouts_.next_deadline());
      note_memory();
    });
  }

  ReapCounts reaped() const {
    ReapCounts r = reaped_;
    r.heap_trims = trimmer_.trims();
    return r;
  }

  void listen(Service kind, uint16_t port) {
    std::error_code ec;
    const SocketId l = st_.listen(port, ec);
    if (ec) {
      throw std::system_error(ec, std::string("cannot listen on port ") + std::to_string(port) +
                                      " (" + service_name(kind) + ")");
    }
    listeners_[l] = kind;
  }

  // RFC 862 over UDP: every datagram goes back to its sender. One socket per family (an
  // IPv6 socket is IPv6-only).
  void udp_echo(uint16_t port) {
    std::vector<IpAddr> wildcards{IpAddr(Ipv4Addr())};
    if (st_.config().ipv6) wildcards.emplace_back(Ipv6Addr());
    for (const IpAddr& any : wildcards) {
      std::error_code ec;
      const SocketId s = st_.udp_bind(Endpoint{any, port}, ec);
      if (ec) {
        throw std::system_error(ec, "cannot bind UDP port " + std::to_string(port) + " (echo)");
      }
      udp_echo_.push_back(s);
    }
  }

  int run() {
    bool stopping = false;
    SignalWatcher signals(loop_, [&](int) {
      stopping = true;
      loop_.stop();
    });
    loop_.run();
    if (stopping) shut_down();
    return 0;
  }

  // Closes the listeners and every connection gracefully, running the loop a moment longer.
  void shut_down() {
    for (const auto& [l, kind] : listeners_) st_.close(l);
    listeners_.clear();
    for (SocketId u : udp_echo_) st_.close(u);
    udp_echo_.clear();
    std::vector<SocketId> open;
    for (const auto& [s, c] : conns_) open.push_back(s);
    for (SocketId s : open) close(s);
    // A short grace period for the FINs to go out and be acknowledged.
    loop_.run_until([] { return false; }, EventLoop::clock_now() + Duration(300'000));
  }

 private:
  void note_ready(SocketId s) {
    if (auto it = conns_.find(s); it != conns_.end()) {
      if (!it->second->queued) {
        it->second->queued = true;
        ready_.push_back(s);
      }
    } else if (listeners_.count(s) != 0 ||
               std::find(udp_echo_.begin(), udp_echo_.end(), s) != udp_echo_.end()) {
      ready_.push_back(s);
    }
  }

  void serve_ready() {
    work_.swap(ready_);
    for (SocketId s : work_) {
      if (auto l = listeners_.find(s); l != listeners_.end()) {
        accept_all(s, l->second);
      } else if (auto c = conns_.find(s); c != conns_.end()) {
        c->second->queued = false;
        serve(s, *c->second);
      } else if (std::find(udp_echo_.begin(), udp_echo_.end(), s) != udp_echo_.end()) {
        echo_datagrams(s);
      }
    }
    work_.clear();
  }

  void echo_datagrams(SocketId s) {
    for (;;) {
      std::error_code ec;
      Endpoint from;
      const size_t n = st_.recv_from(s, datagram_, ec, &from);
      if (ec) return;  // operation_would_block: all answered
      st_.send_to(s, std::span(datagram_).first(n), &from, ec);
      loop_.request_process();
    }
  }

  void accept_all(SocketId listener, Service kind) {
    for (;;) {
      std::error_code ec;
      Endpoint peer;
      const SocketId s = st_.accept(listener, ec, &peer);
      if (s == kNoSocket) return;
      auto conn = std::make_unique<Conn>();
      conn->kind = kind;
      if (kind == Service::kHttp) conn->http = std::make_unique<HttpSession>(root_);
      conn_options_.apply(st_, s);  // --keepalive
      if (timing_) timeouts_.add(s, EventLoop::clock_now());
      if (rt_.options().verbose) {
        rt_.log(std::string(service_name(kind)) + " connection from " +
                format_endpoint(peer.addr, peer.port));
      }
      rt_.observe_state(s);
      Conn& c = *conn;
      conns_[s] = std::move(conn);
      serve(s, c);
    }
  }

  // Tells the trimmer the connection count, and (at most twice a second: it walks the
  // counters) what the stack's buffers hold; a look skipped is taken later by look_timer_,
  // so the last change before the loop goes quiet is seen too.
  void note_memory() {
    const Instant now = EventLoop::clock_now();
    if (now >= next_buffer_look_) {
      next_buffer_look_ = now + Duration(500'000);
      look_timer_.arm(kNever);
      for (const auto& [name, v] : st_.counters()) {
        if (name == "tcp.mem.bytes") buffer_bytes_ = v;
      }
    } else {
      look_timer_.arm(next_buffer_look_);
    }
    trimmer_.note(conns_.size(), buffer_bytes_);
  }

  // Moves whatever can move on one connection; closes it when its service is finished. New
  // bytes (read for echo, generated, or an HTTP response) pass through the shared scratch_
  // buffer straight to the stack; only what the stack does not take stays with the connection
  // (Conn::out), and nothing new is read or produced until that has gone: a client that does
  // not read is slowed by its own receive window, not by our memory.
  void serve(SocketId s, Conn& c) {
    std::error_code ec;
    bool moved = false;  // any byte in or out: the idle clock restarts
    for (bool progress = true; progress;) {
      progress = false;
      if (!send_held(s, c, ec, progress)) return drop(s, ec);
      // Input.
      while (!c.peer_fin && c.out.empty()) {
        if (c.kind == Service::kHttp && !c.http->wants_input()) break;
        const size_t n = st_.recv(s, scratch_, ec);
        if (ec == std::errc::operation_would_block) break;
        if (ec) return drop(s, ec);
        progress = true;
        if (n == 0) {
          c.peer_fin = true;
          if (c.http) c.http->peer_finished();
          break;
        }
        const auto got = std::span<const uint8_t>(scratch_).first(n);
        if (c.kind == Service::kEcho && !send_or_keep(s, c, got, ec)) return drop(s, ec);
        if (c.kind == Service::kHttp) c.http->feed(got);
      }
      // Output to generate: chargen sends straight from the pattern, so it holds nothing.
      if (c.kind == Service::kChargen && !c.peer_fin) {
        for (;;) {
          const size_t n = st_.send(s, pattern_.subspan(c.chargen_pos), ec);
          if (ec == std::errc::operation_would_block || n == 0) break;
          if (ec) return drop(s, ec);
          c.chargen_pos = (c.chargen_pos + n) % pattern_.size();
          progress = true;
        }
      }
      while (c.kind == Service::kHttp && c.out.empty()) {
        const size_t n = c.http->produce(scratch_);
        if (n == 0) break;
        progress = true;
        if (!send_or_keep(s, c, std::span<const uint8_t>(scratch_).first(n), ec)) {
          return drop(s, ec);
        }
      }
      if (progress) loop_.request_process();
      moved = moved || progress;
    }
    c.out.release_if_empty();
    if (timing_) {
      const Instant now = EventLoop::clock_now();
      if (moved) timeouts_.activity(s, now);
      if (c.http) timeouts_.header_clock(s, c.http->awaiting_request(), now);
    }
    if (const uint32_t bits = st_.readiness(s); bits & ready::kError) {
      return drop(s, st_.error(s));
    }
    rt_.observe_state(s);
    const bool finished =
        c.out.empty() &&
        (c.kind == Service::kHttp ? c.http->done() : c.peer_fin);  // echo flushed; others at FIN
    if (finished) close(s);
  }

  // Sends what the connection holds; false (with ec) if the connection failed.
  bool send_held(SocketId s, Conn& c, std::error_code& ec, bool& progress) {
    while (!c.out.empty()) {
      const size_t n = st_.send(s, c.out.data(), ec);
      if (ec == std::errc::operation_would_block || n == 0) break;
      if (ec) return false;
      c.out.consume(n);
      progress = true;
    }
    ec.clear();
    return true;
  }

  // Sends `bytes`; what the stack does not take is kept in c.out (it fits: `bytes` come from
  // scratch_, no larger than its capacity, and c.out was empty). False if the connection failed.
  bool send_or_keep(SocketId s, Conn& c, std::span<const uint8_t> bytes, std::error_code& ec) {
    while (!bytes.empty()) {
      const size_t n = st_.send(s, bytes, ec);
      if (ec == std::errc::operation_would_block || n == 0) break;
      if (ec) return false;
      bytes = bytes.subspan(n);
    }
    ec.clear();
    c.out.append(bytes);
    return true;
  }

  void close(SocketId s) {
    if (timing_) timeouts_.remove(s);
    rt_.forget_state(s);
    st_.close(s);  // graceful: FIN after what was sent (RFC 9293 §3.10.4)
    conns_.erase(s);
    loop_.request_process();
  }

  void drop(SocketId s, const std::error_code& ec) {
    rt_.observe_state(s);
    if (rt_.options().verbose) rt_.log("connection " + std::to_string(s) + ": " + ec.message());
    close(s);
  }

  // The timeouts that expired: an HTTP request head too slow gets its 408 and a graceful
  // close; a connection idle too long is reset, so its buffers (and a peer that vanished)
  // are let go at once instead of lingering through FIN retransmissions.
  void reap() {
    const Instant now = EventLoop::clock_now();
    for (const auto& [s, why] : timeouts_.expired(now)) {
      auto it = conns_.find(s);
      if (it == conns_.end()) continue;
      Conn& c = *it->second;
      if (rt_.options().verbose) {
        rt_.log("connection " + std::to_string(s) + ": " +
                (why == TimeoutReason::kHeader ? "header" : "idle") + " timeout");
      }
      if (why == TimeoutReason::kHeader && c.http) {
        ++reaped_.header;
        c.http->time_out();
        c.peer_fin = true;  // read nothing more
        serve(s, c);        // the 408, then the close once it is produced
        if (conns_.count(s) != 0) close(s);
      } else {
        ++reaped_.idle;
        rt_.forget_state(s);
        st_.abort(s);
        conns_.erase(s);
      }
    }
    loop_.request_process();
    timer_.arm(timeouts_.next_deadline());
  }

  Runtime& rt_;
  Stack& st_;
  EventLoop& loop_;
  std::string root_;
  ConnectionOptions conn_options_;
  ConnTimeouts timeouts_;
  bool timing_ = conn_options_.timeouts().any();
  DeadlineTimer timer_;
  ReapCounts reaped_;
  HeapTrimmer trimmer_;
  DeadlineTimer look_timer_{loop_, [this] { note_memory(); }};
  Instant next_buffer_look_{};
  size_t buffer_bytes_ = 0;
  const std::string pattern_text_ = chargen_pattern();
  const std::span<const uint8_t> pattern_{reinterpret_cast<const uint8_t*>(pattern_text_.data()),
                                          pattern_text_.size()};
  std::vector<uint8_t> scratch_ = std::vector<uint8_t>(kConnBuffer);
  std::unordered_map<SocketId, Service> listeners_;
  std::unordered_map<SocketId, std::unique_ptr<Conn>> conns_;
  std::vector<SocketId> ready_;
  std::vector<SocketId> work_;
  std::vector<SocketId> udp_echo_;
  std::vector<uint8_t> datagram_ = std::vector<uint8_t>(65535);
};

struct Services {
  uint16_t echo = 0, discard = 0, chargen = 0, http = 0, udp_echo = 0;
  std::string root;
};

void listen_all(Server& server, const Services& sv) {
  if (sv.echo) server.listen(Service::kEcho, sv.echo);
  if (sv.discard) server.listen(Service::kDiscard, sv.discard);
  if (sv.chargen) server.listen(Service::kChargen, sv.chargen);
  if (sv.http) server.listen(Service::kHttp, sv.http);
  if (sv.udp_echo) server.udp_echo(sv.udp_echo);
}

// --threads N > 1: one Server per queue of a multi-queue TUN, each on its own thread with
// its own Stack and the same listeners; the kernel spreads the connections over the queues.
void print_reaped_if_asked(const CommonOptions& common, const ReapCounts& r) {
  if (!common.stats) return;
  std::fprintf(stderr,
               "serve.timeout.idle %llu\nserve.timeout.header %llu\nserve.heap-trims %llu\n",
               static_cast<unsigned long long>(r.idle), static_cast<unsigned long long>(r.header),
               static_cast<unsigned long long>(r.heap_trims));
}

void serve_on_threads(const CommonOptions& common, const Services& sv,
                      const ConnectionOptions& conn_options) {
  auto runtimes = Runtime::open_queues(common, "utcp-serve");
  std::vector<StackGroup::Member> members;
  for (auto& rt : runtimes) members.push_back({&rt->stack(), &rt->loop()});
  StackGroup group(std::move(members));
  std::vector<std::unique_ptr<Server>> servers(runtimes.size());
  std::unique_ptr<SignalWatcher> signals;  // on queue 0's loop
  std::atomic<bool> stopping = false;
  SignalWatcher::block_signals();  // before the threads start, so all of them inherit it
  group.start(
      [&](size_t i, Stack&, EventLoop& loop) {
        servers[i] = std::make_unique<Server>(*runtimes[i], sv.root, conn_options);
        listen_all(*servers[i], sv);
        if (i == 0) {
          signals = std::make_unique<SignalWatcher>(loop, [&](int) {
            stopping = true;
            group.stop();
          });
        }
      },
      [&](size_t i, Stack&, EventLoop&) {
        if (i == 0) signals.reset();
        if (stopping) servers[i]->shut_down();
      });
  group.join();
  ReapCounts reaped;
  for (const auto& server : servers) {
    reaped.idle += server->reaped().idle;
    reaped.header += server->reaped().header;
    reaped.heap_trims += server->reaped().heap_trims;
  }
  servers.clear();
  print_group_stats_if_asked(runtimes);
  print_reaped_if_asked(common, reaped);
}

}  // namespace
}  // namespace utcp::tools

int main(int argc, char** argv) {
  using namespace utcp::tools;
  CLI::App app{"many concurrent echo/discard/chargen/HTTP connections over utcp", "utcp-serve"};
  CommonOptions common;
  add_common_options(app, common);
  add_route_option(app, common);
  add_threads_option(app, common);
  Services sv;
  std::string root = ".";
  const auto port = CLI::Range(1, 65535);
  auto* o_echo = app.add_option("--echo", sv.echo, "echo service (RFC 862) on PORT")->check(port);
  auto* o_discard =
      app.add_option("--discard", sv.discard, "discard service (RFC 863) on PORT")->check(port);
  auto* o_chargen =
      app.add_option("--chargen", sv.chargen, "chargen service (RFC 864) on PORT")->check(port);
  auto* o_http = app.add_option("--http", sv.http, "HTTP/1.1 static files on PORT")->check(port);
  auto* o_udp_echo =
      app.add_option("--udp-echo", sv.udp_echo, "UDP echo (RFC 862) on PORT")->check(port);
  app.add_option("--root", root, "directory served by --http")->capture_default_str();
  ConnectionOptions conn_options;
  add_connection_options(app, conn_options, true);
  return run_main(app, argc, argv, [&] {
    if (!*o_echo && !*o_discard && !*o_chargen && !*o_http && !*o_udp_echo) {
      throw UsageError("nothing to serve: give --echo, --discard, --chargen, --http or --udp-echo");
    }
    if (*o_http) {
      char buf[PATH_MAX];
      if (::realpath(root.c_str(), buf) == nullptr) {
        throw UsageError("--root '" + root + "': " + std::strerror(errno));
      }
      sv.root = buf;
    }
    if (common.threads > 1) {
      serve_on_threads(common, sv, conn_options);
      return 0;
    }
    Runtime rt(common, "utcp-serve");
    ReapCounts reaped;
    {
      Server server(rt, sv.root, conn_options);
      listen_all(server, sv);
      server.run();
      reaped = server.reaped();
    }
    rt.print_stats_if_asked();
    print_reaped_if_asked(common, reaped);
    return 0;
  });
}
