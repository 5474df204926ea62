// SPDX-License-Identifier: BSD-2-Clause
// Stack::Impl and the Stack API for UDP: datagram sockets in the Stack's handle space over
// udp::UdpSocketTable (src/udp/), datagrams from IPv4 input to their socket (or answered with
// a rate-limited port unreachable), ICMP errors to connected sockets, and datagrams out
// through IPv4 output, fragmented when larger than the MTU.
#include <type_traits>

#include "stack/stack_impl.hpp"
#include "udp/udp_icmp.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv4.hpp"
#include "wire/udp.hpp"

namespace utcp {

namespace {

std::error_code errc(std::errc e) {
  return std::make_error_code(e);
}

udp::UdpEndpoint from_endpoint(const Endpoint& e) {
  return udp::UdpEndpoint{IpAddr(e.addr), e.port};
}

// Endpoint's address type is the Stack's (Ipv4Addr, or IpAddr on a dual stack); a template,
// so only the branch for the type it has is compiled.
template <class E = Endpoint>
E to_endpoint(const udp::UdpEndpoint& e) {
  E out;
  if constexpr (std::is_same_v<decltype(out.addr), IpAddr>) {
    out.addr = e.addr;
  } else {
    out.addr = e.addr.v4();
  }
  out.port = e.port;
  return out;
}

}  // namespace

udp::UdpConfig Stack::Impl::udp_config(const StackConfig& c) {
  udp::UdpConfig u;
  u.ephemeral_ports = c.ephemeral_ports;
  // Port randomization keyed by the stack's secret, apart from the TCP uses of it.
  uint64_t seed = 0x0d9'5eed'0000'0000ull;
  for (size_t i = 0; i < 8; ++i) seed = seed << 8 ^ c.secret[i] ^ (seed >> 56);
  u.seed = seed;
  return u;
}

bool Stack::Impl::on_udp(const IpAddr& src, const IpAddr& dst, uint8_t traffic_class,
                         std::span<const uint8_t> payload, bool checksum_verified) {
  if (!is_own_address(dst)) {
    // Forwarding (issue 13): no port unreachable from a forwarded address.
    on_forwarded_udp(src, dst, traffic_class, payload, checksum_verified);
    return false;
  }
  udp::UdpId to = udp::kNoUdp;
  const udp::UdpInput v = udp.input(src, dst, traffic_class, payload, !checksum_verified, &to);
  if (v == udp::UdpInput::kDelivered) notify(udp.owner(to));
  return v == udp::UdpInput::kNoSocket;
}

void Stack::Impl::udp_port_unreachable(std::span<const uint8_t> datagram) {
  // RFC 1122 §4.1.3.1: no one listens: port unreachable, rate-limited by the IP layer.
  const ip::InputResult answer = ip_in.port_unreachable(datagram, now, out.slot());
  if (answer.action == ip::InputAction::kReply) out.queue_packet_within(answer.reply, caps.mtu);
}

void Stack::Impl::udp_port_unreachable6(std::span<const uint8_t> datagram) {
  const auto answer = ip6_in.make_error(datagram, wire::icmpv6_type::kDestUnreachable,
                                        wire::icmpv6_unreach::kPort, 0, now, out.slot());
  if (!answer.empty()) out.queue_packet6_within(answer, caps.mtu);
}

void Stack::Impl::on_udp_icmp_error(const ip::IcmpError& e) {
  const auto error = e.is_v6() ? udp::udp_error_from_icmpv6(e.type, e.code)
                               : udp::udp_error_from_icmp(e.type, e.code);
  if (!error) return;  // a path MTU update: nothing for the application (RFC 1191, RFC 8201)
  const udp::UdpEndpoint local{e.local_addr, e.local_port};
  const udp::UdpEndpoint remote{e.remote_addr, e.remote_port};
  if (config.udp_endpoint_independent && !is_own_address(local.addr)) {
    // An endpoint-independent flow is its client's whatever address it sent from (the IP
    // input checked that the error was sent to the forwarded address it quotes, RFC 5927
    // §4.1); RFC 1122 §4.1.3.3: the flow's next call reports it.
    const auto flow = udp_flows.find_client(remote);
    if (!flow) {
      counters.inc(stack::Counter::icmp_unmatched);
      return;
    }
    Socket* s = lookup_udp(*flow);
    udp.set_error(s->udp, *error);
    notify(index_of(*s));
    return;
  }
  if (!udp.on_icmp_error(local, remote, *error)) return;
  // Which socket took it: the connected one for this pair (the table found it).
  auto it = udp.lookup(local, remote);
  if (it != udp::kNoUdp) notify(udp.owner(it));
}

uint32_t Stack::Impl::udp_readiness(const Socket& s) const {
  uint32_t r = ready::kWritable;  // nothing is buffered for sending
  if (udp.readable(s.udp)) r |= ready::kReadable;
  if (udp.has_error(s.udp)) r |= ready::kError;
  return r;
}

bool Stack::Impl::close_udp(SocketId id) {
  Socket* s = lookup_udp(id);
  if (!s) return false;
  udp_flows.erase(id);
  udp.close(s->udp);
  sockets.release(index_of(*s));
  return true;
}

SocketId Stack::Impl::open_udp(std::error_code& ec, bool reuse_addr) {
  const udp::UdpId u = udp.open();
  if (u == udp::kNoUdp) {
    ec = errc(std::errc::too_many_files_open);
    return kNoSocket;
  }
  const uint32_t index = sockets.allocate(Kind::kUdp);
  sockets[index].udp = u;
  udp.set_owner(u, index);
  udp.set_reuse_addr(u, reuse_addr);
  return id_of(index);
}

SocketId Stack::udp_bind(const Endpoint& local, std::error_code& ec, bool reuse_addr) {
  ec.clear();
  const SocketId id = impl_->open_udp(ec, reuse_addr);
  if (id == kNoSocket) return kNoSocket;
  if ((ec = impl_->udp.bind(impl_->lookup_udp(id)->udp, from_endpoint(local)))) {
    impl_->close_udp(id);
    return kNoSocket;
  }
  return id;
}

SocketId Stack::udp_connect(const Endpoint& remote, std::error_code& ec) {
  ec.clear();
  const SocketId id = impl_->open_udp(ec, false);
  if (id == kNoSocket) return kNoSocket;
  udp_connect(id, remote, ec);
  if (ec) {
    impl_->close_udp(id);
    return kNoSocket;
  }
  return id;
}

void Stack::udp_connect(SocketId id, const Endpoint& remote, std::error_code& ec) {
  auto* s = impl_->lookup_udp(id);
  ec = s ? impl_->udp.connect(s->udp, from_endpoint(remote)) : errc(std::errc::bad_file_descriptor);
}

size_t Stack::send_to(SocketId id, std::span<const uint8_t> data, const Endpoint* to,
                      std::error_code& ec) {
  ec.clear();
  const udp::UdpEndpoint dst = to ? from_endpoint(*to) : udp::UdpEndpoint{};
  return impl_->send_udp(id, data, to ? &dst : nullptr, nullptr, ec);
}

size_t Stack::Impl::send_udp(SocketId id, std::span<const uint8_t> data, const udp::UdpEndpoint* to,
                             const udp::UdpEndpoint* from, std::error_code& ec) {
  auto* s = lookup_udp(id);
  if (!s) {
    ec = errc(std::errc::bad_file_descriptor);
    return 0;
  }
  if (to && to->addr.is_v6() && !config.ipv6) {
    ec = errc(std::errc::address_family_not_supported);
    return 0;
  }
  // The datagram goes after the IP header of its family; the table says which (a connected
  // socket's peer when `to` is null).
  const bool v6 =
      to ? to->addr.is_v6() : udp.remote_endpoint(s->udp).value_or(udp::UdpEndpoint{}).addr.is_v6();
  const size_t hlen = stack::Output::header_len(v6 ? IpAddr::Family::kV6 : IpAddr::Family::kV4);
  const std::span<uint8_t> buf = out.slot();
  const auto sent = udp.send(s->udp, to, data, buf.subspan(hlen), ec, true, from);
  if (!sent) return 0;
  const size_t mtu = caps.mtu;
  if (v6) {
    // RFC 8200 §4.5: only the source fragments; a datagram above the MTU leaves in fragments.
    const uint32_t label = flow_label(
        stack::FourTuple{sent->src.addr, sent->src.port, sent->dst.addr, sent->dst.port});
    const size_t total =
        out.ip6().write_header(buf, sent->len, sent->src.addr.v6(), sent->dst.addr.v6(),
                               wire::ip_proto::kUdp, 0, label & 0xfffff);
    if (total == 0) {
      ec = errc(std::errc::message_size);
      return 0;
    }
    out.queue_packet6_within(buf.first(total), mtu);
  } else {
    // RFC 791 §3.2: a datagram larger than the MTU leaves in fragments (DF clear); one that
    // fits carries DF, as Linux sends UDP with path MTU discovery on (IP_PMTUDISC_WANT).
    const bool df = wire::kIpv4HeaderMin + sent->len <= mtu;
    const size_t total =
        out.ip().write_header(buf, sent->len, sent->src.addr.v4(), sent->dst.addr.v4(),
                              wire::ip_proto::kUdp, ip::ecn::kNotEct, df);
    if (total == 0) {
      ec = errc(std::errc::message_size);
      return 0;
    }
    out.queue_packet_within(buf.first(total), mtu);
  }
  mark_dirty(index_of(*s));  // so the next flush sends it
  udp_flows.touch(id, now);
  return data.size();
}

size_t Stack::recv_from(SocketId id, std::span<uint8_t> out, std::error_code& ec, Endpoint* from,
                        DatagramInfo* info) {
  ec.clear();
  auto* s = impl_->lookup_udp(id);
  if (!s) {
    ec = errc(std::errc::bad_file_descriptor);
    return 0;
  }
  const auto r = impl_->udp.recv(s->udp, out, ec);
  if (!r) return 0;
  if (from) *from = to_endpoint(r->info.src);
  if (info) {
    info->src = to_endpoint(r->info.src);
    info->dst = to_endpoint(r->info.dst);
    info->traffic_class = r->info.traffic_class;
    info->datagram_len = r->datagram_len;
  }
  return r->copied;
}

void Stack::set_udp_recv_queue(SocketId id, size_t bytes, uint32_t datagrams) {
  if (auto* s = impl_->lookup_udp(id)) {
    impl_->udp.set_recv_queue_limits(s->udp, {.bytes = bytes, .datagrams = datagrams});
  }
}

Endpoint Stack::udp_local_endpoint(SocketId id) const {
  auto* s = impl_->lookup_udp(id);
  if (!s) return {};
  const auto e = impl_->udp.local_endpoint(s->udp);
  return e ? to_endpoint(*e) : Endpoint{};
}

Endpoint Stack::udp_remote_endpoint(SocketId id) const {
  auto* s = impl_->lookup_udp(id);
  if (!s) return {};
  const auto e = impl_->udp.remote_endpoint(s->udp);
  return e ? to_endpoint(*e) : Endpoint{};
}

}  // namespace utcp
