// SPDX-License-Identifier: BSD-2-Clause
#include "stack/output.hpp"

#include "ip/ipv4_fragmenter.hpp"

namespace utcp::stack {

Output::Output(dev::Device& device, Counters& counters, wire::Ipv4Addr address, uint8_t ttl)
    : device_(device), counters_(counters), address_(address), ip_out_(1, ttl) {
  storage_.resize(kBatch * kMaxPacket);
}

void Output::send_tcp(const wire::TcpRepr& seg, wire::Ipv4Addr src, wire::Ipv4Addr dst,
                      uint8_t tos) {
  const std::span<uint8_t> buf = slot();
  const size_t n = seg.emit(buf.subspan(wire::kIpv4HeaderMin), src, dst);
  counters_.inc(Counter::tcp_out);
  queue_ip(buf, n, wire::ip_proto::kTcp, dst, tos);
}

void Output::queue_packet_within(std::span<const uint8_t> packet, size_t mtu) {
  if (packet.size() <= mtu) {
    queue_packet(packet);
    return;
  }
  // The fragments are written into the following slots, and a full batch is flushed and
  // its slots reused: copy the datagram out of its slot first.
  unfragmented_.assign(packet.begin(), packet.end());
  ip::Ipv4Fragmenter fragmenter(unfragmented_, mtu);
  if (!fragmenter.ok()) {
    counters_.inc(Counter::ip_out_df_too_big);
    return;
  }
  counters_.inc(Counter::ip_out_fragmented);
  while (!fragmenter.done()) {
    const std::span<uint8_t> buf = slot();
    const size_t n = fragmenter.next(buf);
    if (n == 0) break;  // cannot happen: a slot holds any fragment
    counters_.inc(Counter::ip_out_fragments);
    queue_packet(buf.first(n));
  }
}

void Output::flush(Instant now) {
  now_ = now;
  size_t sent = 0;
  while (sent < count_) {
    const size_t n = device_.transmit(std::span(packets_.data() + sent, count_ - sent), now);
    if (n == 0) {
      counters_.inc(Counter::dev_tx_dropped, count_ - sent);
      break;
    }
    sent += n;
  }
  count_ = 0;
}

}  // namespace utcp::stack
