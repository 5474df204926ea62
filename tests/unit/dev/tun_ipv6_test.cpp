// SPDX-License-Identifier: BSD-2-Clause
// TunDevice's IPv6 side against the real kernel, each test in a forked child inside a fresh
// network namespace (support/netns_child.hpp): the kernel's address and the route to its
// prefix are configured by the device, the kernel's IPv6 packets reach the TUN whole, and
// IPv6 packets written to the TUN reach the kernel's sockets.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "support/netns_child.hpp"
#include "unit/dev/packet_helpers.hpp"
#include "utcp/tun.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv6.hpp"

namespace utcp::dev {
namespace {

using test_util::Slots;

const Ipv6Addr kKernel6(0xfd77, 0, 0, 0, 0, 0, 0, 1);
const Ipv6Addr kStack6(0xfd77, 0, 0, 0, 0, 0, 0, 2);

sockaddr_in6 sockaddr6_of(const Ipv6Addr& a, uint16_t port) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  std::memcpy(&sin6.sin6_addr, a.bytes.data(), 16);
  sin6.sin6_port = htons(port);
  return sin6;
}

// "fd770000000000000000000000000001" as /proc/net/if_inet6 and ipv6_route write addresses.
std::string proc_hex(const Ipv6Addr& a) {
  std::string s;
  char b[3];
  for (uint8_t byte : a.bytes) {
    std::snprintf(b, sizeof b, "%02x", byte);
    s += b;
  }
  return s;
}

// The /proc/net/if_inet6 line of `addr` on `dev`: address, ifindex, prefix length, scope,
// flags (hex), name. Empty if the kernel does not list it.
std::string if_inet6_line(const Ipv6Addr& addr, const std::string& dev) {
  std::ifstream in("/proc/net/if_inet6");
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string a, idx, plen, scope, flags, name;
    f >> a >> idx >> plen >> scope >> flags >> name;
    if (a == proc_hex(addr) && name == dev) return line;
  }
  return "";
}

bool has_route(const Ipv6Addr& prefix, unsigned len, const std::string& dev) {
  std::ifstream in("/proc/net/ipv6_route");
  char want_len[3];
  std::snprintf(want_len, sizeof want_len, "%02x", len);
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string dst, dst_len, name;
    f >> dst >> dst_len;
    for (int i = 0; i < 8; ++i) f >> name;  // src, src len, next hop, metric, refs, use, flags
    if (dst == proc_hex(prefix) && dst_len == want_len && name == dev) return true;
  }
  return false;
}

// Waits up to 2 s for an IPv6 packet with this next header on the TUN; skips the rest
// (router solicitations, MLD reports).
std::optional<std::vector<uint8_t>> wait_for_ipv6(TunDevice& tun, uint8_t next_header) {
  Slots slots(8, 65536);
  for (int tries = 0; tries < 20; ++tries) {
    pollfd p{tun.fd(), POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const size_t n = tun.receive(slots.slots, instant_from_us(0));
    for (size_t i = 0; i < n; ++i) {
      const auto data = slots.slots[i].data();
      auto ip = wire::Ipv6Packet::parse(data);
      if (ip && ip->next_header() == next_header) {
        return std::vector<uint8_t>(data.begin(), data.end());
      }
    }
  }
  return std::nullopt;
}

TEST(TunIpv6, KernelAddressAndPrefixRouteAreConfigured) {
  UTCP_RUN_IN_NETNS([]() -> std::string {
    // A namespace whose new interfaces start with IPv6 off: the device must turn it on.
    {
      std::ofstream d("/proc/sys/net/ipv6/conf/default/disable_ipv6");
      if (!d) return "SKIP: no IPv6 in this kernel";
      d << "1";
    }
    TunDevice tun(TunOptions{.name = "utcp6a", .kernel_address6 = kKernel6, .prefix6 = 64});
    const std::string line = if_inet6_line(kKernel6, "utcp6a");
    if (line.empty()) return "fd77::1 is not on utcp6a";
    std::istringstream f(line);
    std::string a, idx, plen, scope, flags;
    f >> a >> idx >> plen >> scope >> flags;
    if (plen != "40") return "prefix length is 0x" + plen + ", not 64: " + line;
    // IFA_F_TENTATIVE (0x40) or IFA_F_DADFAILED (0x08): the address is not usable yet.
    if ((std::stoul(flags, nullptr, 16) & 0x48) != 0) return "address not usable: " + line;
    if (!has_route(Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 0), 64, "utcp6a")) {
      return "no route to fd77::/64 via utcp6a";
    }
    return "";
  });
}

TEST(TunIpv6, KernelUdpOverIpv6ArrivesAndAnswerReachesTheKernel) {
  UTCP_RUN_IN_NETNS([]() -> std::string {
    if (::access("/proc/sys/net/ipv6", F_OK) != 0) return "SKIP: no IPv6 in this kernel";
    TunDevice tun(
        TunOptions{.kernel_address = Ipv4Addr(10, 77, 0, 1), .kernel_address6 = kKernel6});
    const int udp = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const sockaddr_in6 here = sockaddr6_of(kKernel6, 4242);
    if (::bind(udp, reinterpret_cast<const sockaddr*>(&here), sizeof here) != 0) {
      return std::string("bind [fd77::1]:4242: ") + std::strerror(errno);
    }
    const sockaddr_in6 to = sockaddr6_of(kStack6, 9999);
    const char hello[] = "hello over IPv6";
    if (::sendto(udp, hello, sizeof hello, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) <
        0) {
      return std::string("sendto [fd77::2]:9999: ") + std::strerror(errno);
    }
    const auto packet = wait_for_ipv6(tun, wire::ipv6_next::kUdp);
    if (!packet) return "no IPv6 UDP packet read from the TUN";
    auto ip = wire::Ipv6Packet::parse(*packet);
    if (ip->src() != kKernel6 || ip->dst() != kStack6) return "wrong addresses";
    const auto in = ip->payload();
    if (in.size() != 8 + sizeof hello || std::memcmp(in.data() + 8, hello, sizeof hello) != 0) {
      return "wrong UDP payload";
    }

    // Answer from [fd77::2]:9999 by hand; the kernel's socket must receive it.
    const char answer[] = "answer";
    std::vector<uint8_t> reply(40 + 8 + sizeof answer);
    wire::Ipv6Repr hdr{.src = kStack6,
                       .dst = kKernel6,
                       .next_header = wire::ipv6_next::kUdp,
                       .payload_len = static_cast<uint16_t>(8 + sizeof answer)};
    hdr.emit(reply);
    uint8_t* u = reply.data() + 40;
    u[0] = 9999 >> 8, u[1] = 9999 & 0xff, u[2] = 4242 >> 8, u[3] = 4242 & 0xff;
    u[4] = 0, u[5] = static_cast<uint8_t>(8 + sizeof answer);
    std::memcpy(u + 8, answer, sizeof answer);
    const uint16_t csum =
        wire::ipv6_pseudo_header(kStack6, kKernel6, wire::ipv6_next::kUdp, 8 + sizeof answer)
            .add(std::span<const uint8_t>(u, 8 + sizeof answer))
            .finish();
    u[6] = static_cast<uint8_t>(csum >> 8), u[7] = static_cast<uint8_t>(csum);
    if (!tun.transmit_one(reply, instant_from_us(0))) return "TUN refused the reply";

    pollfd p{udp, POLLIN, 0};
    char got[64] = {};
    if (::poll(&p, 1, 2000) <= 0) return "the kernel never delivered the IPv6 reply";
    sockaddr_in6 from{};
    socklen_t from_len = sizeof from;
    const ssize_t n =
        ::recvfrom(udp, got, sizeof got, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    ::close(udp);
    if (n != static_cast<ssize_t>(sizeof answer) || std::memcmp(got, answer, sizeof answer) != 0) {
      return "wrong reply payload";
    }
    if (std::memcmp(&from.sin6_addr, kStack6.bytes.data(), 16) != 0)
      return "reply not from fd77::2";
    return "";
  });
}

TEST(TunIpv6, BadIpv6OptionsAreClearErrors) {
  const auto error_of = [](const TunOptions& o) -> std::string {
    try {
      TunDevice tun(o);
    } catch (const std::system_error& e) {
      return e.code().value() == EINVAL ? e.what() : "errno " + std::to_string(e.code().value());
    }
    return "no error";
  };
  TunOptions o{.device_path = "/nonexistent/tun", .kernel_address6 = kKernel6};
  o.prefix6 = 129;
  EXPECT_NE(error_of(o).find("bad IPv6 prefix length 129"), std::string::npos) << error_of(o);
  o.prefix6 = 64;
  o.mtu = 1279;
  EXPECT_NE(error_of(o).find("below IPv6's minimum of 1280"), std::string::npos) << error_of(o);
  o.mtu = 1500;
  for (const Ipv6Addr& bad : {Ipv6Addr(), Ipv6Addr(0xff02, 0, 0, 0, 0, 0, 0, 1),
                              Ipv6Addr::v4_mapped(Ipv4Addr(10, 77, 0, 1))}) {
    o.kernel_address6 = bad;
    EXPECT_NE(error_of(o).find("needs a unicast address"), std::string::npos) << error_of(o);
  }
}

}  // namespace
}  // namespace utcp::dev
