// SPDX-License-Identifier: BSD-2-Clause
// Packets written by the Linux kernel (tests/data/README.md): they parse to the expected
// fields, and re-emitting the parsed reprs reproduces them byte for byte, which shows
// that utcp's option order and padding are Linux's.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hex_vectors.hpp"

#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/packet_format.hpp"
#include "wire/tcp.hpp"

namespace utcp::wire {
namespace {

const Ipv4Addr kKernel(10, 77, 0, 1);
const Ipv4Addr kStack(10, 77, 0, 2);

// Emits the parsed IPv4 repr and the given transport bytes' repr back into a packet.
std::vector<uint8_t> reemit_tcp(const Ipv4Packet& ip, const TcpPacket& tcp) {
  const TcpRepr t = tcp.repr();
  Ipv4Repr r = ip.repr();
  std::vector<uint8_t> out(r.header_len() + t.total_len());
  EXPECT_EQ(r.emit(out), 20u);
  EXPECT_EQ(t.emit(std::span<uint8_t>(out).subspan(20), r.src, r.dst), t.total_len());
  return out;
}

struct Tcp {
  std::vector<uint8_t> bytes;
  Ipv4Packet ip;
  TcpPacket tcp;
};

// Loads and parses a TCP vector; bytes keep the views alive.
void load_tcp(const std::string& name, Tcp& v) {
  v.bytes = load_hex(name);
  auto ip = Ipv4Packet::parse(v.bytes);
  ASSERT_TRUE(ip.ok()) << name << ": " << to_string(ip.error());
  EXPECT_EQ(ip->bytes().size(), v.bytes.size());
  EXPECT_EQ(ip->protocol(), ip_proto::kTcp);
  EXPECT_EQ(ip->src(), kKernel);
  EXPECT_EQ(ip->dst(), kStack);
  EXPECT_EQ(ip->ttl(), 64);
  EXPECT_TRUE(ip->df());
  EXPECT_FALSE(ip->is_fragment());
  auto tcp = TcpPacket::parse(ip->payload(), ip->src(), ip->dst());
  ASSERT_TRUE(tcp.ok()) << name << ": " << to_string(tcp.error());
  v.ip = *ip;
  v.tcp = *tcp;
}

TEST(KernelVectors, ClientSyn) {
  Tcp v;
  ASSERT_NO_FATAL_FAILURE(load_tcp("kernel-syn", v));
  const auto& t = v.tcp;
  EXPECT_EQ(t.dst_port(), 5000);
  EXPECT_EQ(t.flags(), tcp_flag::kSyn);
  EXPECT_EQ(t.data_offset(), 10);  // 20 bytes of options
  EXPECT_EQ(t.options().mss, 1460);
  EXPECT_TRUE(t.options().sack_permitted);
  ASSERT_TRUE(t.options().timestamps.has_value());
  EXPECT_EQ(t.options().timestamps->tsecr, 0u);
  EXPECT_TRUE(t.options().window_scale.has_value());
  EXPECT_EQ(t.options().sack_count, 0);
  EXPECT_TRUE(t.payload().empty());
  EXPECT_EQ(t.repr().seq_len(), 1u);
  EXPECT_EQ(reemit_tcp(v.ip, t), v.bytes) << format_tcp(t, kKernel, kStack);
}

TEST(KernelVectors, ServerSynAck) {
  Tcp v;
  ASSERT_NO_FATAL_FAILURE(load_tcp("kernel-synack", v));
  const auto& t = v.tcp;
  EXPECT_EQ(t.src_port(), 6000);
  EXPECT_EQ(t.dst_port(), 40000);
  EXPECT_EQ(t.flags(), tcp_flag::kSyn | tcp_flag::kAck);
  EXPECT_EQ(t.ack(), SeqNum(1000001));  // the reader's SYN had seq 1000000
  EXPECT_EQ(t.options().mss, 1460);
  EXPECT_TRUE(t.options().sack_permitted);
  ASSERT_TRUE(t.options().timestamps.has_value());
  EXPECT_EQ(t.options().timestamps->tsecr, 777u);  // echoes the reader's TS val
  EXPECT_TRUE(t.options().window_scale.has_value());
  EXPECT_EQ(reemit_tcp(v.ip, t), v.bytes) << format_tcp(t, kKernel, kStack);
}

TEST(KernelVectors, DataSegment) {
  Tcp synack, v;
  ASSERT_NO_FATAL_FAILURE(load_tcp("kernel-synack", synack));
  ASSERT_NO_FATAL_FAILURE(load_tcp("kernel-data", v));
  const auto& t = v.tcp;
  EXPECT_EQ(t.flags(), tcp_flag::kPsh | tcp_flag::kAck);
  EXPECT_EQ(t.seq(), synack.tcp.seq() + 1);
  EXPECT_EQ(t.ack(), SeqNum(1000001));
  EXPECT_EQ(t.data_offset(), 8);  // NOP, NOP, TS
  EXPECT_FALSE(t.options().mss);
  EXPECT_FALSE(t.options().sack_permitted);
  ASSERT_TRUE(t.options().timestamps.has_value());
  EXPECT_EQ(t.options().timestamps->tsecr, 778u);
  const std::string text(t.payload().begin(), t.payload().end());
  EXPECT_EQ(text, "hello from the kernel\n");
  EXPECT_EQ(reemit_tcp(v.ip, t), v.bytes) << format_tcp(t, kKernel, kStack);
}

TEST(KernelVectors, DuplicateAckWithSack) {
  Tcp v;
  ASSERT_NO_FATAL_FAILURE(load_tcp("kernel-sack", v));
  const auto& t = v.tcp;
  EXPECT_EQ(t.flags(), tcp_flag::kAck);
  EXPECT_EQ(t.ack(), SeqNum(1000001));  // the hole is still missing
  EXPECT_TRUE(t.payload().empty());
  ASSERT_TRUE(t.options().timestamps.has_value());
  // RFC 7323 §4.3: an out-of-order segment does not update TS.Recent (778, not 779).
  EXPECT_EQ(t.options().timestamps->tsecr, 778u);
  ASSERT_EQ(t.options().sack_count, 1);
  // RFC 2018 §4: the block covers the 5 bytes sent at 1000001 + 10.
  EXPECT_EQ(t.options().sacks()[0], (SackBlock{SeqNum(1000011), SeqNum(1000016)}));
  EXPECT_EQ(t.data_offset(), 11);  // nop,nop,TS + nop,nop,sack 1
  EXPECT_EQ(reemit_tcp(v.ip, t), v.bytes) << format_tcp(t, kKernel, kStack);
}

TEST(KernelVectors, SynAckWithoutTimestamps) {
  Tcp v;
  ASSERT_NO_FATAL_FAILURE(load_tcp("kernel-synack-nots", v));
  const auto& t = v.tcp;
  EXPECT_EQ(t.dst_port(), 40003);
  EXPECT_EQ(t.flags(), tcp_flag::kSyn | tcp_flag::kAck);
  EXPECT_EQ(t.ack(), SeqNum(3000001));
  EXPECT_EQ(t.options().mss, 1460);
  EXPECT_TRUE(t.options().sack_permitted);
  EXPECT_FALSE(t.options().timestamps.has_value());  // RFC 7323 §3.2: not offered, not sent
  EXPECT_TRUE(t.options().window_scale.has_value());
  EXPECT_EQ(t.data_offset(), 8);
  EXPECT_EQ(reemit_tcp(v.ip, t), v.bytes) << format_tcp(t, kKernel, kStack);
}

TEST(KernelVectors, ResetToClosedPort) {
  Tcp v;
  ASSERT_NO_FATAL_FAILURE(load_tcp("kernel-rst", v));
  const auto& t = v.tcp;
  EXPECT_EQ(t.src_port(), 6001);
  EXPECT_EQ(t.dst_port(), 40001);
  // RFC 9293 §3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> for a SYN seq 5000.
  EXPECT_EQ(t.flags(), tcp_flag::kRst | tcp_flag::kAck);
  EXPECT_EQ(t.seq(), SeqNum(0));
  EXPECT_EQ(t.ack(), SeqNum(5001));
  EXPECT_EQ(t.options(), TcpOptions{});
  EXPECT_EQ(reemit_tcp(v.ip, t), v.bytes);
  EXPECT_EQ(format_ipv4_packet(v.bytes),
            "10.77.0.1:6001 > 10.77.0.2:40001 [R.] seq 0 ack 5001 win 0 len 0");
}

TEST(KernelVectors, EchoRequest) {
  const auto bytes = load_hex("kernel-echo-request");
  auto ip = Ipv4Packet::parse(bytes);
  ASSERT_TRUE(ip.ok()) << to_string(ip.error());
  EXPECT_EQ(ip->protocol(), ip_proto::kIcmp);
  EXPECT_EQ(ip->src(), kKernel);
  EXPECT_EQ(ip->dst(), kStack);
  auto icmp = IcmpPacket::parse(ip->payload());
  ASSERT_TRUE(icmp.ok()) << to_string(icmp.error());
  EXPECT_EQ(icmp->type(), icmp_type::kEchoRequest);
  EXPECT_EQ(icmp->code(), 0);
  EXPECT_EQ(icmp->sequence(), 1);
  EXPECT_EQ(icmp->data().size(), 56u);  // ping's default
  // Re-emit both layers from their reprs.
  const IcmpRepr r = IcmpRepr::echo_request(icmp->identifier(), icmp->sequence(), icmp->data());
  std::vector<uint8_t> out(20 + r.total_len());
  ASSERT_EQ(ip->repr().emit(out), 20u);
  ASSERT_EQ(r.emit(std::span<uint8_t>(out).subspan(20)), r.total_len());
  EXPECT_EQ(out, bytes);
}

TEST(KernelVectors, PortUnreachableQuotesOurDatagram) {
  const auto bytes = load_hex("kernel-port-unreach");
  auto ip = Ipv4Packet::parse(bytes);
  ASSERT_TRUE(ip.ok()) << to_string(ip.error());
  EXPECT_EQ(ip->dscp(), 48);  // Linux sends ICMP errors as CS6 (TOS 0xc0)
  EXPECT_FALSE(ip->df());
  auto icmp = IcmpPacket::parse(ip->payload());
  ASSERT_TRUE(icmp.ok()) << to_string(icmp.error());
  EXPECT_EQ(icmp->type(), icmp_type::kDestUnreachable);
  EXPECT_EQ(icmp->code(), icmp_unreach::kPort);
  EXPECT_TRUE(icmp->is_error());
  auto q = icmp->quote();
  ASSERT_TRUE(q.ok()) << to_string(q.error());
  EXPECT_EQ(q->ip.src(), kStack);
  EXPECT_EQ(q->ip.dst(), kKernel);
  EXPECT_EQ(q->ip.protocol(), ip_proto::kUdp);
  EXPECT_EQ(q->ip.identification(), 0x4321);  // what the reader sent
  ASSERT_TRUE(q->has_ports());
  EXPECT_EQ(q->src_port(), 40002);
  EXPECT_EQ(q->dst_port(), 6002);
  EXPECT_EQ(format_ipv4_packet(bytes),
            "10.77.0.1 > 10.77.0.2 icmp type 3 code 3 quoting 10.77.0.2:40002 > "
            "10.77.0.1:6002 proto 17 len 32");
  const IcmpRepr r = icmp->repr();
  std::vector<uint8_t> out(20 + r.total_len());
  ASSERT_EQ(ip->repr().emit(out), 20u);
  ASSERT_EQ(r.emit(std::span<uint8_t>(out).subspan(20)), r.total_len());
  EXPECT_EQ(out, bytes);
}

TEST(KernelVectors, EveryVectorFailsWithOneFlippedBit) {
  // A checksum somewhere covers every byte of every vector: flipping any single bit
  // must make some layer reject the packet (or, for the TCP payload, its TCP checksum).
  for (const char* name :
       {"kernel-syn", "kernel-synack", "kernel-data", "kernel-sack", "kernel-synack-nots",
        "kernel-rst", "kernel-echo-request", "kernel-port-unreach"}) {
    const auto good = load_hex(name);
    for (size_t bit = 0; bit < good.size() * 8; ++bit) {
      auto bad = good;
      bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      auto ip = Ipv4Packet::parse(bad);
      bool rejected = !ip.ok();
      if (!rejected && ip->protocol() == ip_proto::kTcp) {
        rejected = !TcpPacket::parse(ip->payload(), ip->src(), ip->dst()).ok();
      } else if (!rejected && ip->protocol() == ip_proto::kIcmp) {
        rejected = !IcmpPacket::parse(ip->payload()).ok();
      } else if (!rejected) {
        rejected = ip->protocol() != good[9];  // now claims another protocol
      }
      EXPECT_TRUE(rejected) << name << " bit " << bit;
    }
  }
}

}  // namespace
}  // namespace utcp::wire
