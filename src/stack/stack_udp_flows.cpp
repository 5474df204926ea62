// SPDX-License-Identifier: BSD-2-Clause
// Stack::Impl and Stack: UDP flows to forwarded destinations (issue 13). The first datagram
// of a 4-tuple makes a UDP socket bound to the original destination and connected to the
// peer (udp::UdpSocketTable::open_flow), so later datagrams find it as the most specific
// match and its replies leave from the original destination; stack/udp_flows.hpp keeps the
// new ones for next_udp_flow() and closes idle ones.
#include "stack/stack_impl.hpp"
#include "wire/udp.hpp"

namespace utcp {

using stack::Counter;

namespace {
uint16_t port_at(std::span<const uint8_t> udp, size_t at) {
  return static_cast<uint16_t>(udp[at] << 8 | udp[at + 1]);
}
}  // namespace

void Stack::Impl::on_forwarded_udp(const IpAddr& src, const IpAddr& dst, uint8_t traffic_class,
                                   std::span<const uint8_t> payload, bool checksum_verified) {
  if (config.udp_endpoint_independent && payload.size() >= wire::kUdpHeaderLen) {
    on_independent_udp(src, dst, traffic_class, payload, checksum_verified);
    return;
  }
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

// RFC 4787 §4.1 REQ-1 (endpoint-independent mapping): one flow per client endpoint, whatever
// the destination; the flow is in no port map (udp::UdpSocketTable::open_detached_flow), so
// its datagrams are handed to it here.
void Stack::Impl::on_independent_udp(const IpAddr& src, const IpAddr& dst, uint8_t traffic_class,
                                     std::span<const uint8_t> payload, bool checksum_verified) {
  const udp::UdpEndpoint client{src, port_at(payload, 0)};
  std::optional<SocketId> flow = udp_flows.find_client(client);
  SocketId made = kNoSocket;
  if (!flow) {
    if (udp_flows.size() >= config.max_udp_flows) {
      counters.inc(Counter::fwd_udp_flow_limit);
      return;
    }
    std::error_code ec;
    made = open_udp(ec, false);
    if (made == kNoSocket) {
      counters.inc(Counter::fwd_udp_flow_limit);
      return;
    }
    // Port 0 at either end cannot be answered (RFC 768: the source port is where replies go).
    const udp::UdpEndpoint local{dst, port_at(payload, 2)};
    if (udp.open_detached_flow(lookup_udp(made)->udp, local, client)) {
      close_udp(made);
      counters.inc(Counter::fwd_udp_flow_refused);
      return;
    }
    flow = made;
  }
  Socket* s = lookup_udp(*flow);
  const udp::UdpInput v = udp.deliver(s->udp, src, dst, traffic_class, payload, !checksum_verified);
  if (v != udp::UdpInput::kDelivered) {
    if (made != kNoSocket) close_udp(made);  // a malformed datagram makes no flow
    return;
  }
  if (made != kNoSocket) {
    udp_flows.add(made, now, &client);
    counters.inc(Counter::fwd_udp_flows);
  } else {
    udp_flows.touch(*flow, now);
  }
  notify(index_of(*s));
}

bool Stack::Impl::is_forwarded(const IpAddr& a) const {
  for (const IpPrefix& p : config.forward) {
    if (p.contains(a)) return true;
  }
  return false;
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

namespace utcp {

size_t Stack::send_from(SocketId flow, std::span<const uint8_t> data, const Endpoint& from,
                        std::error_code& ec) {
  ec.clear();
  if (impl_->lookup_udp(flow) == nullptr) {
    ec = std::make_error_code(std::errc::bad_file_descriptor);
    return 0;
  }
  if (!impl_->udp_flows.contains(flow)) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return 0;
  }
  const udp::UdpEndpoint source{IpAddr(from.addr), from.port};
  // Only forwarded addresses: a flow speaks for the destinations the stack terminates, never
  // for the stack's own or any other address.
  if (!impl_->is_forwarded(source.addr) || impl_->is_own_address(source.addr)) {
    ec = std::make_error_code(std::errc::address_not_available);
    return 0;
  }
  return impl_->send_udp(flow, data, nullptr, &source, ec);
}

}  // namespace utcp
