// SPDX-License-Identifier: BSD-2-Clause
// Two stacks in one process, joined by an in-memory link: no TUN, no root, no kernel TCP.
// The server stack runs its EventLoop on a thread of its own and echoes what it reads; the
// client stack runs its loop on the main thread, sends a message and reads the echo back.
// Each loop sleeps in epoll on its end of the link (MemoryLink::fd()) and its timer.
//
//   ./example_memory_echo "hello, utcp"      prints the echo; exit status 0 when it matched
#include <cstdio>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "utcp/event_loop.hpp"
#include "utcp/memory_link.hpp"
#include "utcp/stack.hpp"

namespace {

using namespace std::chrono_literals;

// The echo server: accepts connections, writes back every byte it reads, closes on EOF.
// It acts in the loop's after-process hook, where calling the Stack is allowed.
class EchoServer {
 public:
  EchoServer(utcp::Stack& stack, utcp::EventLoop& loop, uint16_t port) : stack_(stack) {
    std::error_code ec;
    listener_ = stack_.listen(port, ec);
    if (ec) throw std::system_error(ec, "listen");
    loop.add_after_process([this] { serve(); });
  }

 private:
  void serve() {
    std::error_code ec;
    for (utcp::SocketId s; (s = stack_.accept(listener_, ec)) != utcp::kNoSocket;) {
      conns_.push_back(s);
    }
    std::vector<uint8_t> buf(4096);
    for (auto it = conns_.begin(); it != conns_.end();) {
      // A real server would keep what send() could not take; here the echo is small.
      const size_t n = stack_.recv(*it, buf, ec);
      if (n > 0) stack_.send(*it, std::span(buf).first(n), ec);
      const bool eof = n == 0 && !ec;  // the peer's FIN: echo done, close our side too
      if (eof || (ec && ec != std::errc::operation_would_block)) {
        stack_.close(*it);
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }

  utcp::Stack& stack_;
  utcp::SocketId listener_ = utcp::kNoSocket;
  std::vector<utcp::SocketId> conns_;
};

utcp::StackConfig config_for(utcp::Ipv4Addr address) {
  utcp::StackConfig config;
  config.address = address;  // the secret is left zero: each Stack draws a random one
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string message = argc > 1 ? argv[1] : "hello over a memory link";
  const utcp::Ipv4Addr server_addr(10, 0, 0, 1);
  const uint16_t port = 7;

  utcp::dev::MemoryLink link;
  utcp::Stack server(link.a(), config_for(server_addr));
  utcp::Stack client(link.b(), config_for(utcp::Ipv4Addr(10, 0, 0, 2)));
  utcp::EventLoop server_loop(server, link.a());
  utcp::EventLoop client_loop(client, link.b());
  EchoServer echo(server, server_loop, port);
  std::thread server_thread([&] { server_loop.run(); });

  std::error_code ec;
  const utcp::SocketId s = client.connect(server_addr, port, ec);
  const utcp::Instant deadline = utcp::EventLoop::clock_now() + 5s;
  std::string echoed;
  if (!ec) {
    const auto connected = [&] { return client.readiness(s) & utcp::ready::kConnected; };
    if (client_loop.run_until(connected, deadline)) {
      const auto* bytes = reinterpret_cast<const uint8_t*>(message.data());
      client.send(s, std::span(bytes, message.size()), ec);
      client.shutdown_write(s, ec);  // FIN after the message: the server closes after echoing
      std::vector<uint8_t> buf(4096);
      bool eof = false;
      client_loop.run_until(
          [&] {
            std::error_code e;
            for (size_t n; (n = client.recv(s, buf, e)) > 0;)
              echoed.append(buf.begin(), buf.begin() + n);
            eof = !e;  // 0 bytes without an error: the server's FIN
            return eof || e != std::errc::operation_would_block;
          },
          deadline);
      if (!eof) ec = client.error(s);
    } else {
      ec = client.error(s) ? client.error(s) : std::make_error_code(std::errc::timed_out);
    }
    client.close(s);
  }
  server_loop.stop();  // thread-safe; the loop thread returns from run()
  server_thread.join();

  if (ec) {
    std::fprintf(stderr, "memory_echo: %s\n", ec.message().c_str());
    return 1;
  }
  std::printf("sent %zu bytes, echoed: %s\n", message.size(), echoed.c_str());
  return echoed == message ? 0 : 1;
}
