// SPDX-License-Identifier: BSD-2-Clause
// One-line tcpdump-like formatting of segments and packets.
#include "wire/packet_format.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "wire/checksum.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"

namespace utcp::wire {
namespace {

const Ipv4Addr kA(10, 77, 0, 1);
const Ipv4Addr kB(10, 77, 0, 2);

TEST(PacketFormat, SynAckWithLinuxOptions) {
  TcpRepr r;
  r.src_port = 5000;
  r.dst_port = 80;
  r.seq = SeqNum(1);
  r.ack = SeqNum(2);
  r.flags = tcp_flag::kSyn | tcp_flag::kAck;
  r.window = 65535;
  r.options.mss = 1460;
  r.options.sack_permitted = true;
  r.options.timestamps = TcpTimestamps{1, 0};
  r.options.window_scale = 7;
  EXPECT_EQ(format_tcp(r, kA, kB),
            "10.77.0.1:5000 > 10.77.0.2:80 [S.] seq 1 ack 2 win 65535 "
            "<mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7> len 0");
}

TEST(PacketFormat, ParsedDataSegmentWithSack) {
  const std::vector<uint8_t> data(100, 'z');
  TcpRepr r;
  r.src_port = 1;
  r.dst_port = 2;
  r.seq = SeqNum(1000);
  r.ack = SeqNum(5);
  r.flags = tcp_flag::kAck | tcp_flag::kPsh;
  r.window = 10;
  r.options.timestamps = TcpTimestamps{7, 8};
  r.options.sack_count = 1;
  r.options.sack_blocks[0] = {SeqNum(10), SeqNum(20)};
  r.payload = data;
  std::vector<uint8_t> buf(r.total_len());
  ASSERT_EQ(r.emit(buf, kA, kB), buf.size());
  auto p = TcpPacket::parse(buf, kA, kB);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(format_tcp(*p, kA, kB),
            "10.77.0.1:1 > 10.77.0.2:2 [P.] seq 1000 ack 5 win 10 "
            "<nop,nop,TS val 7 ecr 8,nop,nop,sack 1 {10:20}> len 100");
}

TEST(PacketFormat, UnknownOptionsAndEolAsOnTheWire) {
  // SYN with kind 30 (len 4), then EOL and padding.
  std::vector<uint8_t> s = {0, 1,   0, 2, 0, 0, 0,  9, 0,    0,    0, 0, 0x70, 0x02,
                            0, 100, 0, 0, 0, 0, 30, 4, 0xab, 0xcd, 0, 0, 0,    0};
  const uint16_t c = ipv4_pseudo_header(kA.value, kB.value, 6, uint16_t(s.size())).add(s).finish();
  s[16] = uint8_t(c >> 8);
  s[17] = uint8_t(c);
  auto p = TcpPacket::parse(s, kA, kB);
  ASSERT_TRUE(p.ok()) << to_string(p.error());
  EXPECT_EQ(format_tcp(*p, kA, kB),
            "10.77.0.1:1 > 10.77.0.2:2 [S] seq 9 win 100 <opt-30:4,eol> len 0");
}

TEST(PacketFormat, FlagsInTcpdumpOrder) {
  EXPECT_EQ(format_tcp_flags(0), "none");
  EXPECT_EQ(format_tcp_flags(tcp_flag::kFin | tcp_flag::kAck), "F.");
  EXPECT_EQ(format_tcp_flags(tcp_flag::kRst), "R");
  EXPECT_EQ(format_tcp_flags(0xff), "FSRP.UEW");
}

TEST(PacketFormat, NoAckFieldWithoutAckFlagAndUrgentShown) {
  TcpRepr r;
  r.flags = tcp_flag::kSyn | tcp_flag::kUrg;
  r.urgent = 3;
  r.ack = SeqNum(99);
  EXPECT_EQ(format_tcp(r, kA, kB), "10.77.0.1:0 > 10.77.0.2:0 [SU] seq 0 win 0 urg 3 len 0");
}

TEST(PacketFormat, WholePackets) {
  const std::vector<uint8_t> data{1, 2, 3, 4};
  IcmpRepr icmp = IcmpRepr::echo_request(7, 9, data);
  Ipv4Repr ip;
  ip.src = kA;
  ip.dst = kB;
  ip.protocol = ip_proto::kIcmp;
  ip.payload_len = static_cast<uint16_t>(icmp.total_len());
  std::vector<uint8_t> pkt(ip.total_len());
  ip.emit(pkt);
  icmp.emit(std::span<uint8_t>(pkt).subspan(20));
  EXPECT_EQ(format_ipv4_packet(pkt),
            "10.77.0.1 > 10.77.0.2 icmp type 8 code 0 echo request id 7 seq 9 len 4");

  TcpRepr t;
  t.src_port = 80;
  t.dst_port = 5000;
  t.flags = tcp_flag::kRst;
  ip.protocol = ip_proto::kTcp;
  ip.payload_len = static_cast<uint16_t>(t.total_len());
  pkt.assign(ip.total_len(), 0);
  ip.emit(pkt);
  t.emit(std::span<uint8_t>(pkt).subspan(20), kA, kB);
  EXPECT_EQ(format_ipv4_packet(pkt), "10.77.0.1:80 > 10.77.0.2:5000 [R] seq 0 win 0 len 0");
  pkt[30] ^= 1;  // break the TCP checksum
  EXPECT_EQ(format_ipv4_packet(pkt), "10.77.0.1 > 10.77.0.2 invalid tcp (bad-checksum)");
  pkt[0] = 0x65;
  EXPECT_EQ(format_ipv4_packet(pkt), "invalid ipv4 (bad-version)");
}

}  // namespace
}  // namespace utcp::wire
