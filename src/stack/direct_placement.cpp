// SPDX-License-Identifier: BSD-2-Clause
#include "stack/direct_placement.hpp"

#include <cstring>

#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/tcp.hpp"

namespace utcp::stack {

void DirectPlacement::acquire(SocketTable& sockets, Lease& lease) {
  lease.release();
  if (index_ == kNoIndex) return;
  Socket& s = sockets[index_];
  if (s.kind != SocketKind::kConnection || !s.conn || !s.in_table || headers_ > kMaxHeaders) {
    index_ = kNoIndex;
    return;
  }
  const std::span<uint8_t> area = s.conn->receive_placement(headers_, payload_);
  if (area.empty()) return;
  lease.conn_ = s.conn.get();
  lease.tuple_ = s.tuple;
  lease.area_ = area;
  lease.headroom_ = headers_;
  std::memcpy(lease.saved_.data(), area.data(), headers_);
  lease.conn_->hold_receive_storage(true);
}

void DirectPlacement::Lease::release() {
  if (conn_ == nullptr) return;
  std::memcpy(area_.data(), saved_.data(), headroom_);
  conn_->hold_receive_storage(false);
  conn_ = nullptr;
  area_ = {};
}

bool DirectPlacement::Lease::as_predicted(std::span<const uint8_t> placed) const {
  if (conn_ == nullptr || placed.size() <= headroom_) return false;
  // The payload must start exactly at RCV.NXT: the headers fill the headroom, no more.
  if (placed[0] >> 4 == 6) return as_predicted6(placed);
  const auto ip = wire::Ipv4Packet::parse(placed);
  if (!ip || ip->total_len() != placed.size() || ip->is_fragment() ||
      ip->protocol() != wire::ip_proto::kTcp) {
    return false;
  }
  const auto tcp = wire::TcpPacket::parse(ip->payload(), ip->src(), ip->dst(),
                                          /*verify_checksum=*/false);
  if (!tcp || ip->header_len() + tcp->header_len() != headroom_ || tcp->syn() || tcp->rst()) {
    return false;
  }
  return ip->src() == tuple_.remote_addr && ip->dst() == tuple_.local_addr &&
         tcp->src_port() == tuple_.remote_port && tcp->dst_port() == tuple_.local_port &&
         tcp->seq() == conn_->tcb().rcv_nxt;
}

// IPv6: a whole packet without extension headers (a fragment or any other header takes the
// usual path), TCP right after the fixed header.
bool DirectPlacement::Lease::as_predicted6(std::span<const uint8_t> placed) const {
  const auto ip = wire::Ipv6Packet::parse(placed);
  if (!ip || ip->bytes().size() != placed.size() || ip->next_header() != wire::ipv6_next::kTcp) {
    return false;
  }
  const IpAddr src = ip->src(), dst = ip->dst();
  const auto tcp = wire::TcpPacket::parse(ip->payload(), src, dst, /*verify_checksum=*/false);
  if (!tcp || wire::kIpv6HeaderLen + tcp->header_len() != headroom_ || tcp->syn() || tcp->rst()) {
    return false;
  }
  return src == tuple_.remote_addr && dst == tuple_.local_addr &&
         tcp->src_port() == tuple_.remote_port && tcp->dst_port() == tuple_.local_port &&
         tcp->seq() == conn_->tcb().rcv_nxt;
}

}  // namespace utcp::stack
