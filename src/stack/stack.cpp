// SPDX-License-Identifier: BSD-2-Clause
#include "utcp/stack.hpp"

#include <random>

#include "stack/connect_rules.hpp"
#include "stack/icmp_errors.hpp"
#include "stack/null_span.hpp"
#include "stack/stack_impl.hpp"

// The public Stack API; the parts it wires together are listed in stack/stack_impl.hpp.

namespace utcp {

using stack::Counter;
using stack::FourTuple;

namespace {
constexpr uint8_t kEcnMask = 0x03;  // RFC 3168 §5: the TOS byte's two low bits
}  // namespace

std::array<uint8_t, 16> StackConfig::random_secret() {
  std::array<uint8_t, 16> s{};
  std::random_device rd;
  for (size_t i = 0; i < s.size(); i += 4) {
    uint32_t v = rd();
    for (size_t j = 0; j < 4; ++j) s[i + j] = static_cast<uint8_t>(v >> (8 * j));
  }
  return s;
}

namespace {
StackConfig with_secret(StackConfig config) {
  if (config.secret == std::array<uint8_t, 16>{}) config.secret = StackConfig::random_secret();
  return config;
}
}  // namespace

Stack::Stack(dev::Device& device, StackConfig config)
    : impl_(std::make_unique<Impl>(device, nullptr, with_secret(std::move(config)))) {}

Stack::Stack(const dev::DeviceCapabilities& capabilities, StackConfig config) {
  auto held = std::make_unique<stack::HeldDevice>(capabilities);
  dev::Device& device = *held;
  impl_ = std::make_unique<Impl>(device, std::move(held), with_secret(std::move(config)));
}

Stack::~Stack() = default;

void Stack::process(Instant now) {
  impl_->set_now(now);
  impl_->receive_all();
  impl_->ip_in.expire(now);
  // RFC 8200 §4.5: a reassembly that timed out with its first fragment is answered with
  // Time Exceeded (rate-limited by the IPv6 input).
  impl_->ip6_in.expire(now, impl_->out.slot(),
                       [&](std::span<const uint8_t> p) { impl_->out.queue_packet(p); });
  impl_->run_timers();
  impl_->expire_orphans();
  impl_->expire_requests();
  impl_->expire_udp_flows();
  impl_->flush(now);
  impl_->release_quiet_batches();
}

void Stack::flush(Instant now) {
  impl_->flush(now);
}

Instant Stack::next_deadline() const {
  if (impl_->sockets.has_dirty()) return impl_->now;
  if (impl_->held && !impl_->held->empty()) return impl_->now;  // poll_transmit() has work
  return std::min({impl_->timers.earliest(), impl_->device.next_deadline(),
                   impl_->ip_in.next_deadline(), impl_->ip6_in.next_deadline(),
                   impl_->orphans.next_deadline(impl_->config.orphan_timeout),
                   impl_->requests.next_deadline(), impl_->udp_flows.next_deadline()});
}

void Stack::input(std::span<const uint8_t> packet, Instant now, bool checksum_verified) {
  impl_->set_now(now);
  std::error_code ignored;
  if (reject_null_span(packet, ignored)) return;  // a caller's bug: nothing to read
  impl_->on_packet(packet, checksum_verified);
}

size_t Stack::poll_transmit(std::span<uint8_t> buf) {
  impl_->flush(impl_->now);  // what input() and API calls queued since the last flush
  std::error_code ignored;
  if (!impl_->held || reject_null_span(buf, ignored)) return 0;
  const uint64_t dropped = impl_->held->dropped();
  const size_t n = impl_->held->pop(buf);
  impl_->counters.inc(Counter::dev_tx_dropped, impl_->held->dropped() - dropped);
  return n;
}

const dev::DeviceCapabilities& Stack::capabilities() const {
  return impl_->caps;
}

Instant Stack::now() const {
  return impl_->now;
}

SocketId Stack::listen(uint16_t port, std::error_code& ec, uint32_t backlog) {
  ListenOptions options;
  options.backlog = backlog;
  return listen(port, options, ec);
}

SocketId Stack::listen(uint16_t port, const ListenOptions& options, std::error_code& ec) {
  ec.clear();
  const bool ipv6 = impl_->config.ipv6;
  if (port == 0 || (options.v4only && options.v6only) || (options.v6only && !ipv6)) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return kNoSocket;
  }
  // Without IPv6 a listener takes IPv4 only, and leaves the IPv6 side of its port free.
  const bool v4 = !options.v6only, v6 = ipv6 && !options.v4only;
  auto& table = impl_->sockets;
  if ((v4 && table.listener(port, IpAddr::Family::kV4) != stack::kNoIndex) ||
      (v6 && table.listener(port, IpAddr::Family::kV6) != stack::kNoIndex)) {
    ec = std::make_error_code(std::errc::address_in_use);
    return kNoSocket;
  }
  uint32_t index = table.allocate(Impl::Kind::kListener);
  auto& s = table[index];
  s.port = port;
  s.listen_v4 = v4;
  s.listen_v6 = v6;
  s.accept_backlog = options.backlog ? options.backlog : impl_->config.accept_backlog;
  s.syn_backlog = impl_->config.syn_backlog;
  table.set_listener(port, v4, v6, index);
  return impl_->id_of(index);
}

SocketId Stack::accept(SocketId listener, std::error_code& ec, Endpoint* peer) {
  ec.clear();
  auto* l = impl_->lookup(listener);
  if (!l || l->kind != Impl::Kind::kListener) {
    ec = std::make_error_code(std::errc::bad_file_descriptor);
    return kNoSocket;
  }
  if (l->accept_queue.empty()) {
    ec = std::make_error_code(std::errc::operation_would_block);
    return kNoSocket;
  }
  uint32_t index = l->accept_queue.front();
  l->accept_queue.pop_front();
  auto& s = impl_->sockets[index];
  s.listener = stack::kNoIndex;
  s.in_accept_queue = false;
  if (peer) *peer = {s.tuple.remote_addr, s.tuple.remote_port};
  return impl_->id_of(index);
}

SocketId Stack::connect(IpAddr addr, uint16_t port, std::error_code& ec, uint16_t local_port) {
  ConnectOptions options;
  options.local_port = local_port;
  return connect(addr, port, options, ec);
}

SocketId Stack::connect(IpAddr addr, uint16_t port, const ConnectOptions& options,
                        std::error_code& ec) {
  ec.clear();
  auto& im = *impl_;
  const uint16_t local_port = options.local_port;
  // An IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2) names an IPv4 peer.
  if (auto v4 = addr.is_v6() ? addr.v6().to_v4_mapped() : std::nullopt) addr = *v4;
  const IpAddr own = addr.is_v6() ? IpAddr(im.config.address6) : IpAddr(im.config.address);
  // RFC 9293 §3.9.1.1 (MUST-43): a local address, if given, must be one of ours (of the
  // destination's family).
  if (!options.local_addr.is_unspecified() && options.local_addr != own) {
    ec = std::make_error_code(std::errc::address_not_available);
    return kNoSocket;
  }
  if (port == 0) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return kNoSocket;
  }
  if (addr.is_v6() && !im.config.ipv6) {
    ec = std::make_error_code(std::errc::address_family_not_supported);
    return kNoSocket;
  }
  // RFC 9293 §3.9.1.1 (MUST-46): no connection to an unspecified, broadcast, multicast or
  // reserved address, nor to ourselves (there is no loopback path through the device).
  if (!stack::connectable(addr) || addr == own) {
    ec = std::make_error_code(std::errc::network_unreachable);
    return kNoSocket;
  }
  if (im.sockets.connection_count() >= im.config.max_connections) {
    ec = std::make_error_code(std::errc::too_many_files_open);
    return kNoSocket;
  }
  FourTuple t{own, local_port, addr, port};
  auto in_use = [&](uint16_t p) {
    FourTuple probe = t;
    probe.local_port = p;
    return im.sockets.tuple_in_use(probe) || im.sockets.port_listened(p);
  };
  if (local_port == 0) {
    auto p = im.ports.allocate(t.local_addr, addr, port, in_use);
    if (!p) {
      ec = std::make_error_code(std::errc::address_not_available);
      return kNoSocket;
    }
    t.local_port = *p;
  } else if (im.sockets.tuple_in_use(t)) {
    ec = std::make_error_code(std::errc::address_in_use);
    return kNoSocket;
  }
  uint32_t index = im.new_connection(t);
  im.sockets[index].tos = static_cast<uint8_t>(options.tos & ~kEcnMask);
  im.counters.inc(Counter::tcp_connects);
  im.sockets[index].conn->open_active(
      im.now, im.isn.isn(t.local_addr, t.local_port, t.remote_addr, t.remote_port, im.now));
  im.mark_dirty(index);
  return im.id_of(index);
}

size_t Stack::send(SocketId id, std::span<const uint8_t> data, std::error_code& ec) {
  if (reject_null_span(data, ec)) return 0;
  return impl_->send(id, data, ec, false);
}

size_t Stack::recv(SocketId id, std::span<uint8_t> out, std::error_code& ec) {
  ec.clear();
  if (reject_null_span(out, ec)) return 0;
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) {
    ec = std::make_error_code(std::errc::bad_file_descriptor);
    return 0;
  }
  size_t n = s->conn->recv(out, impl_->now);
  if (n > 0) {
    impl_->mark_dirty(impl_->index_of(*s));  // the window opened: a window update may be due
    return n;
  }
  if (out.empty()) return 0;
  if (s->error) {
    ec = s->error;
    return 0;
  }
  if (s->peer_finished) return 0;  // end of stream
  if (s->closed) return 0;
  ec = std::make_error_code(std::errc::operation_would_block);
  return 0;
}

void Stack::shutdown_write(SocketId id, std::error_code& ec) {
  ec.clear();
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) {
    ec = std::make_error_code(std::errc::bad_file_descriptor);
    return;
  }
  s->conn->shutdown_write(impl_->now);
  impl_->mark_dirty(impl_->index_of(*s));
}

void Stack::close(SocketId id) {
  if (impl_->close_udp(id)) return;
  auto* s = impl_->lookup(id);
  if (!s) return;
  uint32_t index = impl_->index_of(*s);
  if (s->kind == Impl::Kind::kListener) {
    impl_->sockets.set_listener(s->port, s->listen_v4, s->listen_v6, stack::kNoIndex);
    // Connections never accepted are reset, as when a Linux listener closes.
    for (auto& other : impl_->sockets.all()) {
      if (other.kind == Impl::Kind::kConnection && other.listener == index) {
        other.conn->abort(impl_->now);
        other.released = true;
        other.listener = stack::kNoIndex;
        other.in_accept_queue = false;
        impl_->mark_dirty(impl_->index_of(other));
      }
    }
    impl_->release_slot(index);
    return;
  }
  s->released = true;
  // The engine resets instead of closing when unread data remains (RFC 1122 §4.2.2.13).
  s->conn->close(impl_->now);
  impl_->on_orphaned(index);  // bounded in number and time (stack_orphans.cpp)
  impl_->mark_dirty(index);
}

void Stack::abort(SocketId id) {
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) return;
  s->released = true;
  s->conn->abort(impl_->now);
  impl_->mark_dirty(impl_->index_of(*s));
}

uint32_t Stack::readiness(SocketId id) const {
  if (const auto* u = impl_->lookup_udp(id)) return impl_->udp_readiness(*u);
  auto* s = impl_->lookup(id);
  return s ? Impl::readiness(*s) : ready::kError;
}

std::error_code Stack::error(SocketId id) const {
  auto* s = impl_->lookup(id);
  if (!s) return std::make_error_code(std::errc::bad_file_descriptor);
  return s->error;
}

tcp::State Stack::state(SocketId id) const {
  auto* s = impl_->lookup(id);
  if (!s) return tcp::State::kClosed;
  return s->kind == Impl::Kind::kListener ? tcp::State::kListen : s->conn->state();
}

std::optional<tcp::TcpInfo> Stack::tcp_info(SocketId id) const {
  auto* s = impl_->lookup(id);
  if (!s || s->kind == Impl::Kind::kListener || !s->conn) return std::nullopt;
  return s->conn->tcp_info();
}

Endpoint Stack::local_endpoint(SocketId id) const {
  auto* s = impl_->lookup(id);
  if (!s) return {};
  if (s->kind == Impl::Kind::kListener) {
    if (!s->listen_v4) return {impl_->config.address6, s->port};
    return {impl_->config.address, s->port};
  }
  return {s->tuple.local_addr, s->tuple.local_port};
}

Endpoint Stack::remote_endpoint(SocketId id) const {
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) return {};
  return {s->tuple.remote_addr, s->tuple.remote_port};
}

void Stack::set_nodelay(SocketId id, bool on) {
  auto* s = impl_->lookup(id);
  if (s && s->kind == Impl::Kind::kConnection) s->conn->set_nodelay(on);
}

void Stack::set_keepalive(SocketId id, const tcp::KeepaliveConfig& keepalive) {
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) return;
  s->conn->set_keepalive(keepalive, impl_->now);
  impl_->mark_dirty(impl_->index_of(*s));
}

void Stack::set_user_timeout(SocketId id, Duration timeout) {
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) return;
  s->conn->set_user_timeout(timeout);
  impl_->mark_dirty(impl_->index_of(*s));
}

void Stack::set_buffer_sizes(SocketId id, size_t send_bytes, size_t recv_bytes) {
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) return;
  if (send_bytes) s->conn->set_send_buffer(send_bytes);
  if (recv_bytes) s->conn->set_recv_buffer(recv_bytes);
  impl_->mark_dirty(impl_->index_of(*s));
}

void Stack::set_mss(SocketId id, uint16_t mss) {
  auto* s = impl_->lookup(id);
  if (!s) return;
  const uint16_t cap = impl_->config.tcp.mss;
  const uint16_t m = mss == 0 ? cap : std::min(mss, cap);
  if (s->kind == Impl::Kind::kListener) {
    s->user_mss = m;
  } else if (s->kind == Impl::Kind::kConnection) {
    s->conn->set_user_mss(m);
  }
}

size_t Stack::send_unacked(SocketId id) const {
  auto* s = impl_->lookup(id);
  return s && s->kind == Impl::Kind::kConnection ? s->conn->send_queued() : 0;
}

size_t Stack::send_unsent(SocketId id) const {
  auto* s = impl_->lookup(id);
  return s && s->kind == Impl::Kind::kConnection ? s->conn->send_unsent() : 0;
}

size_t Stack::recv_available(SocketId id) const {
  auto* s = impl_->lookup(id);
  return s && s->kind == Impl::Kind::kConnection ? s->conn->recv_available() : 0;
}

std::optional<size_t> Stack::urgent_mark(SocketId id) const {
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) return std::nullopt;
  if (auto m = s->conn->urgent_mark()) return static_cast<size_t>(*m);
  return std::nullopt;
}

size_t Stack::send_urgent(SocketId id, std::span<const uint8_t> data, std::error_code& ec) {
  if (reject_null_span(data, ec)) return 0;
  return impl_->send(id, data, ec, true);
}

void Stack::set_tos(SocketId id, uint8_t tos) {
  auto* s = impl_->lookup(id);
  if (s) s->tos = static_cast<uint8_t>(tos & ~kEcnMask);
}

uint8_t Stack::tos(SocketId id) const {
  auto* s = impl_->lookup(id);
  return s ? s->tos : 0;
}

std::error_code Stack::take_soft_error(SocketId id) {
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) return {};
  auto e = s->conn->take_soft_error();
  if (!e) return {};
  impl_->mark_dirty(impl_->index_of(*s));  // ready::kSoftError went away: told at the next flush
  return stack::soft_error_code(*e);
}

void Stack::set_readiness_callback(std::function<void(SocketId, uint32_t)> callback) {
  impl_->on_readiness = std::move(callback);
}

void Stack::set_trace(std::function<void(char, std::string_view)> trace) {
  impl_->trace = trace;
  impl_->out.set_trace(std::move(trace));
}

std::vector<std::pair<std::string_view, uint64_t>> Stack::counters() const {
  std::vector<std::pair<std::string_view, uint64_t>> out;
  // RFC 5961 §7: challenge ACKs (in-window RST or SYN, too-old ACK) sent and rate-limited.
  out.emplace_back("tcp.challenge-ack.sent", impl_->limiter.sent());
  out.emplace_back("tcp.challenge-ack.rate-limited", impl_->limiter.limited());
  ip::IpCounters ip = impl_->ip_in.counters();  // each input counts only its own family's names
  ip += impl_->ip6_in.counters();
  ip.append_to(out);
  impl_->counters.append_to(out);
  impl_->udp.append_counters(out);
  impl_->memory.append_to(out);
  return out;
}

size_t Stack::connection_count() const {
  return impl_->sockets.connection_count();
}

const StackConfig& Stack::config() const {
  return impl_->config;
}

// Linux's send controls (MSG_MORE, TCP_CORK, TCP_NOTSENT_LOWAT); see stack.hpp.
size_t Stack::send_more(SocketId id, std::span<const uint8_t> data, std::error_code& ec) {
  const size_t n = impl_->send(id, data, ec, false);  // clears an earlier MSG_MORE
  if (n > 0) impl_->lookup(id)->conn->set_more();     // held until the next plain send()
  return n;
}

void Stack::set_cork(SocketId id, bool on) {
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) return;
  s->conn->set_cork(on);
  impl_->mark_dirty(impl_->index_of(*s));  // uncorking sends what was held
}

void Stack::set_notsent_lowat(SocketId id, uint32_t bytes) {
  auto* s = impl_->lookup(id);
  if (!s || s->kind != Impl::Kind::kConnection) return;
  s->conn->set_notsent_lowat(bytes);
  impl_->mark_dirty(impl_->index_of(*s));  // writability may have changed
}

}  // namespace utcp
