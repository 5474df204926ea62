// SPDX-License-Identifier: BSD-2-Clause
// PortSteering: the rule that picks a TUN queue for each packet the kernel sends, and the
// eBPF program that carries it out (run through BPF_PROG_TEST_RUN when root may load it).
#include "dev/tun_steering.hpp"

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace utcp::dev {
namespace {

using stack::PortRange;

TEST(PortSteering, SharesSplitTheRangeWithoutOverlap) {
  const PortSteering steering(PortRange{32768, 60999}, 3);
  uint32_t next = 32768;
  for (size_t k = 0; k < 3; ++k) {
    const PortRange s = steering.share(k);
    EXPECT_EQ(s.first, next) << "share " << k;
    EXPECT_EQ(s.last - s.first + 1, 28232 / 3) << "share " << k;
    EXPECT_EQ(steering.queue_for(s.first, 80), k);
    EXPECT_EQ(steering.queue_for(s.last, 80), k);
    next = s.last + 1u;
  }
  EXPECT_LE(next - 1, 60999u);
}

TEST(PortSteering, OtherPortsGoByAHashOfThePeersPort) {
  const PortSteering steering(PortRange{32768, 60999}, 3);
  // A listener's port (7) or the unused remainder at the top of the range: the same queue
  // for every packet of a flow, whatever the stack's port.
  for (uint16_t peer : {1024, 40000, 40001, 40002, 65535}) {
    EXPECT_LT(steering.queue_for(7, peer), 3u);
    EXPECT_EQ(steering.queue_for(60999, peer), steering.queue_for(7, peer));
    EXPECT_EQ(steering.queue_for(32767, peer), steering.queue_for(7, peer));
  }
}

TEST(PortSteering, EvenPeerPortsSpreadOverTwoQueues) {
  // Linux's connect() picks even local ports: "port mod 2" would put every one on queue 0.
  const PortSteering steering(PortRange{32768, 60999}, 2);
  size_t on_one = 0;
  for (uint32_t peer = 32768; peer < 33768; peer += 2) {
    on_one += steering.queue_for(7, static_cast<uint16_t>(peer));
  }
  EXPECT_GT(on_one, 200u);
  EXPECT_LT(on_one, 300u);
}

TEST(PortSteering, TooManyQueuesForTheRangeIsAnError) {
  EXPECT_THROW(PortSteering(PortRange{1000, 1001}, 3), std::invalid_argument);
  EXPECT_THROW(PortSteering(PortRange{1000, 2000}, 0), std::invalid_argument);
}

// --- the program itself, in the kernel ---

std::vector<uint8_t> ipv4(uint8_t protocol, size_t payload, uint8_t ihl = 5, uint16_t frag = 0) {
  std::vector<uint8_t> p(14 + ihl * 4u + payload, 0);
  p[12] = 0x08;  // Ethernet type IPv4: BPF_PROG_TEST_RUN strips this header
  uint8_t* ip = p.data() + 14;
  ip[0] = static_cast<uint8_t>(0x40 | ihl);
  const size_t total = ihl * 4u + payload;
  ip[2] = static_cast<uint8_t>(total >> 8);
  ip[3] = static_cast<uint8_t>(total);
  ip[6] = static_cast<uint8_t>(frag >> 8);
  ip[7] = static_cast<uint8_t>(frag);
  ip[8] = 64;
  ip[9] = protocol;
  const uint8_t kernel[] = {10, 77, 0, 1}, stack[] = {10, 77, 0, 2};
  std::copy(kernel, kernel + 4, ip + 12);
  std::copy(stack, stack + 4, ip + 16);
  return p;
}

void put16(uint8_t* at, uint16_t v) {
  at[0] = static_cast<uint8_t>(v >> 8);
  at[1] = static_cast<uint8_t>(v);
}

// Kernel -> stack TCP segment.
std::vector<uint8_t> tcp_segment(uint16_t peer_port, uint16_t stack_port, uint8_t ihl = 5) {
  auto p = ipv4(6, 20, ihl);
  uint8_t* tcp = p.data() + 14 + ihl * 4u;
  put16(tcp, peer_port);
  put16(tcp + 2, stack_port);
  tcp[12] = 0x50;
  return p;
}

// Kernel -> stack ICMP destination unreachable quoting the stack's segment to the peer.
std::vector<uint8_t> icmp_error(uint8_t type, uint16_t stack_port, uint16_t peer_port,
                                uint8_t inner_ihl = 5) {
  auto p = ipv4(1, 8 + inner_ihl * 4u + 8);
  uint8_t* icmp = p.data() + 14 + 20;
  icmp[0] = type;
  uint8_t* inner = icmp + 8;
  inner[0] = static_cast<uint8_t>(0x40 | inner_ihl);
  inner[9] = 6;
  uint8_t* tcp = inner + inner_ihl * 4u;
  put16(tcp, stack_port);
  put16(tcp + 2, peer_port);
  return p;
}

class SteeringProgram : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to load an eBPF program";
    fd_ = steering_.load();
    if (fd_ < 0) GTEST_SKIP() << "the kernel refused the program: errno " << -fd_;
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
  }
  // The queue the program returns for one packet.
  uint32_t run(const std::vector<uint8_t>& packet) {
    bpf_attr attr{};
    attr.test.prog_fd = static_cast<uint32_t>(fd_);
    attr.test.data_in = reinterpret_cast<uintptr_t>(packet.data());
    attr.test.data_size_in = static_cast<uint32_t>(packet.size());
    attr.test.repeat = 1;
    if (::syscall(SYS_bpf, BPF_PROG_TEST_RUN, &attr, sizeof attr) != 0) {
      ADD_FAILURE() << "BPF_PROG_TEST_RUN: errno " << errno;
      return UINT32_MAX;
    }
    return attr.test.retval;
  }

  const PortSteering steering_{PortRange{32768, 60999}, 3};
  int fd_ = -1;
};

TEST_F(SteeringProgram, TcpFollowsTheRule) {
  const std::vector<uint16_t> stack_ports = {7,     80,    32767, 32768, 32769, 42177, 42178,
                                             51587, 51588, 60997, 60998, 60999, 65535};
  const std::vector<uint16_t> peer_ports = {1, 5000, 40000, 40001, 40002, 65535};
  for (uint16_t sp : stack_ports) {
    for (uint16_t pp : peer_ports) {
      EXPECT_EQ(run(tcp_segment(pp, sp)), steering_.queue_for(sp, pp))
          << "stack port " << sp << ", peer port " << pp;
    }
  }
  // IPv4 options move the TCP header.
  EXPECT_EQ(run(tcp_segment(5000, 51588, 7)), 2u);
  EXPECT_EQ(run(tcp_segment(5000, 42178, 6)), 1u);
}

TEST_F(SteeringProgram, IcmpErrorsFollowTheQuotedSegment) {
  for (uint8_t type : {3, 4, 11, 12}) {
    EXPECT_EQ(run(icmp_error(type, 51588, 5000)), 2u) << "type " << int(type);
    EXPECT_EQ(run(icmp_error(type, 42178, 5000, 6)), 1u) << "type " << int(type);
    EXPECT_EQ(run(icmp_error(type, 7, 40001)), steering_.queue_for(7, 40001))
        << "type " << int(type);
  }
  EXPECT_EQ(run(icmp_error(8, 51588, 5000)), 0u);  // an echo request is no error
}

TEST_F(SteeringProgram, EverythingElseGoesToQueueZero) {
  auto udp = tcp_segment(5000, 51588);
  udp[14 + 9] = 17;
  EXPECT_EQ(run(udp), 0u);
  auto later_fragment = tcp_segment(5000, 51588);
  later_fragment[14 + 7] = 10;  // fragment offset 80 bytes: no ports in this one
  EXPECT_EQ(run(later_fragment), 0u);
  auto first_fragment = tcp_segment(5000, 51588);
  first_fragment[14 + 6] = 0x20;  // MF: the first fragment still holds the ports
  EXPECT_EQ(run(first_fragment), 2u);
  EXPECT_EQ(run(ipv4(6, 2)), 0u);  // truncated: the load fails, the program returns 0
}

// --- IPv6 (issue 12) ---

std::vector<uint8_t> ipv6(uint8_t next_header, size_t payload) {
  std::vector<uint8_t> p(14 + 40 + payload, 0);
  p[12] = 0x86;  // Ethernet type IPv6
  p[13] = 0xdd;
  uint8_t* ip = p.data() + 14;
  ip[0] = 0x60;
  put16(ip + 4, static_cast<uint16_t>(payload));
  ip[6] = next_header;
  ip[7] = 64;
  ip[8] = 0xfd;
  ip[9] = 0x77;
  ip[23] = 1;  // fd77::1 -> fd77::2
  ip[24] = 0xfd;
  ip[25] = 0x77;
  ip[39] = 2;
  return p;
}

std::vector<uint8_t> tcp_segment6(uint16_t peer_port, uint16_t stack_port) {
  auto p = ipv6(6, 20);
  put16(p.data() + 14 + 40, peer_port);
  put16(p.data() + 14 + 42, stack_port);
  p[14 + 40 + 12] = 0x50;
  return p;
}

std::vector<uint8_t> icmp6_error(uint8_t type, uint16_t stack_port, uint16_t peer_port) {
  auto p = ipv6(58, 8 + 40 + 8);
  uint8_t* icmp = p.data() + 14 + 40;
  icmp[0] = type;
  uint8_t* inner = icmp + 8;
  inner[0] = 0x60;
  inner[6] = 6;
  put16(inner + 40, stack_port);
  put16(inner + 42, peer_port);
  return p;
}

TEST_F(SteeringProgram, Ipv6TcpFollowsTheRule) {
  for (uint16_t sp : {7, 80, 32768, 42177, 42178, 51588, 60999, 65535}) {
    for (uint16_t pp : {1, 5000, 40001, 65535}) {
      EXPECT_EQ(run(tcp_segment6(pp, sp)), steering_.queue_for(sp, pp))
          << "stack port " << sp << ", peer port " << pp;
    }
  }
}

TEST_F(SteeringProgram, Icmpv6ErrorsFollowTheQuotedSegment) {
  for (uint8_t type : {1, 2, 3, 4}) {
    EXPECT_EQ(run(icmp6_error(type, 51588, 5000)), 2u) << "type " << int(type);
    EXPECT_EQ(run(icmp6_error(type, 42178, 5000)), 1u) << "type " << int(type);
    EXPECT_EQ(run(icmp6_error(type, 7, 40001)), steering_.queue_for(7, 40001));
  }
  EXPECT_EQ(run(icmp6_error(128, 51588, 5000)), 0u);  // an echo request is no error
}

TEST_F(SteeringProgram, Ipv6WithExtensionHeadersGoesToQueueZero) {
  auto frag = tcp_segment6(5000, 51588);
  frag[14 + 6] = 44;  // a Fragment header first
  EXPECT_EQ(run(frag), 0u);
  auto udp = tcp_segment6(5000, 51588);
  udp[14 + 6] = 17;
  EXPECT_EQ(run(udp), 0u);
  EXPECT_EQ(run(ipv6(6, 2)), 0u);  // truncated
}

}  // namespace
}  // namespace utcp::dev
