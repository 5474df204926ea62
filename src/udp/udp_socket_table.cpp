// SPDX-License-Identifier: BSD-2-Clause
#include "udp/udp_socket_table.hpp"

#include <algorithm>
#include <cstring>

#include "wire/udp.hpp"

namespace utcp::udp {
namespace {

// The most one datagram can carry: an IPv4 total length of 65,535 less the IPv4 and UDP
// headers; an IPv6 payload length of 65,535 less the UDP header (no jumbograms). Linux refuses
// larger sends with EMSGSIZE.
size_t max_payload(const IpAddr& dst) {
  return dst.is_v4() ? 65535 - 20 - wire::kUdpHeaderLen : 65535 - wire::kUdpHeaderLen;
}

std::error_code err(std::errc e) {
  return std::make_error_code(e);
}

}  // namespace

UdpSocketTable::UdpSocketTable(const UdpConfig& config) : config_(config), rng_(config.seed) {}

bool UdpSocketTable::is_local(const IpAddr& a) const {
  return std::find(local_.begin(), local_.end(), a) != local_.end();
}

UdpSocketTable::Socket* UdpSocketTable::find(UdpId id) {
  const uint32_t index = id & kIndexMask;
  if (index >= sockets_.size()) return nullptr;
  Socket& s = sockets_[index];
  if (!s.open || s.gen != (id >> kIndexBits)) return nullptr;
  return &s;
}

const UdpSocketTable::Socket* UdpSocketTable::find(UdpId id) const {
  return const_cast<UdpSocketTable*>(this)->find(id);
}

UdpId UdpSocketTable::open() {
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    if (sockets_.size() > kIndexMask) return kNoUdp;
    index = static_cast<uint32_t>(sockets_.size());
    sockets_.emplace_back();
  }
  Socket& s = sockets_[index];
  const uint32_t gen = (s.gen + 1) & ((1u << (32 - kIndexBits)) - 1);
  s = Socket{};
  s.open = true;
  s.gen = gen;
  s.queue.set_limits(config_.recv_queue);
  s.queue.set_budget(config_.memory);
  ++open_count_;
  return id_of(index);
}

void UdpSocketTable::close(UdpId id) {
  Socket* s = find(id);
  if (!s) return;
  const uint32_t index = id & kIndexMask;
  if (s->bound && !s->detached) detach(index);
  const uint32_t gen = s->gen;
  *s = Socket{};  // frees the queue's storage
  s->gen = gen;
  free_.push_back(index);
  --open_count_;
}

void UdpSocketTable::attach(uint32_t index, const UdpEndpoint& local) {
  Socket& s = sockets_[index];
  s.bound = true;
  s.local = local;
  s.bind_order = ++bind_counter_;
  by_port_[local.port].push_back(index);
}

void UdpSocketTable::detach(uint32_t index) {
  Socket& s = sockets_[index];
  auto it = by_port_.find(s.local.port);
  if (it != by_port_.end()) {
    auto& v = it->second;
    v.erase(std::remove(v.begin(), v.end(), index), v.end());
    if (v.empty()) by_port_.erase(it);
  }
  s.bound = false;
}

bool UdpSocketTable::conflicts(const Socket& s, const UdpEndpoint& local, uint32_t self) const {
  auto it = by_port_.find(local.port);
  if (it == by_port_.end()) return false;
  for (uint32_t other : it->second) {
    if (other == self) continue;
    const Socket& o = sockets_[other];
    if (o.local.addr.family() != local.addr.family()) continue;  // IPv6 sockets are v6-only
    const bool overlap =
        o.local.addr == local.addr || o.local.addr.is_unspecified() || local.addr.is_unspecified();
    if (overlap && !(o.reuse_addr && s.reuse_addr)) return true;
  }
  return false;
}

std::optional<uint16_t> UdpSocketTable::ephemeral_port(const Socket& s, const IpAddr& addr) {
  const PortRange r = config_.ephemeral_ports;
  if (r.last < r.first) return std::nullopt;
  const uint32_t n = uint32_t{r.last} - r.first + 1;
  // RFC 6056 §3.3.1 (Algorithm 1): a random start, then every port of the range in turn.
  const uint32_t start = static_cast<uint32_t>(rng_.below(n));
  for (uint32_t i = 0; i < n; ++i) {
    const auto port = static_cast<uint16_t>(r.first + (start + i) % n);
    if (!conflicts(s, UdpEndpoint{addr, port}, UINT32_MAX)) return port;
  }
  return std::nullopt;
}

std::error_code UdpSocketTable::bind(UdpId id, const UdpEndpoint& local) {
  Socket* s = find(id);
  if (!s) return err(std::errc::bad_file_descriptor);
  if (s->bound) return err(std::errc::invalid_argument);  // Linux: EINVAL on a second bind
  if (!local.addr.is_unspecified() && !is_local(local.addr)) {
    return err(std::errc::address_not_available);
  }
  UdpEndpoint ep = local;
  if (ep.port == 0) {
    auto port = ephemeral_port(*s, ep.addr);
    if (!port) return err(std::errc::address_in_use);  // Linux: EADDRINUSE when exhausted
    ep.port = *port;
  } else if (conflicts(*s, ep, id & kIndexMask)) {
    return err(std::errc::address_in_use);
  }
  attach(id & kIndexMask, ep);
  return {};
}

std::error_code UdpSocketTable::open_flow(UdpId id, const UdpEndpoint& local,
                                          const UdpEndpoint& remote) {
  Socket* s = find(id);
  if (!s) return err(std::errc::bad_file_descriptor);
  if (s->bound || local.port == 0 || local.addr.family() != remote.addr.family()) {
    return err(std::errc::invalid_argument);
  }
  set_reuse_addr(id, true);
  if (conflicts(*s, local, id & kIndexMask)) return err(std::errc::address_in_use);
  attach(id & kIndexMask, local);
  return connect(id, remote);
}

std::error_code UdpSocketTable::open_detached_flow(UdpId id, const UdpEndpoint& local,
                                                   const UdpEndpoint& remote) {
  Socket* s = find(id);
  if (!s) return err(std::errc::bad_file_descriptor);
  if (s->bound || local.port == 0 || remote.port == 0 ||
      local.addr.family() != remote.addr.family()) {
    return err(std::errc::invalid_argument);
  }
  s->bound = true;
  s->detached = true;
  s->local = local;
  s->bind_order = ++bind_counter_;
  s->connected = true;
  s->conn_local = local.addr;
  s->remote = remote;
  return {};
}

void UdpSocketTable::set_error(UdpId id, std::errc error) {
  if (Socket* s = find(id)) {
    s->error = error;
    ++counters_.icmp_errors_reported;
  }
}

std::optional<IpAddr> UdpSocketTable::source_for(const IpAddr& dst) const {
  for (const IpAddr& a : local_) {
    if (a.family() == dst.family()) return a;
  }
  return std::nullopt;
}

std::error_code UdpSocketTable::connect(UdpId id, const UdpEndpoint& remote) {
  Socket* s = find(id);
  if (!s) return err(std::errc::bad_file_descriptor);
  if (remote.addr.is_unspecified()) {
    // connect(AF_UNSPEC): back to unconnected; the port stays bound.
    s->connected = false;
    s->remote = {};
    return {};
  }
  if (remote.port == 0) return err(std::errc::invalid_argument);
  if (s->bound && s->local.addr.family() != remote.addr.family()) {
    return err(std::errc::address_family_not_supported);
  }
  IpAddr source = s->bound ? s->local.addr : IpAddr();
  if (source.is_unspecified()) {
    auto a = source_for(remote.addr);
    if (!a) return err(std::errc::network_unreachable);
    source = *a;
  }
  if (!s->bound) {
    const IpAddr wildcard = remote.addr.is_v4() ? IpAddr() : IpAddr(Ipv6Addr());
    if (auto e = bind(id, UdpEndpoint{wildcard, 0})) return e;
  }
  s->connected = true;
  s->conn_local = source;
  s->remote = remote;
  s->error = {};
  return {};
}

void UdpSocketTable::set_reuse_addr(UdpId id, bool on) {
  if (Socket* s = find(id)) s->reuse_addr = on;
}

void UdpSocketTable::set_owner(UdpId id, uint32_t owner) {
  if (Socket* s = find(id)) s->owner = owner;
}

uint32_t UdpSocketTable::owner(UdpId id) const {
  const Socket* s = find(id);
  return s ? s->owner : UINT32_MAX;
}

void UdpSocketTable::append_counters(
    std::vector<std::pair<std::string_view, uint64_t>>& out) const {
  const UdpCounters& c = counters_;
  out.emplace_back("udp.in", c.in_datagrams);
  out.emplace_back("udp.in.delivered", c.in_delivered);
  out.emplace_back("udp.drop.bad-length", c.in_bad_length);
  out.emplace_back("udp.drop.bad-checksum", c.in_bad_checksum);
  out.emplace_back("udp.in.no-port", c.in_no_port);
  out.emplace_back("udp.drop.queue-full", c.in_queue_full);
  out.emplace_back("udp.drop.memory", c.in_no_memory);
  out.emplace_back("udp.out", c.out_datagrams);
  out.emplace_back("udp.icmp.error-reported", c.icmp_errors_reported);
  out.emplace_back("udp.icmp.error-ignored", c.icmp_errors_ignored);
}

void UdpSocketTable::set_recv_queue_limits(UdpId id, DatagramQueueLimits limits) {
  if (Socket* s = find(id)) s->queue.set_limits(limits);
}

std::optional<UdpEndpoint> UdpSocketTable::local_endpoint(UdpId id) const {
  const Socket* s = find(id);
  if (!s || !s->bound) return std::nullopt;
  if (s->connected) return UdpEndpoint{s->conn_local, s->local.port};
  return s->local;
}

std::optional<UdpEndpoint> UdpSocketTable::remote_endpoint(UdpId id) const {
  const Socket* s = find(id);
  if (!s || !s->connected) return std::nullopt;
  return s->remote;
}

UdpId UdpSocketTable::lookup(const UdpEndpoint& dst, const UdpEndpoint& src) const {
  auto it = by_port_.find(dst.port);
  if (it == by_port_.end()) return kNoUdp;
  int best_score = -1;
  uint64_t best_order = 0;
  uint32_t best = UINT32_MAX;
  for (uint32_t index : it->second) {
    const Socket& s = sockets_[index];
    if (s.local.addr.family() != dst.addr.family()) continue;
    int score = 0;
    if (!s.local.addr.is_unspecified()) {
      if (s.local.addr != dst.addr) continue;
      score += 1;
    }
    if (s.connected) {
      // A connected socket hears from its peer only, at the address it sends from.
      if (s.remote != src || s.conn_local != dst.addr) continue;
      score += 2;
    }
    if (score > best_score || (score == best_score && s.bind_order > best_order)) {
      best_score = score;
      best_order = s.bind_order;
      best = index;
    }
  }
  return best == UINT32_MAX ? kNoUdp : id_of(best);
}

UdpInput UdpSocketTable::input(const IpAddr& src, const IpAddr& dst, uint8_t traffic_class,
                               std::span<const uint8_t> ip_payload, bool verify_checksum,
                               UdpId* delivered_to) {
  ++counters_.in_datagrams;
  auto p = wire::UdpPacket::parse(ip_payload, src, dst, verify_checksum);
  if (!p) {
    if (p.error() == wire::ParseError::kBadChecksum) {
      ++counters_.in_bad_checksum;
    } else {
      ++counters_.in_bad_length;
    }
    return UdpInput::kDropped;
  }
  DatagramInfo info;
  info.src = UdpEndpoint{src, p->src_port()};
  info.dst = UdpEndpoint{dst, p->dst_port()};
  info.traffic_class = traffic_class;
  const UdpId id = lookup(info.dst, info.src);
  if (id == kNoUdp) {
    ++counters_.in_no_port;
    return UdpInput::kNoSocket;
  }
  const UdpInput v = push(sockets_[id & kIndexMask], info, p->payload());
  if (v == UdpInput::kDelivered && delivered_to) *delivered_to = id;
  return v;
}

UdpInput UdpSocketTable::push(Socket& s, const DatagramInfo& info,
                              std::span<const uint8_t> payload) {
  // RFC 8085 §3.1 (and Linux's SO_RCVBUF): a reader that falls behind loses datagrams; so
  // does any reader once the stack's buffer budget is spent.
  switch (s.queue.try_push(info, payload)) {
    case PushResult::kQueued:
      ++counters_.in_delivered;
      return UdpInput::kDelivered;
    case PushResult::kNoMemory:
      ++counters_.in_no_memory;
      return UdpInput::kDropped;
    case PushResult::kFull:
      break;
  }
  ++counters_.in_queue_full;
  return UdpInput::kDropped;
}

UdpInput UdpSocketTable::deliver(UdpId id, const IpAddr& src, const IpAddr& dst,
                                 uint8_t traffic_class, std::span<const uint8_t> ip_payload,
                                 bool verify_checksum) {
  Socket* s = find(id);
  if (!s) return UdpInput::kNoSocket;
  ++counters_.in_datagrams;
  auto p = wire::UdpPacket::parse(ip_payload, src, dst, verify_checksum);
  if (!p) {
    ++(p.error() == wire::ParseError::kBadChecksum ? counters_.in_bad_checksum
                                                   : counters_.in_bad_length);
    return UdpInput::kDropped;
  }
  DatagramInfo info;
  info.src = UdpEndpoint{src, p->src_port()};
  info.dst = UdpEndpoint{dst, p->dst_port()};
  info.traffic_class = traffic_class;
  return push(*s, info, p->payload());
}

bool UdpSocketTable::on_icmp_error(const UdpEndpoint& local, const UdpEndpoint& remote,
                                   std::errc error) {
  auto it = by_port_.find(local.port);
  if (it != by_port_.end()) {
    for (uint32_t index : it->second) {
      Socket& s = sockets_[index];
      // RFC 1122 §4.1.3.3: passed to the application, which only a connected socket can
      // attribute to its sends.
      if (s.connected && s.remote == remote && s.conn_local == local.addr) {
        s.error = error;
        ++counters_.icmp_errors_reported;
        return true;
      }
    }
  }
  ++counters_.icmp_errors_ignored;
  return false;
}

std::optional<Received> UdpSocketTable::recv(UdpId id, std::span<uint8_t> out, std::error_code& ec,
                                             bool peek) {
  ec.clear();
  Socket* s = find(id);
  if (!s) {
    ec = err(std::errc::bad_file_descriptor);
    return std::nullopt;
  }
  if (s->error != std::errc{}) {
    ec = err(s->error);
    s->error = {};
    return std::nullopt;
  }
  if (s->queue.empty()) {
    ec = err(std::errc::operation_would_block);
    return std::nullopt;
  }
  Received r;
  const auto data = s->queue.front();
  r.info = s->queue.front_info();
  r.datagram_len = data.size();
  r.copied = std::min(out.size(), data.size());
  if (r.copied != 0) std::memcpy(out.data(), data.data(), r.copied);
  if (!peek) s->queue.pop();
  return r;
}

size_t UdpSocketTable::next_datagram_len(UdpId id) const {
  const Socket* s = find(id);
  if (!s || s->queue.empty()) return 0;
  return s->queue.front().size();
}

size_t UdpSocketTable::queued_datagrams(UdpId id) const {
  const Socket* s = find(id);
  return s ? s->queue.datagrams() : 0;
}

std::optional<Sent> UdpSocketTable::send(UdpId id, const UdpEndpoint* dst,
                                         std::span<const uint8_t> payload, std::span<uint8_t> out,
                                         std::error_code& ec, bool checksum,
                                         const UdpEndpoint* from) {
  ec.clear();
  Socket* s = find(id);
  if (!s) {
    ec = err(std::errc::bad_file_descriptor);
    return std::nullopt;
  }
  if (s->error != std::errc{}) {
    ec = err(s->error);
    s->error = {};
    return std::nullopt;
  }
  if (!dst && !s->connected) {
    ec = err(std::errc::destination_address_required);
    return std::nullopt;
  }
  const UdpEndpoint to = dst ? *dst : s->remote;
  if (to.port == 0 || to.addr.is_unspecified()) {
    ec = err(std::errc::invalid_argument);
    return std::nullopt;
  }
  if (s->bound && s->local.addr.family() != to.addr.family()) {
    ec = err(std::errc::address_family_not_supported);
    return std::nullopt;
  }
  if (payload.size() > max_payload(to.addr)) {
    ec = err(std::errc::message_size);
    return std::nullopt;
  }
  if (out.size() < wire::kUdpHeaderLen + payload.size()) {
    ec = err(std::errc::no_buffer_space);
    return std::nullopt;
  }
  // The source: the connected socket's fixed one for its peer, else the bound address,
  // else the stack's first address of the destination's family.
  IpAddr source;
  if (from) {
    if (from->addr.family() != to.addr.family() || from->port == 0) {
      ec = err(std::errc::address_not_available);
      return std::nullopt;
    }
    source = from->addr;
  } else if (s->connected && to == s->remote) {
    source = s->conn_local;
  } else if (s->bound && !s->local.addr.is_unspecified()) {
    source = s->local.addr;
  } else if (auto a = source_for(to.addr)) {
    source = *a;
  } else {
    ec = err(std::errc::network_unreachable);
    return std::nullopt;
  }
  if (!s->bound) {
    const IpAddr wildcard = to.addr.is_v4() ? IpAddr() : IpAddr(Ipv6Addr());
    if (auto e = bind(id, UdpEndpoint{wildcard, 0})) {
      ec = e;
      return std::nullopt;
    }
  }
  const uint16_t src_port = from ? from->port : s->local.port;
  wire::UdpRepr r{.src_port = src_port, .dst_port = to.port, .payload = payload};
  Sent sent;
  sent.len = r.emit(out, source, to.addr, checksum);
  sent.src = UdpEndpoint{source, src_port};
  sent.dst = to;
  ++counters_.out_datagrams;
  return sent;
}

bool UdpSocketTable::readable(UdpId id) const {
  const Socket* s = find(id);
  return s && (!s->queue.empty() || s->error != std::errc{});
}

bool UdpSocketTable::has_error(UdpId id) const {
  const Socket* s = find(id);
  return s && s->error != std::errc{};
}

std::error_code UdpSocketTable::take_error(UdpId id) {
  Socket* s = find(id);
  if (!s || s->error == std::errc{}) return {};
  const auto e = err(s->error);
  s->error = {};
  return e;
}

}  // namespace utcp::udp
