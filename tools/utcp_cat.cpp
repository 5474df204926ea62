// SPDX-License-Identifier: BSD-2-Clause
// utcp-cat: netcat over utcp. `utcp-cat -l PORT` accepts one connection (-k: one after
// another, forever); `utcp-cat HOST PORT` connects. Standard input goes to the connection,
// the connection to standard output; end of input sends FIN (half-close) and the program
// exits once the peer has finished too. Exit status 0 on a clean close, 1 on refused,
// reset or timed out connections (the peer and the reason on stderr), 2 for a bad command
// line. --idle-timeout resets a connection on which nothing moved for that long (status 1; with
// -k, on to the next one).
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "byte_queue.hpp"
#include "common_options.hpp"
#include "conn_timeouts.hpp"
#include "connection_options.hpp"
#include "deadline_timer.hpp"
#include "std_fd.hpp"
#include "udp_cat.hpp"

namespace utcp::tools {
namespace {

constexpr size_t kPipeBytes = 256 * 1024;

class Cat {
 public:
  Cat(Runtime& rt, bool keep_listening, const ConnectionOptions& conn_options)
      : conn_options_(conn_options),
        timeouts_(TimeoutConfig{.idle = conn_options.timeouts().idle}),
        rt_(rt),
        st_(rt.stack()),
        loop_(rt.loop()),
        keep_(keep_listening),
        in_(loop_, STDIN_FILENO),
        out_(loop_, STDOUT_FILENO),
        to_net_(kPipeBytes),
        to_out_(kPipeBytes),
        timer_(loop_, [this] { on_timer(); }) {
    loop_.add_after_process([this] {
      pump();
      timer_.arm(timeouts_.next_deadline());
    });
  }

  void listen(uint16_t port) {
    std::error_code ec;
    listener_ = st_.listen(port, ec);
    if (ec) throw std::system_error(ec, "cannot listen on port " + std::to_string(port));
  }

  void connect(IpAddr addr, uint16_t port) {
    peer_ = format_endpoint(addr, port);
    std::error_code ec;
    sock_ = st_.connect(addr, port, ec);
    if (ec) throw std::runtime_error("connect " + peer_ + ": " + describe(ec));
    start_timing();
    rt_.observe_state(sock_);
    connected_ = false;
  }

  int run() {
    SignalWatcher signals(loop_, [this](int) {
      if (sock_ != kNoSocket) st_.abort(sock_);
      sock_ = kNoSocket;
      rt_.log("interrupted");
      finish(1);
    });
    loop_.run();
    return exit_code_.value_or(1);
  }

 private:
  void finish(int code) {
    exit_code_ = code;
    loop_.stop();
    loop_.request_process();  // flush a FIN or RST before the loop ends
  }

  void start_timing() {
    conn_options_.apply(st_, sock_);  // --keepalive
    timeouts_.add(sock_, EventLoop::clock_now());
  }

  // --idle-timeout: nothing moved either way for that long.
  void on_timer() {
    if (sock_ == kNoSocket || timeouts_.expired(EventLoop::clock_now()).empty()) return;
    rt_.log("idle timeout");
    rt_.forget_state(sock_);
    st_.abort(sock_);
    sock_ = kNoSocket;
    loop_.request_process();
    if (keep_ && listener_ != kNoSocket) return;
    finish(1);
  }

  // "connection refused": strerror's text, lower-cased to sit after a colon.
  static std::string describe(const std::error_code& ec) {
    std::string m = ec.message();
    if (!m.empty() && m[0] >= 'A' && m[0] <= 'Z') m[0] = static_cast<char>(m[0] - 'A' + 'a');
    return m;
  }

  // Names the peer: "connect 10.77.0.1:5001: connection refused" while the handshake runs,
  // "10.77.0.1:5001: connection reset by peer" after.
  void fail(const std::error_code& ec) {
    timeouts_.remove(sock_);
    rt_.log((connected_ ? peer_ : "connect " + peer_) + ": " + describe(ec));
    rt_.observe_state(sock_);
    rt_.forget_state(sock_);
    st_.close(sock_);
    sock_ = kNoSocket;
    loop_.request_process();
    if (keep_ && listener_ != kNoSocket) return;  // -k: on to the next connection
    finish(1);
  }

  // Runs after every process(): moves bytes wherever they can go.
  void pump() {
    if (exit_code_) return;
    if (sock_ == kNoSocket && !accept_next()) return;
    if (!connected_) {
      const uint32_t bits = st_.readiness(sock_);
      if (bits & ready::kConnected) {
        connected_ = true;
      } else if (bits & ready::kError) {
        return fail(st_.error(sock_));
      } else {
        return;
      }
    }
    bool progress = false;
    std::error_code ec;
    // Connection -> stdout; stop taking data while stdout is full (the window closes).
    while (!peer_fin_ && to_out_.has_room()) {
      const size_t n = st_.recv(sock_, to_out_.free(), ec);
      if (ec == std::errc::operation_would_block) break;
      if (ec) return fail(ec);
      progress = true;
      if (n == 0) {
        peer_fin_ = true;
        break;
      }
      to_out_.commit(n);
    }
    if (!flush_stdout()) return;
    // Stdin -> connection.
    for (bool moved = true; moved;) {
      moved = read_stdin();
      while (!to_net_.empty()) {
        const size_t n = st_.send(sock_, to_net_.data(), ec);
        if (ec == std::errc::operation_would_block || n == 0) break;
        if (ec) return fail(ec);
        to_net_.consume(n);
        moved = progress = true;
      }
      if (to_net_.has_room() == false) break;
    }
    if (stdin_eof_ && to_net_.empty() && !fin_sent_) {
      st_.shutdown_write(sock_, ec);  // RFC 9293 §3.10.4: FIN after the queued data
      if (ec) return fail(ec);
      fin_sent_ = progress = true;
    }
    if (const uint32_t bits = st_.readiness(sock_); bits & ready::kError) {
      if (const std::error_code e = st_.error(sock_)) return fail(e);
    }
    if (peer_fin_ && fin_sent_ && to_out_.empty()) {
      const tcp::State s = st_.state(sock_);
      if (s == tcp::State::kTimeWait || s == tcp::State::kClosed) {  // our FIN is acknowledged
        rt_.print_tcp_info_if_asked(sock_);
        timeouts_.remove(sock_);
        rt_.observe_state(sock_);
        rt_.forget_state(sock_);
        st_.close(sock_);
        sock_ = kNoSocket;
        progress = true;
        if (!keep_) finish(0);
      }
    }
    if (sock_ != kNoSocket) rt_.observe_state(sock_);
    if (progress) {
      loop_.request_process();
      if (sock_ != kNoSocket) timeouts_.activity(sock_, EventLoop::clock_now());
    }
    update_interest();
  }

  bool accept_next() {
    if (listener_ == kNoSocket) return false;
    std::error_code ec;
    Endpoint peer;
    const SocketId s = st_.accept(listener_, ec, &peer);
    if (s == kNoSocket) return false;
    if (rt_.options().verbose) {
      rt_.log("connection from " + format_endpoint(peer.addr, peer.port));
    }
    sock_ = s;
    peer_ = format_endpoint(peer.addr, peer.port);
    start_timing();
    rt_.observe_state(sock_);
    connected_ = true;
    peer_fin_ = fin_sent_ = false;
    loop_.request_process();
    return true;
  }

  // Reads what stdin has into to_net_; false if nothing moved.
  bool read_stdin() {
    if (stdin_eof_ || !in_.ready() || !to_net_.has_room()) return false;
    const auto room = to_net_.free();
    const ssize_t n = ::read(in_.fd(), room.data(), room.size());
    if (n > 0) {
      to_net_.commit(static_cast<size_t>(n));
      return true;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      in_.set_blocked();
      return false;
    }
    stdin_eof_ = true;  // 0, or an error such as EBADF: no more input either way
    return true;
  }

  // Writes what to_out_ holds; false if stdout failed (and the connection was dropped).
  bool flush_stdout() {
    while (!to_out_.empty() && out_.ready()) {
      const auto data = to_out_.data();
      const ssize_t n = ::write(out_.fd(), data.data(), data.size());
      if (n > 0) {
        to_out_.consume(static_cast<size_t>(n));
        loop_.request_process();  // the receive window may reopen
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        out_.set_blocked();
      } else {
        rt_.log(std::string("standard output: ") + std::strerror(errno));
        st_.abort(sock_);
        sock_ = kNoSocket;
        finish(1);
        return false;
      }
    }
    return true;
  }

  void update_interest() {
    const bool want_in = sock_ != kNoSocket && connected_ && !stdin_eof_ && to_net_.has_room();
    in_.watch(want_in && !in_.ready() ? uint32_t{EPOLLIN} : 0u);
    out_.watch(!to_out_.empty() && !out_.ready() ? uint32_t{EPOLLOUT} : 0u);
  }

  ConnectionOptions conn_options_;
  ConnTimeouts timeouts_;
  Runtime& rt_;
  Stack& st_;
  EventLoop& loop_;
  bool keep_;
  StdFd in_;
  StdFd out_;
  ByteQueue to_net_;
  ByteQueue to_out_;
  SocketId listener_ = kNoSocket;
  SocketId sock_ = kNoSocket;
  std::string peer_;  // "A.B.C.D:PORT" or "[IPV6]:PORT" of the connection, for messages
  bool connected_ = false;
  bool stdin_eof_ = false;
  bool fin_sent_ = false;
  bool peer_fin_ = false;
  std::optional<int> exit_code_;
  DeadlineTimer timer_;
};

}  // namespace
}  // namespace utcp::tools

int main(int argc, char** argv) {
  using namespace utcp::tools;
  CLI::App app{"netcat over utcp: stdin to a TCP connection, the connection to stdout", "utcp-cat"};
  CommonOptions common;
  add_common_options(app, common);
  add_route_option(app, common);
  uint16_t listen_port = 0;
  bool keep = false;
  std::vector<std::string> target;
  auto* l = app.add_option("-l,--listen", listen_port, "listen on PORT and accept one connection")
                ->check(CLI::Range(1, 65535));
  app.add_flag("-k,--keep-open", keep, "with -l: accept another connection after each one")
      ->needs(l);
  bool udp = false;
  double linger = 1.0;
  app.add_flag("-u,--udp", udp,
               "UDP datagrams instead of a TCP connection (as nc -u; with -l: from either "
               "family, the first sender becomes the peer)");
  app.add_option("--linger", linger,
                 "with -u HOST PORT: seconds to wait for replies after the end of input")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("target", target,
                 "HOST PORT to connect to (HOST: A.B.C.D or an IPv6 address), or "
                 "A.B.C.D:PORT or [IPV6]:PORT")
      ->expected(0, 2)
      ->type_name("");
  ConnectionOptions conn_options;
  add_connection_options(app, conn_options, false);
  return run_main(app, argc, argv, [&] {
    if (l->count() > 0 && !target.empty()) {
      throw UsageError("give either -l PORT or HOST PORT, not both");
    }
    std::optional<utcp::IpAddr> host;
    uint16_t port = 0;
    if (l->count() == 0) {
      if (target.empty()) throw UsageError("need HOST PORT (or -l PORT)");
      if (target.size() == 1) {
        const auto hp = parse_host_port(target[0]);
        if (!hp) {
          throw UsageError("'" + target[0] +
                           "' is not A.B.C.D:PORT or [IPV6]:PORT (or give HOST PORT, or -l PORT)");
        }
        std::tie(host, port) = *hp;
      } else {
        host = parse_host(target[0]);
        if (!host) throw UsageError("HOST '" + target[0] + "' is not an IPv4 or IPv6 address");
        const auto p = parse_port(target[1]);
        if (!p) throw UsageError("PORT '" + target[1] + "' is not 1..65535");
        port = *p;
      }
      // An IPv4-mapped address (::ffff:A.B.C.D) is an IPv4 connection: it needs no IPv6.
      if (host->is_v6() && !host->v6().is_v4_mapped() && !resolve_ipv6(common).enabled) {
        throw UsageError("HOST " + host->to_string() + " is IPv6, but IPv6 is off" +
                         (common.no_ipv6 ? " (--no-ipv6)" : ""));
      }
    }
    ::signal(SIGPIPE, SIG_IGN);  // a closed stdout is reported as EPIPE instead
    Runtime rt(common, "utcp-cat");
    int status = 0;
    if (udp) {
      UdpCatOptions uo{.host = host,
                       .port = port,
                       .listen_port = listen_port,
                       .keep = keep,
                       .linger = utcp::Duration(static_cast<int64_t>(linger * 1e6))};
      status = run_udp_cat(rt, uo);
      rt.print_stats_if_asked();
      return status;
    }
    {
      Cat cat(rt, keep, conn_options);
      if (host) {
        cat.connect(*host, port);
      } else {
        cat.listen(listen_port);
      }
      status = cat.run();
    }
    rt.print_stats_if_asked();
    return status;
  });
}
