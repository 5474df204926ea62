// SPDX-License-Identifier: BSD-2-Clause
#include "dev/netlink_address.hpp"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace utcp::dev {

namespace {

// NLMSG_ALIGN'd attribute append.
void add_attr(nlmsghdr* h, size_t cap, uint16_t type, const void* data, size_t len) {
  const size_t at = NLMSG_ALIGN(h->nlmsg_len);
  const size_t attr_len = RTA_LENGTH(len);
  if (at + RTA_ALIGN(attr_len) > cap) return;  // the caller's buffer is sized for both
  auto* rta = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(h) + at);
  rta->rta_type = type;
  rta->rta_len = static_cast<unsigned short>(attr_len);
  std::memcpy(RTA_DATA(rta), data, len);
  h->nlmsg_len = static_cast<uint32_t>(at + RTA_ALIGN(attr_len));
}

}  // namespace

int netlink_add_ipv6_address(int ifindex, const Ipv6Addr& addr, uint8_t prefix_len) {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return errno;
  // The kernel always acknowledges (NLM_F_ACK); bounded all the same, so set-up cannot hang.
  const timeval limit{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  alignas(nlmsghdr) char buf[256] = {};
  auto* h = reinterpret_cast<nlmsghdr*>(buf);
  h->nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
  h->nlmsg_type = RTM_NEWADDR;
  // NLM_F_REPLACE: a persistent device that already has the address keeps it, now NODAD.
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
  h->nlmsg_seq = 1;
  auto* ifa = static_cast<ifaddrmsg*>(NLMSG_DATA(h));
  ifa->ifa_family = AF_INET6;
  ifa->ifa_prefixlen = prefix_len;
  ifa->ifa_flags = IFA_F_NODAD | IFA_F_PERMANENT;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<uint32_t>(ifindex);
  add_attr(h, sizeof buf, IFA_LOCAL, addr.bytes.data(), 16);
  add_attr(h, sizeof buf, IFA_ADDRESS, addr.bytes.data(), 16);

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  int err = 0;
  if (::sendto(fd, buf, h->nlmsg_len, 0, reinterpret_cast<const sockaddr*>(&kernel),
               sizeof kernel) < 0) {
    err = errno;
  } else {
    // The acknowledgement: an NLMSG_ERROR whose error is 0 on success, -errno otherwise.
    alignas(nlmsghdr) char reply[1024];
    ssize_t n;
    do {
      n = ::recv(fd, reply, sizeof reply, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      err = errno;
    } else {
      const auto* r = reinterpret_cast<const nlmsghdr*>(reply);
      if (!NLMSG_OK(r, static_cast<unsigned>(n)) || r->nlmsg_type != NLMSG_ERROR ||
          r->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
        err = EPROTO;
      } else {
        err = -static_cast<const nlmsgerr*>(NLMSG_DATA(r))->error;
      }
    }
  }
  ::close(fd);
  return err;
}

bool ipv6_local_route_present(const Ipv6Addr& addr, const std::string& interface) {
  char want[33];
  for (size_t i = 0; i < 16; ++i) std::snprintf(want + 2 * i, 3, "%02x", addr.bytes[i]);
  FILE* f = std::fopen("/proc/net/ipv6_route", "re");
  if (f == nullptr) return false;
  // Each line: destination, its prefix length, source, its length, next hop, metric, refcnt,
  // use, flags (all hex), device.
  char dst[33], dst_len[3], dev[32];
  char line[256];
  bool found = false;
  while (!found && std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "%32s %2s %*s %*s %*s %*s %*s %*s %*s %31s", dst, dst_len, dev) == 3) {
      found = std::strcmp(dst, want) == 0 && std::strcmp(dst_len, "80") == 0 && interface == dev;
    }
  }
  std::fclose(f);
  return found;
}

}  // namespace utcp::dev
