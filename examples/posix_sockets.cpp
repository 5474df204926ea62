// SPDX-License-Identifier: BSD-2-Clause
// The POSIX facade: integer descriptors, sockaddr, -1 with errno, as with the kernel's sockets,
// over two utcp stacks joined by an in-memory link on virtual time. One thread: whenever a
// call would block, the facade asks its SocketHost to wait, and this host moves the virtual
// clock on and drives both stacks. No root, no TUN; runs in milliseconds whatever the timers.
//
//   ./example_posix_sockets              exit status 0 when the greeting came back
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "utcp/memory_link.hpp"
#include "utcp/posix.hpp"
#include "utcp/stack.hpp"

namespace {

// Drives both stacks: each wait() is one millisecond of virtual time.
class TwoStacksHost : public utcp::posix::SocketHost {
 public:
  TwoStacksHost(utcp::Stack& a, utcp::Stack& b) : a_(a), b_(b) {}
  utcp::Instant now() override { return now_; }
  bool wait(utcp::Instant deadline) override {
    if (now_ >= limit_) return false;  // a call blocked for a whole virtual minute: give up
    now_ = std::min(deadline, now_ + utcp::Duration(1000));
    a_.process(now_);
    b_.process(now_);
    return true;
  }

 private:
  utcp::Stack& a_;
  utcp::Stack& b_;
  utcp::Instant now_ = utcp::instant_from_us(0);
  const utcp::Instant limit_ = utcp::instant_from_us(60'000'000);
};

utcp::StackConfig config_for(utcp::Ipv4Addr address) {
  utcp::StackConfig config;
  config.address = address;
  return config;
}

sockaddr_in address_of(const char* ip, uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  inet_pton(AF_INET, ip, &sin.sin_addr);
  return sin;
}

int fail(const char* what) {
  std::fprintf(stderr, "posix_sockets: %s: %s\n", what, std::strerror(errno));
  return 1;
}

}  // namespace

int main() {
  utcp::dev::MemoryLink link;
  utcp::Stack server_stack(link.a(), config_for(utcp::Ipv4Addr(10, 0, 0, 1)));
  utcp::Stack client_stack(link.b(), config_for(utcp::Ipv4Addr(10, 0, 0, 2)));
  TwoStacksHost host(server_stack, client_stack);
  utcp::posix::Sockets server(server_stack, &host);
  utcp::posix::Sockets client(client_stack, &host);

  // The server: socket, bind, listen, as with the kernel's sockets.
  const int lfd = server.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in local = address_of("0.0.0.0", 8080);
  if (server.bind(lfd, reinterpret_cast<const sockaddr*>(&local), sizeof local) < 0) {
    return fail("bind");
  }
  if (server.listen(lfd, 16) < 0) return fail("listen");

  // The client: a blocking connect (the host drives both stacks until the handshake is done).
  const int cfd = client.socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in to = address_of("10.0.0.1", 8080);
  if (client.connect(cfd, reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) {
    return fail("connect");
  }
  sockaddr_in peer{};
  socklen_t peer_len = sizeof peer;
  const int afd = server.accept(lfd, reinterpret_cast<sockaddr*>(&peer), &peer_len);
  if (afd < 0) return fail("accept");

  const std::string hello = "GET / HTTP/1.0\r\n\r\n";
  if (client.write(cfd, hello.data(), hello.size()) != static_cast<ssize_t>(hello.size())) {
    return fail("write");
  }
  char buf[256];
  const ssize_t n = server.read(afd, buf, sizeof buf);  // blocks until the bytes arrive
  if (n < 0) return fail("read");
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
  std::printf("from %s:%u: %zd bytes\n", ip, ntohs(peer.sin_port), n);
  client.close(cfd);
  server.close(afd);
  server.close(lfd);
  return std::string(buf, static_cast<size_t>(n)) == hello ? 0 : 1;
}
