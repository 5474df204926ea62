// SPDX-License-Identifier: BSD-2-Clause
#include "stack/output.hpp"

#include "ip/ipv4_fragmenter.hpp"
#include "ip/ipv6_fragmenter.hpp"
#include "stack/batch_pages.hpp"

namespace utcp::stack {

Output::Output(dev::Device& device, Counters& counters, wire::Ipv4Addr address, uint8_t ttl,
               const wire::Ipv6Addr& address6, uint8_t hop_limit,
               const std::array<uint8_t, 16>& secret)
    : device_(device),
      counters_(counters),
      address_(address),
      address6_(address6),
      ip_out_(1, ttl),
      ip6_out_(hop_limit),
      fragment_ids_(secret) {
  storage_.reset(new uint8_t[kBatch * kMaxPacket]);
}

void Output::send_tcp(const wire::TcpRepr& seg, const wire::IpAddr& src, const wire::IpAddr& dst,
                      uint8_t tos, uint32_t flow_label) {
  const std::span<uint8_t> buf = slot();
  const size_t n = seg.emit(buf.subspan(header_len(dst.family())), src, dst);
  counters_.inc(Counter::tcp_out);
  queue_ip_from(buf, n, wire::ip_proto::kTcp, src, dst, tos, flow_label);
}

void Output::queue_ipv6(std::span<uint8_t> buf, size_t payload_len, uint8_t next_header,
                        const wire::Ipv6Addr& src, const wire::Ipv6Addr& dst, uint8_t traffic_class,
                        uint32_t flow_label) {
  // A slot holds at most kMaxPacket bytes in all.
  if (payload_len > kMaxPacket - wire::kIpv6HeaderLen) return;
  const size_t total = ip6_out_.write_header(buf, payload_len, src, dst, next_header, traffic_class,
                                             flow_label & 0xfffff);
  if (total == 0) return;
  // An IPv6 source never fragments TCP: the engine sizes segments to the path MTU (RFC 8201).
  queue_packet(buf.first(total));
}

void Output::queue_packet6_within(std::span<const uint8_t> packet, size_t mtu) {
  if (packet.size() <= mtu) {
    queue_packet(packet);
    return;
  }
  unfragmented_.assign(packet.begin(), packet.end());  // its slot is reused by the fragments
  const auto parsed = wire::Ipv6Packet::parse(unfragmented_);
  if (!parsed) return;
  ip::Ipv6Fragmenter fragmenter(unfragmented_, mtu,
                                fragment_ids_.next(parsed->src(), parsed->dst()));
  if (!fragmenter.ok()) {
    counters_.inc(Counter::ip6_out_unfragmentable);
    return;
  }
  counters_.inc(Counter::ip6_out_fragmented);
  while (!fragmenter.done()) {
    const std::span<uint8_t> buf = slot();
    const size_t n = fragmenter.next(buf);
    if (n == 0) break;
    counters_.inc(Counter::ip6_out_fragments);
    queue_packet(buf.first(n));
  }
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
  if (count_ != 0) {
    used_ = true;
    last_use_ = now;
  }
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

void Output::release_pages() {
  if (count_ != 0) return;
  release_batch_pages(storage_.get(), kBatch * kMaxPacket);
  used_ = false;
}

}  // namespace utcp::stack
