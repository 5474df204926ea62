// SPDX-License-Identifier: BSD-2-Clause
// utcp-cat -u (udp_cat.hpp): datagrams between standard I/O and one UDP socket of the Stack.
#include "udp_cat.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "byte_queue.hpp"
#include "deadline_timer.hpp"
#include "std_fd.hpp"

namespace utcp::tools {
namespace {

// One read of standard input becomes one datagram of at most this many bytes (nc's size).
constexpr size_t kMaxRead = 16384;
constexpr size_t kMaxDatagram = 65535;
constexpr size_t kOutBytes = 256 * 1024;

std::string text(const Endpoint& e) {
  return format_endpoint(e.addr, e.port);
}  // [IPV6]:PORT

class UdpCat {
 public:
  UdpCat(Runtime& rt, const UdpCatOptions& o)
      : o_(o),
        rt_(rt),
        st_(rt.stack()),
        loop_(rt.loop()),
        in_(loop_, STDIN_FILENO),
        out_(loop_, STDOUT_FILENO),
        to_out_(kOutBytes),
        datagram_(kMaxDatagram),
        timer_(loop_, [this] { on_linger(); }) {
    std::error_code ec;
    if (o.host) {
      peer_ = Endpoint{*o.host, o.port};
      sock_ = st_.udp_connect(*peer_, ec);
      if (ec) throw std::runtime_error("connect " + text(*peer_) + ": " + ec.message());
      socks_.push_back(sock_);
    } else {
      // Both families (IPv6 unless --no-ipv6): one socket each, since a socket bound to ::
      // is IPv6-only in the event API (udp_socket_table.hpp).
      std::vector<IpAddr> wildcards{IpAddr(Ipv4Addr())};
      if (st_.config().ipv6) wildcards.emplace_back(Ipv6Addr());
      for (const IpAddr& any : wildcards) {
        socks_.push_back(st_.udp_bind(Endpoint{any, o.listen_port}, ec));
        if (ec) {
          socks_.pop_back();
          throw std::system_error(ec, "cannot bind UDP port " + std::to_string(o.listen_port));
        }
      }
    }
    loop_.add_after_process([this] { pump(); });
  }
  ~UdpCat() {
    for (const SocketId s : socks_) st_.close(s);
  }
  UdpCat(const UdpCat&) = delete;
  UdpCat& operator=(const UdpCat&) = delete;

  int run() {
    SignalWatcher signals(loop_, [this](int) { finish(o_.host ? 1 : 0); });
    loop_.run();
    return exit_code_.value_or(1);
  }

 private:
  void finish(int code) {
    if (exit_code_) return;
    exit_code_ = code;
    loop_.stop();
    loop_.request_process();
  }

  void fail(const std::error_code& ec) {
    std::string m = ec.message();
    if (!m.empty() && m[0] >= 'A' && m[0] <= 'Z') m[0] = static_cast<char>(m[0] - 'A' + 'a');
    rt_.log((peer_ ? text(*peer_) : std::string("udp")) + ": " + m);
    finish(1);
  }

  void pump() {
    if (exit_code_) return;
    std::error_code ec;
    // Network -> stdout, while a whole datagram still fits (the rest waits in the socket's
    // queue, or is dropped there when it overflows: UDP).
    for (size_t i = 0; i < socks_.size() && kOutBytes - to_out_.size() >= kMaxDatagram;) {
      const SocketId s = socks_[i];
      Endpoint from;
      const size_t n = st_.recv_from(s, datagram_, ec, &from);
      if (ec == std::errc::operation_would_block) {
        ++i;  // this socket has none left: the next family's
        continue;
      }
      if (ec) return fail(ec);  // e.g. a port unreachable: connection refused
      last_rx_ = EventLoop::clock_now();
      if (!peer_ || (o_.keep && !(from == *peer_))) {
        if (rt_.options().verbose) rt_.log("datagrams from " + text(from));
        peer_ = from;
        sock_ = s;  // replies leave from the socket of the sender's family
        if (!o_.keep) {
          // nc -u -l: the first sender becomes the only peer; the other family's socket
          // hears nobody else.
          st_.udp_connect(s, from, ec);
          for (const SocketId other : socks_) {
            if (other != s) st_.close(other);
          }
          socks_.assign(1, s);
          i = 0;
        }
      }
      auto room = to_out_.free();
      std::memcpy(room.data(), datagram_.data(), n);
      to_out_.commit(n);
    }
    if (!flush_stdout()) return;
    // Stdin -> network: one datagram per read, once there is someone to send to.
    while (peer_ && !stdin_eof_ && in_.ready()) {
      const ssize_t n = ::read(in_.fd(), datagram_.data(), kMaxRead);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        in_.set_blocked();
        break;
      }
      if (n <= 0) {
        stdin_eof_ = true;
        if (o_.host) last_rx_ = EventLoop::clock_now();  // the linger starts now
        break;
      }
      const Endpoint* to = o_.keep ? &*peer_ : nullptr;
      st_.send_to(sock_, std::span(datagram_).first(static_cast<size_t>(n)), to, ec);
      if (ec) return fail(ec);
      loop_.request_process();
    }
    if (stdin_eof_ && o_.host) timer_.arm(last_rx_ + o_.linger);
    in_.watch(peer_ && !stdin_eof_ && !in_.ready() ? uint32_t{EPOLLIN} : 0u);
    out_.watch(!to_out_.empty() && !out_.ready() ? uint32_t{EPOLLOUT} : 0u);
  }

  // The client's wait after the end of input: over once nothing arrived for --linger.
  void on_linger() {
    if (EventLoop::clock_now() >= last_rx_ + o_.linger && to_out_.empty()) {
      finish(0);
    } else {
      loop_.request_process();
    }
  }

  bool flush_stdout() {
    while (!to_out_.empty() && out_.ready()) {
      const auto data = to_out_.data();
      const ssize_t n = ::write(out_.fd(), data.data(), data.size());
      if (n > 0) {
        to_out_.consume(static_cast<size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        out_.set_blocked();
      } else {
        rt_.log(std::string("standard output: ") + std::strerror(errno));
        finish(1);
        return false;
      }
    }
    return true;
  }

  UdpCatOptions o_;
  Runtime& rt_;
  Stack& st_;
  EventLoop& loop_;
  StdFd in_;
  StdFd out_;
  ByteQueue to_out_;
  std::vector<uint8_t> datagram_;
  std::vector<SocketId> socks_;  // -l: one per family until the first datagram picks one
  SocketId sock_ = kNoSocket;    // the socket toward peer_
  std::optional<Endpoint> peer_;
  bool stdin_eof_ = false;
  Instant last_rx_{};
  std::optional<int> exit_code_;
  DeadlineTimer timer_;
};

}  // namespace

int run_udp_cat(Runtime& rt, const UdpCatOptions& options) {
  UdpCat cat(rt, options);
  return cat.run();
}

}  // namespace utcp::tools
