// SPDX-License-Identifier: BSD-2-Clause
// Stack::Impl: construction, and the output side of the wiring: draining each connection
// with work (segments into the transmit batch, events into socket state), readiness
// notifications, freeing dead connections, and the timers.
#include <algorithm>

#include "ip/flow_label.hpp"

#include "stack/batch_pages.hpp"
#include "stack/icmp_errors.hpp"
#include "stack/stack_impl.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"

namespace utcp {

using stack::Counter;

namespace {

// The forwarded prefixes of one family (issue 13).
std::vector<IpPrefix> prefixes_of(const std::vector<IpPrefix>& all, IpAddr::Family f) {
  std::vector<IpPrefix> v;
  for (const IpPrefix& p : all) {
    if (p.addr.family() == f) v.push_back(p);
  }
  return v;
}

ip::Ipv4InputConfig ip_config(const StackConfig& sc) {
  ip::Ipv4InputConfig c;
  c.local_addresses = {sc.address};
  c.forwarded = prefixes_of(sc.forward, IpAddr::Family::kV4);
  c.forwarded_echo = sc.forward_echo;
  c.forwarded_udp = sc.forward_udp;
  c.udp = true;
  return c;
}

ip::Ipv6InputConfig ip6_config(const StackConfig& sc) {
  ip::Ipv6InputConfig c;
  c.local_addresses = {sc.address6};
  c.forwarded = prefixes_of(sc.forward, IpAddr::Family::kV6);
  c.forwarded_echo = sc.forward_echo;
  c.forwarded_udp = sc.forward_udp;
  return c;
}

uint64_t seed_from(const std::array<uint8_t, 16>& s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = v << 8 | s[i + 8];
  return v;
}

}  // namespace

StackConfig Stack::Impl::resolve(StackConfig c, const dev::DeviceCapabilities& caps) {
  constexpr size_t kIpTcpHeaders = wire::kIpv4HeaderMin + wire::kTcpHeaderMin;
  // RFC 791: every host link carries 68 bytes; the IPv4 total length caps it at 65535.
  const size_t mtu = std::clamp<size_t>(caps.mtu, 68, 65535);
  c.tcp.path_mtu = static_cast<uint16_t>(mtu);
  // RFC 9293 §3.7.1 (MUST-14 / RFC 1122 §4.2.2.6): the MSS we announce is the MTU minus the
  // fixed headers; the configured value only caps it.
  c.tcp.mss = static_cast<uint16_t>(std::min<size_t>(c.tcp.mss, mtu - kIpTcpHeaders));
  // TSO: the largest payload whose packet, with the largest headers, the device still cuts.
  const size_t tso = std::min<size_t>(caps.tso_max_bytes, 65535);
  // The largest IP header is IPv6's 40 bytes on a dual stack (RFC 8200 §3).
  const size_t ip_max = c.ipv6 ? wire::kIpv6HeaderLen : wire::kIpv4HeaderMin;
  const size_t tso_payload = tso > mtu ? tso - ip_max - wire::kTcpHeaderMax : size_t{0};
  c.tcp.tso_max_bytes = static_cast<uint32_t>(
      c.tcp.tso_max_bytes ? std::min<size_t>(c.tcp.tso_max_bytes, tso_payload) : tso_payload);
  c.tcp.tso_checksum_offload_above =
      c.tcp.tso_max_bytes > 0 && caps.tso_checksum_offload ? static_cast<uint32_t>(mtu) : 0;
  return c;
}

Stack::Impl::Impl(dev::Device& d, std::unique_ptr<stack::HeldDevice> h, StackConfig c)
    : held(std::move(h)),
      device(d),
      caps(d.capabilities()),
      config(resolve(std::move(c), caps)),
      tcp_config{config.tcp, config.tcp},
      isn(config.secret),
      ports(config.secret, config.ephemeral_ports),
      limiter(config.challenge_acks_per_second, config.challenge_acks_per_connection,
              // the jitter's seed: from the secret, never 0 (0 turns the jitter off)
              (seed_from(config.secret) ^ 0xC4A11E6E'A0C5'0000ull) | 1),
      memory(config.buffer_memory_limit),
      cookies(config.secret),
      out(device, counters, config.address, config.ttl, config.address6, config.hop_limit,
          config.secret),
      ip_in(ip_config(config), out.ip()),
      ip6_in(ip6_config(config), out.ip6()),
      sockets(seed_from(config.secret)),
      placement(caps.scatter_receive),
      udp(udp_config(config)),
      requests(config.max_pending_requests, config.request_timeout,
               seed_from(config.secret) ^ 0x5eed'f0d0'0000'0001ull),
      udp_flows(config.udp_flow_idle_timeout, seed_from(config.secret) ^ 0x5eed'f10e'0000'0002ull) {
  std::vector<IpAddr> udp_addresses{IpAddr(config.address)};
  if (config.ipv6) udp_addresses.emplace_back(config.address6);
  udp.set_local_addresses(std::move(udp_addresses));
  // UDP receive queues share the connections' budget (StackConfig::buffer_memory_limit).
  udp.set_memory_budget(&memory);
  out.set_device_sums_above(config.tcp.tso_checksum_offload_above);
  tcp_config[0].ip_header_len = 20;  // RFC 791 §3.1
  tcp_config[1].ip_header_len = 40;  // RFC 8200 §3
  rx_storage.reset(new uint8_t[kBatch * kMaxPacket]);
  for (size_t i = 0; i < kBatch; ++i) {
    rx_slots[i].buf = std::span<uint8_t>(rx_storage.get() + i * kMaxPacket, kMaxPacket);
  }
}

void Stack::Impl::release_quiet_batches() {
  if (!rx_used && !out.used()) return;  // released already, or never used
  const Duration quiet = config.tcp.idle_release;
  if (quiet <= Duration::zero() || now - std::max(rx_last, out.last_use()) < quiet) return;
  // The connections' own idle release runs on the same period, so a process() pass comes
  // at about this time after the last segment of the last busy connection.
  if (rx_used) stack::release_batch_pages(rx_storage.get(), kBatch * kMaxPacket);
  rx_used = false;
  out.release_pages();
  counters.inc(Counter::dev_batch_pages_released);
}

uint32_t Stack::Impl::new_connection(const stack::FourTuple& t) {
  tcp::Env env;
  env.challenge_acks = &limiter;
  env.memory = &memory;
  const tcp::SharedConfig shared{&tcp_config[t.remote_addr.is_v6() ? 1 : 0]};
  const uint32_t index = sockets.add_connection(t, shared, env);
  sockets[index].flow_label = flow_label(t);
  return index;
}

uint32_t Stack::Impl::flow_label(const stack::FourTuple& t) const {
  if (!t.remote_addr.is_v6()) return 0;
  return ip::flow_label(config.secret, t.local_addr.v6(), t.remote_addr.v6(), wire::ip_proto::kTcp,
                        t.local_port, t.remote_port);
}

void Stack::Impl::drain_connection(uint32_t index) {
  Socket& s = sockets[index];
  tcp::Connection& c = *s.conn;
  const size_t header = stack::Output::header_len(s.tuple.remote_addr.family());
  for (;;) {
    std::span<uint8_t> buf = out.slot();
    size_t n = c.poll_transmit(now, buf.subspan(header));
    if (n == 0) break;
    counters.inc(Counter::tcp_out);
    // RFC 9293 §3.9.1.9 (SHLD-22): the application's Diffserv field, unchanged, with the
    // ECN codepoint the engine chose for this segment (the IPv6 traffic class alike, RFC
    // 8200 §7), and over IPv6 the connection's flow label (RFC 6437 §3).
    // From the connection's local address: the stack's own, or a forwarded destination.
    out.queue_ip_from(buf, n, wire::ip_proto::kTcp, s.tuple.local_addr, s.tuple.remote_addr,
                      static_cast<uint8_t>(s.tos | c.ecn_codepoint()), s.flow_label);
  }
  while (auto ev = c.poll_event()) {
    switch (ev->kind) {
      case tcp::EventKind::kConnected:
        s.connected = true;
        if (s.listener != stack::kNoIndex) promote_to_accept_queue(index);
        break;
      case tcp::EventKind::kPeerFinished:
        s.peer_finished = true;
        break;
      case tcp::EventKind::kError:
        s.error = stack::error_for(ev->reason);
        if (ev->reason == tcp::ErrorReason::kReset) counters.inc(Counter::tcp_resets_in);
        if (ev->reason == tcp::ErrorReason::kTimedOut) counters.inc(Counter::tcp_timeouts);
        break;
      case tcp::EventKind::kClosed:
        s.closed = true;
        counters.inc(Counter::tcp_closed);
        // RFC 9293 §3.10.7.4: a closed connection's TCB is gone; its 4-tuple is free at
        // once (a new SYN from the peer must reach the listener), even if the application
        // has not yet collected the error.
        sockets.unlink(index);
        break;
      default:
        break;
    }
  }
  settle_orphan(index);
  // One heap entry per connection: its protocol timers and the release of idle buffers.
  timers.schedule(index, std::min(c.next_deadline(), c.memory_release_deadline()));
}

void Stack::Impl::promote_to_accept_queue(uint32_t index) {
  Socket& s = sockets[index];
  Socket& l = sockets[s.listener];
  if (l.half_open > 0) --l.half_open;
  l.accept_queue.push_back(index);
  s.in_accept_queue = true;
  notify(s.listener);
}

// Frees connections nobody will ever look at again.
void Stack::Impl::reap(uint32_t index) {
  Socket& s = sockets[index];
  if (s.kind != Kind::kConnection || !s.closed) return;
  if (s.listener != stack::kNoIndex && !s.in_accept_queue) {
    // Died during the handshake: leave the listener's half-open count.
    Socket& l = sockets[s.listener];
    if (l.half_open > 0) --l.half_open;
    release_slot(index);
    return;
  }
  if (s.released) release_slot(index);
}

void Stack::Impl::notify(uint32_t index) {
  const Socket& s = sockets[index];
  if (!on_readiness || s.released) return;
  on_readiness(sockets.id_of(index),
               s.kind == Kind::kUdp ? udp_readiness(s) : sockets.readiness(s));
}

void Stack::Impl::flush(Instant t) {
  now = t;
  out.set_now(t);
  // Drain in rounds: notifying the application may make it send more.
  while (sockets.has_dirty()) {
    std::vector<uint32_t> round;  // local: a readiness callback may flush re-entrantly
    sockets.take_dirty(round);
    for (uint32_t index : round) {
      sockets[index].dirty = false;
      if (sockets[index].kind != Kind::kConnection) continue;
      drain_connection(index);
    }
    out.flush(now);
    for (uint32_t index : round) {
      if (sockets[index].kind != Kind::kConnection) continue;
      notify(index);
      reap(index);
    }
    round.clear();
    if (!sockets.has_dirty()) sockets.take_dirty(round);  // keep the capacity
  }
  out.flush(now);  // RSTs for unmatched segments and ICMP replies queued during input
}

void Stack::Impl::run_timers() {
  stack::TimerHeap::Id index;
  while (timers.pop_expired(now, index)) {
    tcp::Connection& c = *sockets[index].conn;
    const bool release = c.memory_release_deadline() <= now;
    if (release) c.release_idle_memory();
    if (!release || c.next_deadline() <= now) c.on_timeout(now);
    mark_dirty(index);
  }
}

size_t Stack::Impl::send(SocketId id, std::span<const uint8_t> data, std::error_code& ec,
                         bool urgent) {
  ec.clear();
  Socket* s = sockets.lookup(id);
  if (!s || s->kind != Kind::kConnection) {
    ec = std::make_error_code(std::errc::bad_file_descriptor);
    return 0;
  }
  if (s->error) {
    ec = s->error;
    return 0;
  }
  if (!tcp::can_send_data(s->conn->state())) {
    ec = std::make_error_code(std::errc::broken_pipe);
    return 0;
  }
  const size_t n = urgent ? s->conn->send_urgent(data, now) : s->conn->send(data, now);
  if (n == 0 && !data.empty()) ec = std::make_error_code(std::errc::operation_would_block);
  if (n > 0) mark_dirty(sockets.index_of(*s));
  return n;
}

}  // namespace utcp
