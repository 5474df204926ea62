// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// fuzz_stack_input's fixed ground: addresses and ports, the two byte streams' patterns, the
// input reader, and packet builders that need nothing of the harness's state.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "fuzz_check.hpp"
#include "utcp/address.hpp"
#include "wire/checksum.hpp"
#include "wire/endian.hpp"
#include "wire/ipv4.hpp"
#include "wire/seq_num.hpp"
#include "wire/tcp.hpp"

namespace stack_input {

using namespace utcp;

const Ipv4Addr kStackAddr(10, 77, 0, 2);
const Ipv4Addr kPeerAddr(10, 77, 0, 1);
constexpr uint16_t kListenPort = 80;
constexpr uint16_t kPeerPort = 40000;
constexpr uint16_t kActivePeerPort = 5001;  // where the application's active open goes
// SYN-cookie handshakes come from four ports of their own; the SYN queue is kept full by
// unanswered SYNs from kSynBacklog others.
constexpr uint16_t kCookiePeerPort = 41005;
constexpr uint16_t kFillPeerPort = 43000;
constexpr uint32_t kSynBacklog = 4;
constexpr uint32_t kPeerIss = 0xfffff000;  // close to the wrap on purpose
constexpr uint8_t kPeerWscale = 2;
constexpr size_t kLinkMtu = 65535;           // room for bulk segments (placement starts at 16 KiB)
constexpr uint32_t kRecvBufferMax = 262144;  // the receive ring's (and window's) upper bound

// The bytes of each direction's stream are a function of their offset, so any byte the stack
// delivers or sends can be checked without keeping the stream.
uint8_t peer_byte(uint64_t off) {
  return static_cast<uint8_t>(off * 131 + 7);
}
uint8_t app_byte(uint64_t off) {
  return static_cast<uint8_t>(off * 29 + 101);
}

class Input {
 public:
  explicit Input(std::span<const uint8_t> d) : d_(d) {}
  bool empty() const { return pos_ >= d_.size(); }
  uint8_t u8() { return pos_ < d_.size() ? d_[pos_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }
  uint32_t u32() { return uint32_t{u16()} << 16 | u16(); }
  std::span<const uint8_t> bytes(size_t n) {
    n = std::min(n, d_.size() - std::min(pos_, d_.size()));
    auto s = d_.subspan(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  std::span<const uint8_t> d_;
  size_t pos_ = 0;
};

// The IPv4 packet of TCP segment r from the peer in buf, its TCP options followed by tcp_nops
// bytes of NOP (if the header has room) and its IPv4 header by ip_nops (RFC 791 §3.1: option
// type 1), checksums fixed up; returns the packet's length.
inline size_t emit_padded(std::span<uint8_t> buf, const wire::TcpRepr& r, size_t tcp_nops,
                          size_t ip_nops) {
  uint8_t* const tcp = buf.data() + wire::kIpv4HeaderMin + ip_nops;
  check(wire::kIpv4HeaderMin + ip_nops + r.total_len() + tcp_nops <= buf.size());
  const size_t emitted = r.emit(std::span<uint8_t>(tcp, r.total_len()), kPeerAddr, kStackAddr);
  check(emitted == r.total_len());
  size_t tcp_len = emitted;
  const size_t hdr = size_t{tcp[12]} / 16 * 4;
  if (tcp_nops > 0 && hdr + tcp_nops <= 60) {
    std::memmove(tcp + hdr + tcp_nops, tcp + hdr, tcp_len - hdr);
    std::memset(tcp + hdr, 1, tcp_nops);
    tcp_len += tcp_nops;
    tcp[12] = static_cast<uint8_t>((hdr + tcp_nops) / 4 << 4 | (tcp[12] & 0x0f));
    wire::store_be16(tcp + 16, 0);
    const auto sum = wire::ipv4_pseudo_header(kPeerAddr.value, kStackAddr.value,
                                              wire::ip_proto::kTcp, uint16_t(tcp_len));
    wire::store_be16(tcp + 16, wire::Checksum(sum).add({tcp, tcp_len}).finish());
  }
  wire::Ipv4Repr ip;
  ip.src = kPeerAddr;
  ip.dst = kStackAddr;
  ip.protocol = wire::ip_proto::kTcp;
  ip.payload_len = static_cast<uint16_t>(tcp_len + ip_nops);
  uint8_t* const p = buf.data();
  check(ip.emit(std::span<uint8_t>(p, wire::kIpv4HeaderMin)) == wire::kIpv4HeaderMin);
  if (ip_nops > 0) {
    std::memset(p + wire::kIpv4HeaderMin, 1, ip_nops);
    p[0] = static_cast<uint8_t>(0x40 | (wire::kIpv4HeaderMin + ip_nops) / 4);
    wire::store_be16(p + 10, 0);
    wire::store_be16(p + 10, wire::internet_checksum({p, wire::kIpv4HeaderMin + ip_nops}));
  }
  return wire::kIpv4HeaderMin + ip_nops + tcp_len;
}

// What an ICMP error quotes of a segment the stack sent (RFC 792: the IPv4 header and the
// first 8 bytes of TCP, ports and sequence number).
inline std::array<uint8_t, 28> quote_of_our_segment(uint16_t sport, uint16_t dport, uint32_t seq) {
  std::array<uint8_t, 28> quote{};
  wire::Ipv4Repr qip;
  qip.src = kStackAddr;
  qip.dst = kPeerAddr;
  qip.protocol = wire::ip_proto::kTcp;
  qip.payload_len = 40;
  qip.emit(quote);
  const uint8_t tcp[8] = {uint8_t(sport >> 8), uint8_t(sport),     uint8_t(dport >> 8),
                          uint8_t(dport),      uint8_t(seq >> 24), uint8_t(seq >> 16),
                          uint8_t(seq >> 8),   uint8_t(seq)};
  std::copy(std::begin(tcp), std::end(tcp), quote.begin() + 20);
  return quote;
}

// A SYN with fuzz-chosen ISN, window and options (MSS, window scale, SACK-permitted,
// timestamps with the next TSval, ECN setup).
inline wire::TcpRepr fuzzed_syn(Input& in, uint16_t src_port, uint16_t dst_port, uint32_t& tsval) {
  namespace flag = wire::tcp_flag;
  wire::TcpRepr syn;
  syn.src_port = src_port;
  syn.dst_port = dst_port;
  const uint8_t o = in.u8();
  syn.flags = o & 0x80 ? flag::kSyn | flag::kEce | flag::kCwr : flag::kSyn;
  syn.seq = wire::SeqNum(in.u32());
  syn.window = in.u16();
  if (o & 1) syn.options.mss = in.u16();
  if (o & 2) syn.options.window_scale = in.u8();
  if (o & 4) syn.options.sack_permitted = true;
  if (o & 8) syn.options.timestamps = wire::TcpTimestamps{tsval += 1 + in.u8(), 0};
  return syn;
}

}  // namespace stack_input
