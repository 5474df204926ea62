// SPDX-License-Identifier: BSD-2-Clause
// TunDevice::adopt(): a TUN descriptor opened and configured by someone else (a privileged
// helper, Android's VpnService) runs the stack in a process without CAP_NET_ADMIN. The
// kernel-side tests run in a forked child in a fresh network namespace (see netns_child.hpp).
#include <fcntl.h>
#include <linux/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "support/netns_child.hpp"
#include "support/sockaddr.hpp"
#include "utcp/stack.hpp"
#include "utcp/tun.hpp"

namespace utcp::dev {
namespace {

const Ipv4Addr kKernel(10, 77, 0, 1);
const Ipv4Addr kStack(10, 77, 0, 2);

// adopt(fd) must fail with `err` and a message containing `words`, leaving fd open.
void expect_refused(int fd, int err, const std::string& words) {
  try {
    TunDevice tun = TunDevice::adopt(fd);
    ADD_FAILURE() << "fd " << fd << " adopted as " << tun.name();
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), err) << e.what();
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
  if (fd >= 0) {
    EXPECT_GE(::fcntl(fd, F_GETFD), 0) << "a refused fd must stay the caller's";
  }
}

TEST(TunAdopt, DescriptorThatIsNoTunIsAClearError) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  expect_refused(p[0], EINVAL, "not a TUN descriptor");
  const int efd = ::eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(efd, 0);
  expect_refused(efd, EINVAL, "not a TUN descriptor");
  const int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(sock, 0);
  expect_refused(sock, EINVAL, "not a TUN descriptor");
  for (int fd : {p[0], p[1], efd, sock}) ::close(fd);
  expect_refused(-1, EBADF, "not an open descriptor");
}

TEST(TunAdopt, UnattachedTunDescriptorIsAClearError) {
  const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) GTEST_SKIP() << "/dev/net/tun: " << std::strerror(errno);
  expect_refused(fd, EINVAL, "not attached to an interface");
  ::close(fd);
}

// Pumps `stack` on `tun` until done() or 3 s pass.
template <class Done>
bool pump(Stack& stack, TunDevice& tun, Done done) {
  for (int i = 0; i < 300 && !done(); ++i) {
    pollfd p{tun.fd(), POLLIN, 0};
    ::poll(&p, 1, 10);
    stack.process(instant_from_us(int64_t{i} * 10'000));
  }
  return done();
}

TEST(TunAdopt, UnprivilegedProcessRunsTheStackOnAHelpersDescriptor) {
  if (auto why = test::netns_tun_unavailable(); !why.empty()) GTEST_SKIP() << why;
  UTCP_RUN_IN_NETNS([]() -> std::string {
    // The "helper": creates and configures the interface, keeps only a descriptor of it.
    int fd = -1;
    {
      TunDevice helper(
          TunOptions{.name = "utcpad", .mtu = 1280, .kernel_address = kKernel, .offload = false});
      fd = ::dup(helper.fd());
      if (fd < 0) return "dup failed";
      const int fl = ::fcntl(fd, F_GETFL);
      ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);  // as VpnService hands it over: blocking
    }
    const int lo = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq ifr{};
    std::strcpy(ifr.ifr_name, "lo");
    ::ioctl(lo, SIOCGIFFLAGS, &ifr);
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    ::ioctl(lo, SIOCSIFFLAGS, &ifr);
    ::close(lo);

    // The app: no privilege at all from here on (any configuration call would now fail).
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) return "cannot drop to nobody";
    try {
      TunDevice tun(TunOptions{.name = "utcpx"});
      return "still privileged: created a TUN after dropping root";
    } catch (const std::system_error& e) {
      const int err = e.code().value();
      if (err != EPERM && err != EACCES) return std::string("unexpected: ") + e.what();
    }

    TunDevice tun = TunDevice::adopt(fd);
    if (tun.fd() != fd) return "adopted a different fd";
    if (tun.name() != "utcpad") return "name read back as " + tun.name();
    if (tun.mtu() != 1280) return "MTU read back as " + std::to_string(tun.mtu());
    if (tun.offload_active()) return "offload claimed on a plain descriptor";
    if ((::fcntl(fd, F_GETFL) & O_NONBLOCK) == 0) return "fd left blocking";

    // It works: a kernel TCP client completes a handshake with a stack on the adopted device.
    StackConfig cfg;
    cfg.address = kStack;
    Stack stack(tun, cfg);
    if (stack.config().tcp.mss != 1240) return "MSS not derived from the adopted MTU";
    std::error_code ec;
    const SocketId listener = stack.listen(7, ec);
    if (ec) return "listen: " + ec.message();
    const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const sockaddr_in to = test::sockaddr_of(kStack, 7);
    if (::connect(client, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0 ||
        errno != EINPROGRESS) {
      return std::string("connect: ") + std::strerror(errno);
    }
    SocketId conn = kNoSocket;
    const bool accepted = pump(stack, tun, [&] {
      std::error_code e;
      if (conn == kNoSocket) conn = stack.accept(listener, e);
      return conn != kNoSocket;
    });
    ::close(client);
    if (!accepted) return "no connection accepted over the adopted TUN";
    if (stack.state(conn) != tcp::State::kEstablished) return "accepted, not established";
    if (tun.counters().rx_packets < 2 || tun.counters().tx_packets < 1) return "counters";
    return "";
  });
}

}  // namespace
}  // namespace utcp::dev
