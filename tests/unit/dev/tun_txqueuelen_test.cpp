// SPDX-License-Identifier: BSD-2-Clause
// TunOptions::txqueuelen against the real kernel, each test in a forked child inside a fresh
// network namespace (support/netns_child.hpp): the device gets the length asked for, 0 keeps
// the kernel's default (500 for a TUN), and adopting a descriptor leaves it untouched.
#include <gtest/gtest.h>
#include <linux/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "support/netns_child.hpp"
#include "utcp/tun.hpp"

namespace utcp::dev {
namespace {

// The interface's queue length as the kernel reports it (SIOCGIFTXQLEN), -1 on error.
int txqueuelen_of(const std::string& name) {
  const int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return -1;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  const int rc = ::ioctl(sock, SIOCGIFTXQLEN, &ifr);
  ::close(sock);
  return rc < 0 ? -1 : ifr.ifr_qlen;
}

TunOptions options(const char* name) {
  TunOptions t;
  t.name = name;
  t.kernel_address = Ipv4Addr(10, 77, 0, 1);
  t.offload = false;
  return t;
}

TEST(TunTxQueueLen, TheDeviceGetsTheLengthAskedFor) {
  UTCP_RUN_IN_NETNS([]() -> std::string {
    TunOptions t = options("utcpq0");
    t.txqueuelen = 4096;
    TunDevice tun(t);
    const int q = txqueuelen_of("utcpq0");
    if (q != 4096) return "txqueuelen is " + std::to_string(q) + ", not 4096";
    return "";
  });
}

TEST(TunTxQueueLen, ZeroKeepsTheKernelsDefault) {
  UTCP_RUN_IN_NETNS([]() -> std::string {
    TunDevice tun(options("utcpq1"));
    const int q = txqueuelen_of("utcpq1");
    // drivers/net/tun.c: TUN_READQ_SIZE.
    if (q != 500) return "txqueuelen is " + std::to_string(q) + ", not the kernel's 500";
    return "";
  });
}

TEST(TunTxQueueLen, MultiQueueDevicesGetItOnce) {
  UTCP_RUN_IN_NETNS([]() -> std::string {
    TunOptions t = options("utcpq2");
    t.queues = 2;
    t.txqueuelen = 2048;
    const auto queues = TunDevice::open_queues(t);
    if (queues.size() != 2) return "not two queues";
    const int q = txqueuelen_of("utcpq2");
    if (q != 2048) return "txqueuelen is " + std::to_string(q) + ", not 2048";
    return "";
  });
}

}  // namespace
}  // namespace utcp::dev
