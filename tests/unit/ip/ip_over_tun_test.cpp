// SPDX-License-Identifier: BSD-2-Clause
// Ipv4Input against the real Linux kernel over a TUN device, inside a private network
// namespace (see support/netns_child.hpp): the kernel's ping is answered, the kernel's UDP
// gets our protocol-unreachable and reports it to the socket, the kernel's SYN is handed
// out as TCP.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "ip/ipv4_input.hpp"
#include "support/netns_child.hpp"
#include "unit/ip/ip_test_packets.hpp"
#include "utcp/tun.hpp"
#include "wire/tcp.hpp"

namespace utcp::ip {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace)

sockaddr_in to_stack(uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(kLocal.value);
  sin.sin_port = htons(port);
  return sin;
}

// The user-space side: a TUN and the IPv4 layer, pumped by hand.
struct UserSide {
  UserSide()
      : tun(dev::TunOptions{.kernel_address = kPeer, .offload = false}),
        input({.local_addresses = {kLocal}}, output),
        rx(2048),
        reply(1500) {}

  // Reads everything the kernel sent within `ms`, answers what the IP layer answers, and
  // returns the last result of the given action (or kDrop if none was seen).
  InputResult pump_until(InputAction want, int ms) {
    for (int waited = 0; waited < ms; waited += 20) {
      pollfd p{tun.fd(), POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      dev::PacketSlot slot{rx, 0};
      while (tun.receive(std::span(&slot, 1), instant_from_us(0)) == 1) {
        InputResult r = input.input(slot.data(), instant_from_us(0), reply);
        if (r.action == InputAction::kReply) tun.transmit_one(r.reply, instant_from_us(0));
        if (r.action == want) return r;
      }
    }
    return {};
  }

  dev::TunDevice tun;
  Ipv4Output output;
  Ipv4Input input;
  std::vector<uint8_t> rx;
  std::vector<uint8_t> reply;
};

TEST(IpOverTun, KernelPingIsAnswered) {
  UTCP_RUN_IN_NETNS([]() -> std::string {
    UserSide user;
    const int raw = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (raw < 0) return std::string("SKIP: raw ICMP socket: ") + std::strerror(errno);
    const auto data = pattern(32, 5);
    const auto request = icmp_message(8, 0, 0x00770001, data);
    const sockaddr_in to = to_stack(0);
    if (::sendto(raw, request.data(), request.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                 sizeof to) < 0) {
      return std::string("sendto: ") + std::strerror(errno);
    }
    if (user.pump_until(InputAction::kReply, 2000).action != InputAction::kReply) {
      return "the IP layer produced no echo reply";
    }
    uint8_t got[2048];
    for (int tries = 0; tries < 50; ++tries) {
      pollfd p{raw, POLLIN, 0};
      if (::poll(&p, 1, 40) <= 0) continue;
      const ssize_t n = ::recv(raw, got, sizeof got, 0);
      if (n < 28 || got[9] != 1) continue;
      const size_t ihl = size_t{static_cast<uint8_t>(got[0] & 0x0f)} * 4;
      const uint8_t* icmp = got + ihl;
      if (icmp[0] != 0) continue;  // not an echo reply
      if (icmp[4] != 0x00 || icmp[5] != 0x77 || icmp[6] != 0 || icmp[7] != 1) return "id/seq";
      if (size_t(n) != ihl + 8 + data.size() || std::memcmp(icmp + 8, data.data(), data.size())) {
        return "echo data differs";
      }
      ::close(raw);
      return "";
    }
    ::close(raw);
    return "the kernel never delivered our echo reply";
  });
}

TEST(IpOverTun, KernelUdpSocketSeesOurProtocolUnreachable) {
  UTCP_RUN_IN_NETNS([]() -> std::string {
    UserSide user;
    const int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const sockaddr_in to = to_stack(9);
    if (::connect(udp, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) return "connect";
    if (::send(udp, "x", 1, 0) != 1) return "send";
    if (user.pump_until(InputAction::kReply, 2000).action != InputAction::kReply) {
      return "no protocol unreachable generated";
    }
    if (user.input.counters().get(IpCounter::icmp_unreachable_sent) != 1) return "counter";
    // Linux maps ICMP protocol unreachable to ENOPROTOOPT on the connected socket, which only
    // happens when our quote matched the socket's addresses and ports.
    for (int tries = 0; tries < 50; ++tries) {
      char c;
      const ssize_t n = ::recv(udp, &c, 1, MSG_DONTWAIT);
      if (n < 0 && errno == ENOPROTOOPT) {
        ::close(udp);
        return "";
      }
      if (n < 0 && errno != EAGAIN) return std::string("unexpected error ") + std::strerror(errno);
      ::usleep(20'000);
    }
    ::close(udp);
    return "the kernel socket never reported the ICMP error";
  });
}

TEST(IpOverTun, KernelSynIsDeliveredAsTcp) {
  UTCP_RUN_IN_NETNS([]() -> std::string {
    UserSide user;
    const int tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const sockaddr_in to = to_stack(8080);
    ::connect(tcp, reinterpret_cast<const sockaddr*>(&to), sizeof to);  // EINPROGRESS
    const InputResult r = user.pump_until(InputAction::kTcp, 2000);
    ::close(tcp);
    if (r.action != InputAction::kTcp) return "no TCP segment delivered";
    if (r.src != kPeer || r.dst != kLocal) return "addresses";
    auto seg = wire::TcpPacket::parse(r.payload, r.src, r.dst);
    if (!seg) return "segment does not parse (checksum over our addresses?)";
    if (!seg->syn() || seg->ack_flag() || seg->dst_port() != 8080) return "not a SYN to 8080";
    if (!seg->options().mss) return "SYN without MSS";
    return "";
  });
}

}  // namespace
}  // namespace utcp::ip
