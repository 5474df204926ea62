// SPDX-License-Identifier: BSD-2-Clause
// TunDevice against the real kernel. Each test that creates a device does it in a forked
// child that first enters a fresh network namespace (unshare(CLONE_NEWNET)), so the device,
// its addresses and all traffic vanish with the child; nothing can leave the namespace.
#include "utcp/tun.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "support/netns_child.hpp"
#include "support/sockaddr.hpp"
#include "unit/dev/packet_helpers.hpp"
#include "wire/checksum.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"

namespace utcp::dev {
namespace {

using test_util::Slots;
using wire::Ipv4Addr;

const Ipv4Addr kKernel(10, 77, 0, 1);
const Ipv4Addr kStack(10, 77, 0, 2);

std::string bring_up_loopback() {
  const int s = ::socket(AF_INET, SOCK_DGRAM, 0);
  ifreq ifr{};
  std::strcpy(ifr.ifr_name, "lo");
  bool ok = ::ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  ok = ok && ::ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
  ::close(s);
  return ok ? "" : "cannot bring up lo";
}

using test::sockaddr_of;

// Waits up to 2 s for an IPv4 packet of the given protocol on the TUN; skips anything else
// the kernel might emit (IPv6 router solicitations and the like).
std::optional<std::vector<uint8_t>> wait_for_ipv4(TunDevice& tun, uint8_t protocol) {
  Slots slots(8, 65536);
  for (int tries = 0; tries < 20; ++tries) {
    pollfd p{tun.fd(), POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const size_t n = tun.receive(slots.slots, instant_from_us(0));
    for (size_t i = 0; i < n; ++i) {
      const auto data = slots.slots[i].data();
      auto ip = wire::Ipv4Packet::parse(data);
      if (ip && ip->protocol() == protocol) return std::vector<uint8_t>(data.begin(), data.end());
    }
  }
  return std::nullopt;
}

TEST(TunDevice, BadNameIsAClearError) {
  for (const char* name : {"", "bad/name", "name with space", "averyveryverylongname"}) {
    try {
      TunDevice tun(TunOptions{.name = name, .device_path = "/nonexistent/tun"});
      ADD_FAILURE() << "no error for name '" << name << "'";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code().value(), EINVAL);
      EXPECT_NE(std::string(e.what()).find("bad TUN interface name"), std::string::npos)
          << e.what();
    }
  }
}

TEST(TunDevice, MissingDeviceNodeIsAClearError) {
  try {
    TunDevice tun(TunOptions{.device_path = "/nonexistent/net/tun"});
    ADD_FAILURE() << "no error for a missing device node";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_NE(std::string(e.what()).find("no /nonexistent/net/tun: load the tun module"),
              std::string::npos)
        << e.what();
  }
}

TEST(TunDevice, BadMtuIsAClearError) {
  EXPECT_THROW(TunDevice(TunOptions{.device_path = "/nonexistent/tun", .mtu = 65536}),
               std::system_error);
  EXPECT_THROW(TunDevice(TunOptions{.device_path = "/nonexistent/tun", .mtu = 20}),
               std::system_error);
}

TEST(TunDevice, KernelUdpPacketArrivesOnTheTun) {
  UTCP_RUN_IN_NETNS([]() -> std::string {
    if (auto e = bring_up_loopback(); !e.empty()) return e;
    TunDevice tun(TunOptions{.name = "utcp0", .mtu = 1400, .kernel_address = kKernel});
    if (tun.name() != "utcp0") return "name " + tun.name();
    if (tun.mtu() != 1400) return "mtu " + std::to_string(tun.mtu());
    if (tun.fd() < 0 || (::fcntl(tun.fd(), F_GETFL) & O_NONBLOCK) == 0)
      return "fd not non-blocking";

    const int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const sockaddr_in to = sockaddr_of(kStack, 9999);
    const char hello[] = "hello over tun";
    if (::sendto(udp, hello, sizeof hello, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) <
        0) {
      return std::string("sendto: ") + std::strerror(errno);
    }
    const auto packet = wait_for_ipv4(tun, wire::ip_proto::kUdp);
    ::close(udp);
    if (!packet) return "no UDP packet read from the TUN";
    auto ip = wire::Ipv4Packet::parse(*packet);
    if (ip->src() != kKernel || ip->dst() != kStack) return "wrong addresses";
    const auto udp_bytes = ip->payload();
    if (udp_bytes.size() != 8 + sizeof hello) return "wrong UDP length";
    if ((udp_bytes[2] << 8 | udp_bytes[3]) != 9999) return "wrong UDP port";
    if (std::memcmp(udp_bytes.data() + 8, hello, sizeof hello) != 0) return "wrong payload";
    if (tun.counters().rx_packets < 1) return "rx counter not counted";
    // Nothing more is pending: a non-blocking receive returns 0 instead of blocking.
    Slots slots(4, 2000);
    for (size_t n; (n = tun.receive(slots.slots, instant_from_us(0))) > 0;) {
      for (size_t i = 0; i < n; ++i) {
        auto p = wire::Ipv4Packet::parse(slots.slots[i].data());
        if (p && p->protocol() == wire::ip_proto::kUdp) return "UDP packet arrived twice";
      }
    }
    return "";
  });
}

TEST(TunDevice, EchoReplyWrittenToTheTunReachesTheKernel) {
  UTCP_RUN_IN_NETNS([]() -> std::string {
    TunDevice tun(TunOptions{.kernel_address = kKernel});
    const int raw = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (raw < 0) return std::string("SKIP: raw ICMP socket: ") + std::strerror(errno);

    // The kernel pings the stack's address; the request must come out of the TUN.
    uint8_t req[8 + 16] = {8, 0, 0, 0, 0x12, 0x34, 0x00, 0x07};
    for (int i = 0; i < 16; ++i) req[8 + i] = static_cast<uint8_t>(0xa0 + i);
    const uint16_t csum = wire::internet_checksum(req);
    req[2] = static_cast<uint8_t>(csum >> 8);
    req[3] = static_cast<uint8_t>(csum);
    const sockaddr_in to = sockaddr_of(kStack, 0);
    if (::sendto(raw, req, sizeof req, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) {
      return std::string("sendto: ") + std::strerror(errno);
    }
    const auto request = wait_for_ipv4(tun, wire::ip_proto::kIcmp);
    if (!request) return "no ICMP echo request on the TUN";
    auto ip = wire::Ipv4Packet::parse(*request);
    auto icmp = wire::IcmpPacket::parse(ip->payload());
    if (!icmp || icmp->type() != wire::icmp_type::kEchoRequest) return "not an echo request";
    if (icmp->identifier() != 0x1234 || icmp->sequence() != 7) return "wrong id/seq";

    // Answer it by hand (the IP layer is tested elsewhere): swap addresses, type 0.
    std::vector<uint8_t> reply(20 + icmp->bytes().size());
    const auto echo = wire::IcmpRepr::echo_reply(0x1234, 7, icmp->data());
    wire::Ipv4Repr hdr{.src = kStack,
                       .dst = kKernel,
                       .protocol = wire::ip_proto::kIcmp,
                       .payload_len = static_cast<uint16_t>(echo.total_len())};
    hdr.emit(reply);
    echo.emit(std::span(reply).subspan(20));
    if (!tun.transmit_one(reply, instant_from_us(0))) return "TUN refused the reply";
    if (tun.counters().tx_packets != 1) return "tx counter not counted";

    pollfd p{raw, POLLIN, 0};
    uint8_t got[2048];
    for (int tries = 0; tries < 20; ++tries) {
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::recv(raw, got, sizeof got, 0);  // raw sockets include the IP header
      auto rip = wire::Ipv4Packet::parse(std::span<const uint8_t>(got, size_t(n)));
      if (!rip || rip->src() != kStack) continue;
      auto ricmp = wire::IcmpPacket::parse(rip->payload());
      if (!ricmp || ricmp->type() != wire::icmp_type::kEchoReply) continue;
      if (ricmp->identifier() != 0x1234 || ricmp->sequence() != 7) return "reply id/seq changed";
      if (ricmp->data().size() != 16 || std::memcmp(ricmp->data().data(), req + 8, 16) != 0) {
        return "reply data changed";
      }
      ::close(raw);
      return "";
    }
    ::close(raw);
    return "the kernel never delivered the echo reply to the raw socket";
  });
}

TEST(TunDevice, SecondAttachIsBusyAndNamed) {
  UTCP_RUN_IN_NETNS([]() -> std::string {
    TunDevice first(TunOptions{.name = "utcpbusy"});
    try {
      TunDevice second(TunOptions{.name = "utcpbusy"});
      return "second attach succeeded";
    } catch (const std::system_error& e) {
      if (e.code().value() != EBUSY) return std::string("unexpected error: ") + e.what();
      if (std::string(e.what()).find("busy") == std::string::npos) return e.what();
    }
    return "";
  });
}

TEST(TunDevice, KernelPicksNumberForPattern) {
  UTCP_RUN_IN_NETNS([]() -> std::string {
    TunDevice tun(TunOptions{.name = "utcp%d", .mtu = 0, .bring_up = false});
    if (tun.name().rfind("utcp", 0) != 0 || tun.name() == "utcp%d") return "name " + tun.name();
    if (tun.mtu() != 1500) return "default MTU read back as " + std::to_string(tun.mtu());
    return "";
  });
}

TEST(TunDevice, CapabilitiesFollowTheOffloadTheKernelGranted) {
  UTCP_RUN_IN_NETNS([]() -> std::string {
    for (const bool offload : {true, false}) {
      TunDevice tun(TunOptions{.name = "utcp0", .mtu = 1400, .offload = offload});
      const DeviceCapabilities c = tun.capabilities();
      if (c.mtu != 1400) return "mtu " + std::to_string(c.mtu);
      if (c.medium != Medium::kIp) return "medium";
      if (!c.scatter_receive) return "TUN reads scatter (readv)";
      if (offload && !tun.offload_active()) return "";  // kernel refused: nothing more to see
      const bool on = tun.offload_active();
      if (c.rx_checksum_offload != on || c.tso_checksum_offload != on) return "checksum offload";
      if (c.tso_max_bytes != (on ? 65535u : 0u)) return "tso " + std::to_string(c.tso_max_bytes);
    }
    return "";
  });
}

}  // namespace
}  // namespace utcp::dev
