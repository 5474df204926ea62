// SPDX-License-Identifier: BSD-2-Clause
// Stack::Impl and Stack: UDP flows to forwarded destinations (issue 13). The first datagram
// of a 4-tuple makes a UDP socket bound to the original destination and connected to the
// peer (udp::UdpSocketTable::open_flow), so later datagrams find it as the most specific
// match and its replies leave from the original destination; stack/udp_flows.hpp keeps the
// new ones for next_udp_flow() and closes idle ones.
#include "stack/stack_impl.hpp"

namespace utcp {

using stack::Counter;

void Stack::Impl::on_forwarded_udp(const IpAddr& src, const IpAddr& dst, uint8_t traffic_class,
                                   std::span<const uint8_t> payload, bool checksum_verified) {
  SocketId made = kNoSocket;
  if (payload.size() >= 4) {
    const udp::UdpEndpoint local{dst, static_cast<uint16_t>(payload[2] << 8 | payload[3])};
    const udp::UdpEndpoint remote{src, static_cast<uint16_t>(payload[0] << 8 | payload[1])};
    const udp::UdpId found = udp.lookup(local, remote);
    const bool has_flow = found != udp::kNoUdp && udp.remote_endpoint(found) == remote &&
                          udp.local_endpoint(found) == local;
    if (!has_flow) {
      if (udp_flows.size() >= config.max_udp_flows) {
        counters.inc(Counter::fwd_udp_flow_limit);
        return;
      }
      std::error_code ec;
      made = open_udp(ec, true);
      if (made == kNoSocket) {
        counters.inc(Counter::fwd_udp_flow_limit);
        return;
      }
      if (udp.open_flow(lookup_udp(made)->udp, local, remote)) {
        // A socket of the application holds the port without sharing it.
        close_udp(made);
        counters.inc(Counter::fwd_udp_flow_refused);
        return;
      }
    }
  }
  udp::UdpId to = udp::kNoUdp;
  const udp::UdpInput v = udp.input(src, dst, traffic_class, payload, !checksum_verified, &to);
  if (v != udp::UdpInput::kDelivered) {
    if (made != kNoSocket) close_udp(made);  // a malformed datagram makes no flow
    return;
  }
  const uint32_t index = udp.owner(to);
  if (made != kNoSocket) {
    udp_flows.add(made, now);
    counters.inc(Counter::fwd_udp_flows);
  } else {
    udp_flows.touch(id_of(index), now);
  }
  notify(index);
}

void Stack::Impl::expire_udp_flows() {
  while (auto s = udp_flows.pop_idle(now)) {
    if (lookup_udp(*s) == nullptr) continue;
    counters.inc(Counter::fwd_udp_flow_expired);
    if (on_readiness) on_readiness(*s, ready::kHangup);
    close_udp(*s);
  }
}

std::optional<Stack::UdpFlow> Stack::next_udp_flow() {
  const auto s = impl_->udp_flows.next_fresh();
  if (!s) return std::nullopt;
  return UdpFlow{*s, udp_local_endpoint(*s), udp_remote_endpoint(*s)};
}

}  // namespace utcp
