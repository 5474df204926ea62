// SPDX-License-Identifier: BSD-2-Clause
// TCP over IPv6 between the Linux kernel and a Stack on a TUN (issue 12), in a forked child in
// a private network namespace (nothing leaves it): the kernel's AF_INET6 socket connects to
// the stack's fd77::2 and gets its bytes echoed back exactly, with and without TUN offload
// (GSO_TCPV6 frames both ways); and the stack connects to a kernel listener on fd77::1.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/netns_child.hpp"
#include "utcp/blocking.hpp"
#include "utcp/tun.hpp"

namespace utcp {
namespace {

const Ipv6Addr kKernel6(0xfd77, 0, 0, 0, 0, 0, 0, 1);
const Ipv6Addr kStack6(0xfd77, 0, 0, 0, 0, 0, 0, 2);

// The kernel's side of the link: fd77::1/64 on the TUN, added by TunDevice itself with
// IFA_F_NODAD, so it is usable at once. (An address added with SIOCSIFADDR stays "tentative"
// until the kernel's DAD work runs; under load a connect() in that window failed with
// EADDRNOTAVAIL.)
dev::TunOptions tun_options() {
  dev::TunOptions tun;
  tun.kernel_address = Ipv4Addr(10, 77, 0, 1);
  tun.kernel_address6 = kKernel6;
  return tun;
}

sockaddr_in6 sockaddr6(const Ipv6Addr& a, uint16_t port) {
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(port);
  std::memcpy(&sa.sin6_addr, a.bytes.data(), 16);
  return sa;
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// Reads until EOF (or an error); what arrived.
std::vector<uint8_t> read_all(int fd) {
  std::vector<uint8_t> got;
  uint8_t buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got.insert(got.end(), buf, buf + n);
  return got;
}

bool write_all(int fd, const std::vector<uint8_t>& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string echo_from_kernel(bool offload) {
  dev::TunOptions tun = tun_options();
  tun.offload = offload;
  auto device = std::make_unique<dev::TunDevice>(tun);
  // Destroyed before the server thread is joined: that ends a blocked accept() or read()
  // (operation_canceled) whatever happened on the kernel's side.
  auto iface = std::make_unique<Interface>(std::move(device));
  TcpListener listener = iface->listen(5000);
  Endpoint peer;
  std::thread server([&] {
    std::error_code ec;
    TcpStream s = listener.accept(ec, &peer);
    if (ec) return;
    std::vector<uint8_t> buf(65536);
    while (const size_t n = s.read(buf, ec)) s.write_all(std::span(buf).first(n), ec);
    s.shutdown(ec);
  });
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{20, 0};  // a bound on every call: a stall fails the test, never hangs it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const sockaddr_in6 to = sockaddr6(kStack6, 5000);
  std::string failure;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    failure = std::string("kernel connect to [fd77::2]:5000: ") + std::strerror(errno);
  }
  const auto data = random_bytes(8 << 20, offload ? 1 : 2);
  std::vector<uint8_t> got;
  if (failure.empty()) {
    std::thread writer([&] {
      write_all(fd, data);
      ::shutdown(fd, SHUT_WR);
    });
    got = read_all(fd);
    writer.join();
  } else {
    ::shutdown(fd, SHUT_RDWR);
  }
  ::close(fd);
  if (!failure.empty()) iface.reset();
  server.join();
  iface.reset();
  if (!failure.empty()) return failure;
  if (got != data) {
    return "echo differs: " + std::to_string(got.size()) + " of " + std::to_string(data.size()) +
           " bytes back";
  }
  if (peer.addr != IpAddr(kKernel6)) return "accepted peer " + peer.addr.to_string();
  return "";
}

TEST(Tcp6OverTun, KernelSocketEchoedByteExactWithOffload) {
  UTCP_RUN_IN_NETNS([] { return echo_from_kernel(true); });
}

TEST(Tcp6OverTun, KernelSocketEchoedByteExactWithoutOffload) {
  UTCP_RUN_IN_NETNS([] { return echo_from_kernel(false); });
}

// The stack opens towards a kernel listener on fd77::1 and sends; the kernel reads it all.
TEST(Tcp6OverTun, StackConnectsToAKernelListener) {
  UTCP_RUN_IN_NETNS([]() -> std::string {
    auto device = std::make_unique<dev::TunDevice>(tun_options());
    const int l = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in6 at = sockaddr6(Ipv6Addr(), 6000);
    if (::bind(l, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0 || ::listen(l, 4) != 0) {
      return std::string("kernel listen: ") + std::strerror(errno);
    }
    Interface iface(std::move(device));  // connect() below is bounded (10 s), so is the kernel
    const auto data = random_bytes(4 << 20, 3);
    std::string failure;
    std::thread client([&] {
      std::error_code ec;
      TcpStream s = iface.connect(kKernel6, 6000, std::chrono::seconds(10), ec);
      if (ec) {
        failure = "stack connect to [fd77::1]:6000: " + ec.message();
        ::shutdown(l, SHUT_RDWR);
        return;
      }
      s.write_all(data, ec);
      s.shutdown(ec);
      std::vector<uint8_t> buf(16);
      s.read(buf, ec);  // the kernel's FIN
    });
    timeval tv{20, 0};
    ::setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const int c = ::accept(l, nullptr, nullptr);
    std::vector<uint8_t> got;
    if (c >= 0) {
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      got = read_all(c);
      ::close(c);
    }
    client.join();
    ::close(l);
    if (!failure.empty()) return failure;
    if (c < 0) return std::string("kernel accept: ") + std::strerror(errno);
    if (got != data) return "kernel got " + std::to_string(got.size()) + " bytes, not the data";
    return "";
  });
}

}  // namespace
}  // namespace utcp
