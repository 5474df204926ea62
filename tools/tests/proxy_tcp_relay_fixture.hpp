// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The TcpRelay under test, without root, on the stacks of proxy_relay_stacks.hpp: the relay's
// EventLoop drives its upstream kernel sockets, which reach a fake proxy on 127.0.0.1. The fake
// proxy (SOCKS5 or HTTP CONNECT) runs on a thread of its own with blocking sockets: it answers the
// handshake as the test says, then acts as the destination (echo, reply after EOF, reset,
// flood...). Real time, bounded by deadlines of a few seconds.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "proxy_relay_stacks.hpp"
#include "session_log.hpp"
#include "socket_address.hpp"
#include "tcp_relay.hpp"

namespace utcp::proxy::test {

// Reads exactly n bytes (blocking, with the socket's timeout); false on EOF or error.
inline bool read_exact(int fd, uint8_t* out, size_t n) {
  while (n > 0) {
    const ssize_t r = ::recv(fd, out, n, 0);
    if (r <= 0) return false;
    out += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

inline void write_all(int fd, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return;
    p += w;
    n -= static_cast<size_t>(w);
  }
}

inline void reset_close(int fd) {
  const linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

// A proxy on 127.0.0.1 serving one connection after another on its thread.
class FakeProxy {
 public:
  enum class Kind { kSocks5, kHttp };
  struct Script {
    Kind kind = Kind::kSocks5;
    uint8_t rep = 0;                     // SOCKS5 REP
    int status = 200;                    // HTTP status
    std::string early;                   // bytes sent right after a successful reply
    std::chrono::milliseconds delay{0};  // before the reply
    bool silent = false;                 // never reply
    // As microsocks: the greeting is read with one recv() and whatever came with it is lost.
    bool drops_early = false;
    std::function<void(int fd)> act;  // the destination's part (the fd is closed after it)
  };

  explicit FakeProxy(Script script) : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(Endpoint{Ipv4Addr(127, 0, 0, 1), 0}, ss);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&ss), len), 0);
    EXPECT_EQ(::listen(listen_fd_, 16), 0);
    len = sizeof ss;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    endpoint_ = from_sockaddr(ss);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeProxy() {
    ::shutdown(listen_fd_, SHUT_RDWR);  // accept() returns
    {
      // ... and a connection still served ends now (the relay may still hold it open).
      std::lock_guard lock(mutex_);
      if (current_fd_ >= 0) ::shutdown(current_fd_, SHUT_RDWR);
    }
    thread_.join();
    ::close(listen_fd_);
  }
  FakeProxy(const FakeProxy&) = delete;
  FakeProxy& operator=(const FakeProxy&) = delete;

  const Endpoint& endpoint() const { return endpoint_; }
  // The raw request the client sent (SOCKS5 request bytes, or the HTTP request head).
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int accepted() const { return accepted_; }
  // For each connection: whether request bytes were already there when the method choice went
  // out (the client pipelined them behind the greeting).
  std::vector<bool> request_before_choice() const {
    std::lock_guard lock(mutex_);
    return request_before_choice_;
  }

 private:
  void serve() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      ++accepted_;
      {
        std::lock_guard lock(mutex_);
        current_fd_ = fd;
      }
      const timeval tv{5, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      if (handshake(fd) && script_.act) script_.act(fd);
      {
        std::lock_guard lock(mutex_);
        current_fd_ = -1;
      }
      ::close(fd);
    }
  }

  bool handshake(int fd) {
    std::string request;
    if (script_.kind == Kind::kSocks5) {
      if (script_.drops_early) {
        uint8_t greeting[512];
        if (::recv(fd, greeting, sizeof greeting, 0) < 2) return false;  // the rest is lost
      } else {
        uint8_t head[2];
        if (!read_exact(fd, head, 2)) return false;  // RFC 1928 §3: VER NMETHODS METHODS
        std::vector<uint8_t> methods(head[1]);
        if (!read_exact(fd, methods.data(), methods.size())) return false;
        uint8_t peek;
        const bool early = ::recv(fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
        std::lock_guard lock(mutex_);
        request_before_choice_.push_back(early);
      }
      const uint8_t choice[2] = {5, 0};
      write_all(fd, choice, 2);
      uint8_t req[4];  // §4: VER CMD RSV ATYP
      if (!read_exact(fd, req, 4)) return false;
      request.assign(req, req + 4);
      size_t addr_len = req[3] == 1 ? 4 : req[3] == 4 ? 16 : 0;
      if (req[3] == 3) {
        uint8_t l;
        if (!read_exact(fd, &l, 1)) return false;
        request.push_back(static_cast<char>(l));
        addr_len = l;
      }
      std::vector<uint8_t> rest(addr_len + 2);
      if (!read_exact(fd, rest.data(), rest.size())) return false;
      request.append(rest.begin(), rest.end());
    } else {
      char c;
      while (request.size() < 4 || request.compare(request.size() - 4, 4, "\r\n\r\n") != 0) {
        if (::recv(fd, &c, 1, 0) != 1) return false;
        request.push_back(c);
      }
    }
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    if (script_.silent) {
      char c;
      while (::recv(fd, &c, 1, 0) > 0) {
      }
      return false;
    }
    std::this_thread::sleep_for(script_.delay);
    if (script_.kind == Kind::kSocks5) {
      const uint8_t reply[10] = {5, script_.rep, 0, 1, 127, 0, 0, 1, 0x30, 0x39};
      write_all(fd, reply, sizeof reply);
      if (script_.rep != 0) return false;
    } else {
      const std::string reply = "HTTP/1.1 " + std::to_string(script_.status) + " Test\r\n\r\n";
      write_all(fd, reply.data(), reply.size());
      if (script_.status / 100 != 2) return false;
    }
    if (!script_.early.empty()) write_all(fd, script_.early.data(), script_.early.size());
    return true;
  }

  Script script_;
  int listen_fd_ = -1;
  Endpoint endpoint_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::vector<bool> request_before_choice_;
  std::atomic<int> accepted_{0};
  int current_fd_ = -1;  // the connection being served (mutex_)
};

class TcpRelayFixture : public RelayStacksFixture {
 protected:
  TcpRelayFixture() : RelayStacksFixture(4s) {}

  // Builds the two stacks, the loop and the relay for `config`, upstream `proxy`.
  void start(ProxyConfig config, const FakeProxy* proxy) {
    config_ = std::move(config);
    if (proxy != nullptr) config_.upstream_server = proxy->endpoint();
    start_stacks(nullptr);
    log_.emplace([] { return 0.0; }, [this](const std::string& l) { lines_.push_back(l); });
    relay_.emplace(
        *relay_stack_, *loop_, config_,
        [this](int fd, std::string&) {
          setup_fds_.push_back(fd);
          return true;
        },
        *log_, nullptr, nullptr);
    relay_stack_->set_readiness_callback(
        [this](SocketId s, uint32_t r) { relay_->on_readiness(s, r); });
    loop_->add_after_process([this] { relay_->after_process(); });
  }

  // Lets time pass with both stacks running.
  void run_for(std::chrono::milliseconds d) {
    run_until([] { return false; }, d);
  }

  SocketId connect_client(const Endpoint& to) {
    std::error_code ec;
    const SocketId s = client_->connect(to.addr, to.port, ec);
    EXPECT_FALSE(ec) << ec.message();
    return s;
  }
  bool connected(SocketId s) {
    return run_until([&] {
             return (client_->readiness(s) & (ready::kConnected | ready::kError)) != 0;
           }) &&
           (client_->readiness(s) & ready::kConnected) != 0;
  }
  void send(SocketId s, const Bytes& data) {
    size_t off = 0;
    run_until([&] {
      std::error_code ec;
      off += client_->send(s, std::span(data).subspan(off), ec);
      return off == data.size() || (ec && ec != std::errc::operation_would_block);
    });
    EXPECT_EQ(off, data.size());
  }
  // Reads until EOF (or an error, returned in ec) or `limit` bytes.
  Bytes receive(SocketId s, std::error_code& ec, size_t limit = SIZE_MAX,
                std::chrono::milliseconds timeout = 4s) {
    Bytes got;
    bool eof = false;
    run_until(
        [&] {
          uint8_t buf[16384];
          for (;;) {
            std::error_code e;
            const size_t n = client_->recv(s, buf, e);
            if (e == std::errc::operation_would_block) return got.size() >= limit;
            if (e) {
              ec = e;
              return true;
            }
            if (n == 0) {
              eof = true;
              return true;
            }
            got.insert(got.end(), buf, buf + n);
            if (got.size() >= limit) return true;
          }
        },
        timeout);
    if (!eof && !ec && got.size() < limit) ec = std::make_error_code(std::errc::timed_out);
    return got;
  }
  // The session's record once ended (the relay keeps the newest ended ones).
  nlohmann::json ended(size_t i = 0) {
    const auto j = log_->to_json();
    size_t k = 0;
    for (const auto& s : j["sessions"]) {
      if (s["end"] != "open" && k++ == i) return s;
    }
    return {};
  }

  std::optional<SessionLog> log_;
  std::vector<std::string> lines_;
  std::optional<TcpRelay> relay_;  // declared last: destroyed first, while loop and stack live
};

}  // namespace utcp::proxy::test
