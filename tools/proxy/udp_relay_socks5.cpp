// SPDX-License-Identifier: BSD-2-Clause
// UdpRelay through SOCKS5: one UDP ASSOCIATE (RFC 1928 §7) shared by all flows of one client
// address. Every datagram carries its own destination in the §7 header, so one association
// and one relay socket serve any number of destinations; replies are routed back by the
// header's source (and, for DNS, the query ID, made unique per server). A flow whose target
// a reply could not name (a fake IP's name) or whose target another flow of the client already
// uses (two client ports to one destination, not DNS) gets an association of its own. An
// association lives while flows use it, lingers --udp-timeout after its last one, and its failure
// or close ends all its flows.
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "socket_address.hpp"
#include "socks5_udp.hpp"
#include "udp_relay_flow.hpp"

namespace utcp::proxy {
namespace {

constexpr uint16_t kDnsPort = 53;
constexpr int kMaxDatagramsPerWakeup = 64;  // from one relay socket, before others get a turn
// DNS query IDs remembered per association until answered: past it a query still goes out,
// but its answer is dropped (a resolver retries), so a client cannot grow the table.
constexpr size_t kMaxRoutes = 4096;

bool is_dns(const Target& t) {
  return t.domain.empty() && t.port == kDnsPort;
}

// The RFC 1035 §4.1.1 ID: the first two octets of a query and of its answer.
int32_t dns_id(std::span<const uint8_t> message) {
  return message.size() < 12 ? -1 : int32_t{message[0]} << 8 | message[1];
}

void set_dns_id(uint8_t* message, uint16_t id) {
  message[0] = static_cast<uint8_t>(id >> 8);
  message[1] = static_cast<uint8_t>(id);
}

// An ID for a query whose own was taken: unpredictable, as the client's resolver made its own
// (RFC 5452 §4.3: the ID is part of what an off-path forger must guess).
uint16_t random_dns_id() {
  uint16_t id = 0;
  if (::getrandom(&id, sizeof id, GRND_NONBLOCK) == sizeof id) return id;
  return static_cast<uint16_t>(EventLoop::clock_now().time_since_epoch().count());
}

}  // namespace

void UdpRelay::start_socks5(Flow& f) {
  const SocketId s = f.flow.socket;
  const bool shared = f.target.domain.empty();
  const ReplyKey key{f.target.addr, f.target.port, -1};
  Association* a = nullptr;
  if (shared) {
    auto [from, to] = shared_associations_.equal_range(f.flow.remote.addr);
    for (auto it = from; it != to && a == nullptr; ++it) {
      Association& candidate = *associations_.at(it->second);
      if (candidate.ending) continue;
      // Two flows to one destination could not be told apart by the replies' header.
      if (is_dns(f.target) || candidate.routes.count(key) == 0) a = &candidate;
    }
  }
  if (a == nullptr) {
    std::string why;
    a = open_association(f.flow.remote.addr, shared, why);
    if (a == nullptr) {
      ++counters_.upstream_failed;
      return end(s, why);
    }
  }
  a->flows.push_back(s);
  if (shared && !is_dns(f.target)) a->routes.emplace(key, Association::Route{s});
  f.association = a->id;
  f.ready = a->ready;
}

UdpRelay::Association* UdpRelay::open_association(const IpAddr& client, bool shared,
                                                  std::string& why) {
  const Endpoint& server = config_.upstream_server;
  std::string error;
  // The UDP socket first, connected to the server for now: its address and port are then known
  // and go into the request as the datagrams' source (RFC 1928 §7); once the reply names the
  // relay endpoint (BND), the socket is connected there.
  const int fd = open_socket(SOCK_DGRAM, server, error);
  const int control = fd < 0 ? -1 : open_socket(SOCK_STREAM, server, error);
  if (control < 0) {
    if (fd >= 0) ::close(fd);
    why = "unreachable";
    return nullptr;
  }
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  Endpoint source;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) source = from_sockaddr(ss);
  auto a = std::make_unique<Association>();
  a->id = next_association_++;
  a->client = client;
  a->shared = shared;
  a->fd = fd;
  a->opened = EventLoop::clock_now();
  a->socks = std::make_unique<Socks5Association>(control, server, source, config_.credentials);
  if (a->socks->status() == Socks5Association::Status::kFailed) {
    ::close(fd);
    why = "upstream-error";
    return nullptr;
  }
  const uint64_t id = a->id;
  if (!watch(control, a->socks->events(),
             [this, id](uint32_t events) { on_association_control(id, events); })) {
    ::close(fd);
    why = "error";
    return nullptr;
  }
  ++counters_.associations;
  Association* raw = a.get();
  associations_.emplace(id, std::move(a));
  if (shared) shared_associations_.emplace(client, id);
  return raw;
}

void UdpRelay::on_association_control(uint64_t id, uint32_t events) {
  auto it = associations_.find(id);
  if (it == associations_.end()) return;
  Association& a = *it->second;
  using Status = Socks5Association::Status;
  const Status status = a.socks->on_events(events);
  if (status == Status::kFailed) {
    const uint8_t rep = a.socks->reply_code();
    // RFC 1928 §6: REP 2 (not allowed by ruleset), 5 (connection refused), 7 (command not
    // supported) are the server refusing; anything else is a failure on the way.
    return end_association(id, rep == 0xff ? "upstream-error" : "refused",
                           &counters_.upstream_failed);
  }
  // RFC 1928 §7: the association ends with its TCP connection, and every flow on it.
  if (status == Status::kClosed) return end_association(id, "upstream-closed", nullptr);
  if (status == Status::kReady && !a.ready) {
    sockaddr_storage ss;
    const Endpoint relay = a.socks->relay();
    const socklen_t len = to_sockaddr(relay, ss);
    if (family_of(relay) != family_of(config_.upstream_server) ||
        ::connect(a.fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
      return end_association(id, "unreachable", &counters_.upstream_failed);
    }
    if (!watch(a.fd, EPOLLIN, [this, id](uint32_t ev) { on_association_udp(id, ev); })) {
      return end_association(id, "error", &counters_.upstream_failed);
    }
    a.fd_watched = true;
    a.ready = true;
    const std::vector<SocketId> flows = a.flows;  // flush_up may end flows
    for (const SocketId s : flows) {
      if (auto f = flows_.find(s); f != flows_.end()) {
        f->second->ready = true;
        flush_up(*f->second);
      }
    }
    if (associations_.count(id) == 0) return;
  }
  loop_.modify_fd(a.socks->fd(), a.socks->events());
}

void UdpRelay::on_association_udp(uint64_t id, uint32_t events) {
  auto it = associations_.find(id);
  if (it == associations_.end()) return;
  Association& a = *it->second;
  if ((events & EPOLLOUT) && a.blocked) {
    a.blocked = false;
    loop_.modify_fd(a.fd, EPOLLIN);
    const std::vector<SocketId> flows = a.flows;
    for (const SocketId s : flows) {
      if (auto f = flows_.find(s); f != flows_.end()) flush_up(*f->second);
      if (associations_.count(id) == 0) return;
    }
  }
  if (!(events & (EPOLLIN | EPOLLERR))) return;
  for (int i = 0; i < kMaxDatagramsPerWakeup; ++i) {
    const ssize_t n = ::recv(a.fd, buf_.get(), kBufSize, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      // The relay endpoint itself is gone (ICMP from the server): so is the association.
      if (errno == ECONNREFUSED) return end_association(id, "refused", &counters_.upstream_refused);
      if (errno == EHOSTUNREACH || errno == ENETUNREACH) {
        return end_association(id, "unreachable", &counters_.upstream_failed);
      }
      ++counters_.drop_send_error;
      continue;
    }
    deliver_from_relay(a, std::span(buf_.get(), static_cast<size_t>(n)));
    if (associations_.count(id) == 0) return;
  }
  loop_.request_process();
}

void UdpRelay::deliver_from_relay(Association& a, std::span<uint8_t> datagram) {
  Socks5UdpError error;
  const auto d = decode_socks5_udp(datagram, error);
  if (!d) {
    ++(error == Socks5UdpError::kFragmented ? counters_.drop_fragment : counters_.drop_bad_header);
    return;
  }
  SocketId s = kNoSocket;
  if (!a.shared) {
    if (!a.flows.empty()) s = a.flows.front();  // its one flow, to a name
  } else if (d->address.domain.empty()) {
    ReplyKey key{d->address.addr, d->address.port, -1};
    if (is_dns(d->address)) key.dns_id = dns_id(d->payload);
    if (auto r = a.routes.find(key); r != a.routes.end()) {
      s = r->second.socket;
      if (key.dns_id >= 0) {
        // The answer goes back with the ID its client chose (the payload lies in datagram).
        const auto at = static_cast<size_t>(d->payload.data() - datagram.data());
        set_dns_id(datagram.data() + at, r->second.client_dns_id);
        a.routes.erase(r);  // answered
      }
    }
  }
  auto it = s == kNoSocket ? flows_.end() : flows_.find(s);
  if (it == flows_.end()) {
    ++counters_.drop_no_flow;
    return;
  }
  Flow& f = *it->second;
  // The reply leaves the TUN from the original destination (the flow's local endpoint).
  std::error_code ec;
  stack_.send_to(f.flow.socket, d->payload, nullptr, ec);
  if (ec == std::errc::bad_file_descriptor) return end(s, "closed", true);
  if (ec) {
    ++counters_.drop_send_error;
    return;
  }
  ++counters_.datagrams_down;
  f.bytes_down += d->payload.size();
  f.last_used = EventLoop::clock_now();
  if (SessionRecord* r = sink_.find(f.session)) r->bytes_down = f.bytes_down;
}

UdpRelay::WriteResult UdpRelay::write_to_relay(Flow& f, std::span<const uint8_t> datagram) {
  auto it = associations_.find(f.association);
  if (it == associations_.end()) return WriteResult::kDone;
  Association& a = *it->second;
  if (a.blocked) return WriteResult::kBlocked;          // keep the order behind what waits
  if (!encode_socks5_udp(f.target, datagram, wrap_)) {  // a name over 255 octets
    ++counters_.drop_send_error;
    return WriteResult::kDone;
  }
  if (a.shared && is_dns(f.target) && dns_id(datagram) >= 0) route_dns_query(a, f, datagram.size());
  if (::send(a.fd, wrap_.data(), wrap_.size(), MSG_NOSIGNAL) >= 0) return WriteResult::kDone;
  if (errno == EAGAIN || errno == ENOBUFS) {
    a.blocked = true;
    loop_.modify_fd(a.fd, EPOLLIN | EPOLLOUT);
    return WriteResult::kBlocked;
  }
  if (errno == ECONNREFUSED) {  // the relay endpoint answered an earlier datagram with ICMP
    end_association(a.id, "refused", &counters_.upstream_refused);
    return WriteResult::kEnded;
  }
  ++counters_.drop_send_error;  // EMSGSIZE and the like: this datagram only
  return WriteResult::kDone;
}

// Remembers where the answer to the DNS query in wrap_ goes. Flows of one client share the
// association, so two of them may ask one server with the same ID (RFC 1035 §4.1.1) at once:
// the later one's query then goes out with a free ID, and its answer gets its own back, as a
// forwarding resolver does. A query past kMaxRoutes still goes out; its answer is dropped.
void UdpRelay::route_dns_query(Association& a, const Flow& f, size_t size) {
  uint8_t* query = wrap_.data() + wrap_.size() - size;  // the payload, behind the §7 header
  const auto client_id = static_cast<uint16_t>(dns_id({query, size}));
  ReplyKey key{f.target.addr, f.target.port, client_id};
  const Association::Route route{f.flow.socket, client_id};
  auto taken = a.routes.find(key);
  if (taken != a.routes.end() && taken->second.socket == route.socket &&
      taken->second.client_dns_id == client_id) {
    return;  // the same query again (a retry): the same route serves
  }
  if (a.routes.size() >= kMaxRoutes) return;
  if (taken != a.routes.end()) {
    // At most kMaxRoutes of 65,536 IDs are in use: a draw is free with odds 15/16 at worst.
    int draws = 0;
    do {
      key.dns_id = random_dns_id();
    } while (a.routes.count(key) != 0 && ++draws < 64);
    if (draws == 64) return;
    set_dns_id(query, static_cast<uint16_t>(key.dns_id));
    ++counters_.dns_ids_rewritten;
  }
  a.routes.emplace(key, route);
}

void UdpRelay::leave_association(Flow& f) {
  auto it = associations_.find(f.association);
  f.association = 0;
  if (it == associations_.end()) return;
  Association& a = *it->second;
  const SocketId s = f.flow.socket;
  std::erase(a.flows, s);
  std::erase_if(a.routes, [s](const auto& route) { return route.second.socket == s; });
  if (!a.flows.empty() || a.ending) return;
  // Unshared, or with no linger: at once; else kept --udp-timeout for the client's next flow.
  if (!a.shared || config_.udp_idle_timeout.count() <= 0) return close_association(a.id);
  a.empty_since = EventLoop::clock_now();
}

void UdpRelay::end_association(uint64_t id, const char* why, uint64_t* counter) {
  auto it = associations_.find(id);
  if (it == associations_.end()) return;
  it->second->ending = true;
  const std::vector<SocketId> flows = it->second->flows;
  for (const SocketId s : flows) {
    if (counter) ++*counter;
    end(s, why);
  }
  close_association(id);
}

void UdpRelay::close_association(uint64_t id) {
  auto it = associations_.find(id);
  if (it == associations_.end()) return;
  std::unique_ptr<Association> a = std::move(it->second);
  associations_.erase(it);
  if (a->shared) {
    auto [from, to] = shared_associations_.equal_range(a->client);
    for (auto m = from; m != to; ++m) {
      if (m->second == id) {
        shared_associations_.erase(m);
        break;
      }
    }
  }
  for (const SocketId s : a->flows) {  // none unless the relay is going away
    if (auto f = flows_.find(s); f != flows_.end()) f->second->association = 0;
  }
  loop_.remove_fd(a->socks->fd());  // closed by the Socks5Association's destructor
  if (a->fd_watched) loop_.remove_fd(a->fd);
  ::close(a->fd);
}

void UdpRelay::sweep_associations(Instant now) {
  std::vector<uint64_t> idle, late;
  for (const auto& [id, a] : associations_) {
    if (!a->ready && now - a->opened >= config_.connect_timeout) {
      late.push_back(id);  // the server never finished the handshake
    } else if (a->flows.empty() && now - a->empty_since >= config_.udp_idle_timeout) {
      idle.push_back(id);
    }
  }
  for (const uint64_t id : late) end_association(id, "timeout", &counters_.upstream_failed);
  for (const uint64_t id : idle) close_association(id);
}

}  // namespace utcp::proxy
