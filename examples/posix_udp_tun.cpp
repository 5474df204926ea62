// SPDX-License-Identifier: BSD-2-Clause
// A UDP echo server written against the POSIX facade, over a TUN device: the same calls a
// program makes on the kernel's sockets (socket, bind, recvfrom, sendto), one thread. The
// facade's SocketHost waits on the TUN descriptor and runs the stack whenever a call would
// block. One AF_INET6 socket bound to [::] serves both families (dual stack): IPv4 senders
// appear as ::ffff:a.b.c.d and are answered at that address, over IPv4.
//
//   ./example_posix_udp_tun [PORT [COUNT]]   creates utcp0 (kernel 10.77.0.1/24, fd77::1/64;
//                                            stack 10.77.0.2, fd77::2), echoes COUNT
//                                            datagrams (default 4) on PORT (default 7), exits 0
// Needs CAP_NET_ADMIN; run it inside a network namespace (tests/interop/posix_udp.sh).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <vector>

#include "utcp/posix.hpp"
#include "utcp/stack.hpp"
#include "utcp/tun.hpp"

namespace {

utcp::Instant real_now() {
  using namespace std::chrono;
  return utcp::instant_from_us(
      duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count());
}

// Blocks on the TUN descriptor until a packet comes or the stack's next timer is due, then
// lets the stack work. Gives up (the call fails with EINTR) after a quiet `idle_limit`.
class TunHost : public utcp::posix::SocketHost {
 public:
  TunHost(utcp::Stack& stack, int fd) : stack_(stack), fd_(fd) {}
  utcp::Instant now() override { return real_now(); }
  bool wait(utcp::Instant deadline) override {
    const utcp::Instant start = real_now();
    if (start - last_packet_ > idle_limit_) return false;
    utcp::Instant until = std::min({deadline, stack_.next_deadline(), start + tick_});
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - start).count() + 1;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(ms < 0 ? 0 : ms)) > 0) last_packet_ = real_now();
    stack_.process(real_now());
    return true;
  }

 private:
  utcp::Stack& stack_;
  int fd_;
  utcp::Instant last_packet_ = real_now();
  const utcp::Duration tick_ = std::chrono::milliseconds(100);
  const utcp::Duration idle_limit_ = std::chrono::seconds(30);
};

int fail(const char* what) {
  std::fprintf(stderr, "posix_udp_tun: %s: %s\n", what, std::strerror(errno));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const int port = argc > 1 ? std::atoi(argv[1]) : 7;
  const int count = argc > 2 ? std::atoi(argv[2]) : 4;
  if (port <= 0 || port > 65535 || count <= 0) {
    std::fprintf(stderr, "usage: %s [PORT [COUNT]]\n", argv[0]);
    return 2;
  }
  try {
    utcp::dev::TunOptions tun_options;
    tun_options.kernel_address = utcp::Ipv4Addr(10, 77, 0, 1);
    tun_options.kernel_address6 = utcp::Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 1);
    utcp::dev::TunDevice tun(tun_options);
    utcp::StackConfig config;  // 10.77.0.2 and fd77::2
    config.address = utcp::Ipv4Addr(10, 77, 0, 2);
    utcp::Stack stack(tun, config);
    TunHost host(stack, tun.fd());
    utcp::posix::Sockets sockets(stack, &host);

    const int fd = sockets.socket(AF_INET6, SOCK_DGRAM, 0);
    sockaddr_in6 any{};
    any.sin6_family = AF_INET6;
    any.sin6_port = htons(static_cast<uint16_t>(port));
    if (sockets.bind(fd, reinterpret_cast<const sockaddr*>(&any), sizeof any) < 0) {
      return fail("bind");
    }
    std::printf("listening on [::]:%d\n", port);
    std::fflush(stdout);
    std::vector<char> buf(65536);
    for (int i = 0; i < count; ++i) {
      sockaddr_in6 from{};
      socklen_t len = sizeof from;
      const ssize_t n =
          sockets.recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) return fail("recvfrom");
      if (sockets.sendto(fd, buf.data(), static_cast<size_t>(n), 0,
                         reinterpret_cast<const sockaddr*>(&from), len) != n) {
        return fail("sendto");
      }
      char ip[INET6_ADDRSTRLEN];
      inet_ntop(AF_INET6, &from.sin6_addr, ip, sizeof ip);
      std::printf("%zd bytes from [%s]:%u echoed\n", n, ip, ntohs(from.sin6_port));
      std::fflush(stdout);
    }
    // Let the last echo leave before the device goes.
    stack.process(real_now());
    sockets.close(fd);
    return 0;
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "posix_udp_tun: %s\n", e.what());
    return 1;
  }
}
