// SPDX-License-Identifier: BSD-2-Clause
// utcp-proxy's UDP relay: see udp_relay.hpp.
#include "udp_relay.hpp"

#include <netdb.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>

#include "socket_address.hpp"
#include "socks5_udp.hpp"
#include "udp_relay_flow.hpp"

namespace utcp::proxy {
namespace {

std::string endpoint_text(const Endpoint& e) {
  const std::string host = e.addr.is_v4() ? e.addr.to_string() : "[" + e.addr.to_string() + "]";
  return host + ":" + std::to_string(e.port);
}

constexpr uint16_t kDnsPort = 53;
constexpr int kMaxDatagramsPerWakeup = 64;  // from one upstream socket, before others get a turn

}  // namespace

UdpRelay::UdpRelay(Stack& stack, EventLoop& loop, const ProxyConfig& config, SocketSetup setup,
                   SessionSink& sink)
    : stack_(stack),
      loop_(loop),
      config_(config),
      setup_(std::move(setup)),
      sink_(sink),
      started_(EventLoop::clock_now()),
      buf_(std::make_unique_for_overwrite<uint8_t[]>(kBufSize)) {
  if (config.dns == DnsMode::kFakeIp) dns_.emplace(config.fake_ip_pool, config.fake_ip_pool6);
  sweep_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (sweep_fd_ < 0) throw std::system_error(errno, std::generic_category(), "timerfd_create");
  loop_.add_fd(sweep_fd_, EPOLLIN, [this](uint32_t) {
    uint64_t expirations;
    while (::read(sweep_fd_, &expirations, sizeof expirations) > 0) {
    }
    sweep();
  });
}

UdpRelay::~UdpRelay() {
  std::vector<SocketId> all;
  for (const auto& [s, f] : flows_) all.push_back(s);
  for (const SocketId s : all) end(s, "shutdown");
  while (!associations_.empty()) close_association(associations_.begin()->first);
  loop_.remove_fd(sweep_fd_);
  ::close(sweep_fd_);
}

std::string UdpRelay::upstream_name() const {
  switch (config_.upstream) {
    case UpstreamKind::kSocks5:
      return "socks5 " + endpoint_text(config_.upstream_server);
    case UpstreamKind::kHttpConnect:
      return "http " + endpoint_text(config_.upstream_server);
    case UpstreamKind::kDirect:
      break;
  }
  return "direct";
}

double UdpRelay::seconds_since_start(Instant t) const {
  return std::chrono::duration<double>(t - started_).count();
}

std::optional<std::string> UdpRelay::fake_ip_name(const IpAddr& addr) const {
  if (!dns_) return std::nullopt;
  return dns_->name_of(addr);
}

void UdpRelay::refuse(const Stack::UdpFlow& flow, const char* why, uint64_t& counter) {
  ++counter;
  SessionRecord r;
  r.udp = true;
  r.client = flow.remote;
  r.destination = flow.local;
  r.upstream = upstream_name();
  r.started_s = seconds_since_start(EventLoop::clock_now());
  sink_.close(sink_.open(std::move(r)), why);
  stack_.close(flow.socket);
  loop_.request_process();
}

void UdpRelay::on_flow(const Stack::UdpFlow& flow) {
  if (flows_.count(flow.socket) != 0) return;
  const bool dns_port = flow.local.port == kDnsPort;
  if (flows_.size() >= config_.max_sessions) {
    return refuse(flow, "limit", counters_.refused_limit);
  }
  auto f = std::make_unique<Flow>();
  f->flow = flow;
  f->opened = f->last_used = EventLoop::clock_now();
  f->target = Target{flow.local.addr, "", flow.local.port};
  f->local_dns = dns_ && dns_port;
  SessionRecord r;
  r.udp = true;
  r.client = flow.remote;
  r.destination = flow.local;
  r.upstream = f->local_dns ? "fake-ip dns" : upstream_name();
  r.started_s = seconds_since_start(f->opened);
  if (!f->local_dns && dns_ && dns_->contains(flow.local.addr)) {
    // A fake address: its datagrams go upstream by name (SOCKS5 ATYP 3).
    auto name = dns_->name_of(flow.local.addr);
    if (!name || name->empty()) return refuse(flow, "no-name", counters_.refused_no_name);
    f->target.domain = *name;
    r.domain = std::move(*name);
  } else if (!f->local_dns && dns_port && config_.dns_upstream) {
    f->target = Target{config_.dns_upstream->addr, "", config_.dns_upstream->port};  // --dns-server
  }
  f->session = sink_.open(std::move(r));
  ++counters_.flows;
  const SocketId s = flow.socket;
  Flow& flow_ref = *f;
  flows_.emplace(s, std::move(f));
  arm_sweep();
  if (flow_ref.local_dns) {
    flow_ref.ready = true;
  } else if (config_.upstream == UpstreamKind::kHttpConnect) {
    // RFC 9110 §9.3.6: CONNECT tunnels one byte stream; there is no way to carry datagrams.
    ++counters_.refused_unsupported;
    return end(s, "unsupported");
  } else if (config_.upstream == UpstreamKind::kSocks5) {
    start_socks5(flow_ref);
  } else if (!flow_ref.target.domain.empty()) {
    start_resolve(flow_ref);
  } else {
    start_direct(flow_ref, Endpoint{flow_ref.target.addr, flow_ref.target.port});
  }
  if (auto it = flows_.find(s); it != flows_.end()) pump_client(*it->second);
}

int UdpRelay::open_socket(int type, const Endpoint& to, std::string& error) {
  const int fd = ::socket(family_of(to), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  // Before connect(): SO_BINDTODEVICE / SO_MARK keep the socket's packets out of the TUN.
  if (setup_ && !setup_(fd, error)) {
    ::close(fd);
    return -1;
  }
  sockaddr_storage ss;
  const socklen_t len = to_sockaddr(to, ss);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
    error = "connect " + endpoint_text(to) + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

void UdpRelay::start_direct(Flow& f, const Endpoint& to) {
  const SocketId s = f.flow.socket;
  std::string error;
  f.fd = open_socket(SOCK_DGRAM, to, error);
  if (f.fd < 0) {
    ++counters_.upstream_failed;
    return end(s, "unreachable");
  }
  f.fd_events = EPOLLIN;
  if (!watch(f.fd, f.fd_events, [this, s](uint32_t events) { on_upstream(s, events); })) {
    ++counters_.upstream_failed;
    return end(s, "error");
  }
  f.fd_watched = true;
  f.ready = true;
}

void UdpRelay::start_resolve(Flow& f) {
  f.resolution = std::make_shared<Resolution>();
  f.resolution->relay = this;
  f.resolution->loop = &loop_;
  // The flow's own family first: the client asked for an A or an AAAA record.
  const int family = f.flow.local.addr.is_v4() ? AF_INET : AF_INET6;
  std::thread([r = f.resolution, s = f.flow.socket, family, name = f.target.domain,
               port = f.target.port] {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* list = nullptr;
    std::optional<Endpoint> found;
    if (::getaddrinfo(name.c_str(), std::to_string(port).c_str(), &hints, &list) == 0) {
      for (const addrinfo* a = list; a != nullptr; a = a->ai_next) {
        if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
        sockaddr_storage ss{};
        std::memcpy(&ss, a->ai_addr, std::min<size_t>(a->ai_addrlen, sizeof ss));
        if (!found || a->ai_family == family) found = from_sockaddr(ss);
        if (a->ai_family == family) break;
      }
      ::freeaddrinfo(list);
    }
    std::lock_guard lock(r->mutex);
    if (r->relay == nullptr) return;
    r->loop->post([r, s, found] {
      UdpRelay* relay;
      {
        std::lock_guard inner(r->mutex);
        relay = r->relay;
      }
      if (relay != nullptr) relay->on_resolved(s, found);
    });
  }).detach();
}

void UdpRelay::on_resolved(SocketId s, std::optional<Endpoint> found) {
  auto it = flows_.find(s);
  if (it == flows_.end()) return;
  Flow& f = *it->second;
  f.resolution.reset();
  if (!found) {
    ++counters_.upstream_failed;
    return end(s, "unreachable");  // the name does not resolve
  }
  start_direct(f, *found);
  if (flows_.count(s) != 0) flush_up(f);  // what the client sent meanwhile
  loop_.request_process();
}

bool UdpRelay::watch(int fd, uint32_t events, std::function<void(uint32_t)> callback) {
  try {
    loop_.add_fd(fd, events, std::move(callback));
    return true;
  } catch (const std::system_error&) {  // epoll_ctl out of memory or watches: this flow fails
    return false;
  }
}

void UdpRelay::on_upstream(SocketId s, uint32_t events) {
  auto it = flows_.find(s);
  if (it == flows_.end()) return;
  Flow& f = *it->second;
  if (events & EPOLLOUT) {
    flush_up(f);
    if (flows_.count(s) == 0) return;
  }
  if (!(events & (EPOLLIN | EPOLLERR))) return;
  const uint64_t before = f.bytes_down;
  for (int i = 0; i < kMaxDatagramsPerWakeup; ++i) {
    const ssize_t n = ::recv(f.fd, buf_.get(), kBufSize, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      if (errno == ECONNREFUSED) {  // ICMP port unreachable from the target (or the relay)
        ++counters_.upstream_refused;
        return end(s, "refused");
      }
      if (errno == EHOSTUNREACH || errno == ENETUNREACH) {
        ++counters_.upstream_failed;
        return end(s, "unreachable");
      }
      ++counters_.drop_send_error;  // another ICMP error: reported once, the flow goes on
      continue;
    }
    const std::span<const uint8_t> payload(buf_.get(), static_cast<size_t>(n));
    // The reply leaves the TUN from the original destination (the flow's local endpoint).
    std::error_code ec;
    stack_.send_to(f.flow.socket, payload, nullptr, ec);
    if (ec == std::errc::bad_file_descriptor) return end(s, "closed", true);
    if (ec) {
      ++counters_.drop_send_error;
      continue;
    }
    ++counters_.datagrams_down;
    f.bytes_down += payload.size();
    f.last_used = EventLoop::clock_now();
  }
  if (f.bytes_down != before) {
    if (SessionRecord* r = sink_.find(f.session)) r->bytes_down = f.bytes_down;
    loop_.request_process();
  }
}

void UdpRelay::pump_client(Flow& f) {
  const SocketId s = f.flow.socket;
  const uint64_t up = f.bytes_up, down = f.bytes_down;
  for (int errors = 0; errors < 4;) {
    std::error_code ec;
    const size_t n = stack_.recv_from(s, std::span(buf_.get(), kBufSize), ec);
    if (ec == std::errc::operation_would_block) break;
    if (ec == std::errc::bad_file_descriptor) return end(s, "closed", true);
    if (ec) {  // an ICMP error about a datagram sent to the client: nothing to do
      ++errors;
      continue;
    }
    const std::span<const uint8_t> datagram(buf_.get(), n);
    f.bytes_up += n;
    f.last_used = EventLoop::clock_now();
    if (!f.local_dns) {
      ++counters_.datagrams_up;
      send_up(f, datagram);
      if (flows_.count(s) == 0) return;
      continue;
    }
    const std::vector<uint8_t> answer = dns_->answer(datagram);
    if (answer.empty()) continue;
    stack_.send_to(s, answer, nullptr, ec);
    if (!ec) {
      ++counters_.dns_answers;
      f.bytes_down += answer.size();
    }
  }
  if (SessionRecord* r = sink_.find(f.session); r && (f.bytes_up != up || f.bytes_down != down)) {
    r->bytes_up = f.bytes_up;
    r->bytes_down = f.bytes_down;
  }
  loop_.request_process();
  // A fake-IP DNS flow is done once its queries are answered: a resolver's next query (even
  // from the same port) makes a new flow, so none piles up waiting for the idle timeout.
  if (f.local_dns && f.bytes_up != 0) end(s, "closed");
}

void UdpRelay::send_up(Flow& f, std::span<const uint8_t> datagram) {
  if (f.ready && f.queue.empty()) {  // the common case: straight out, nothing allocated
    if (write_up(f, datagram) != WriteResult::kBlocked) return;
  }
  // Bounded: past it the datagram is dropped, as a router's full queue would (UDP promises no
  // delivery), and the queue never grows.
  if (f.queue.size() >= kMaxQueuedDatagrams || f.queued_bytes + datagram.size() > kMaxQueuedBytes) {
    ++counters_.drop_queue_full;
    return;
  }
  f.queue.emplace_back(datagram.begin(), datagram.end());
  f.queued_bytes += datagram.size();
  update_upstream_events(f);
}

UdpRelay::WriteResult UdpRelay::write_up(Flow& f, std::span<const uint8_t> datagram) {
  if (f.association != 0) return write_to_relay(f, datagram);
  if (::send(f.fd, datagram.data(), datagram.size(), MSG_NOSIGNAL) >= 0) return WriteResult::kDone;
  if (errno == EAGAIN || errno == ENOBUFS) return WriteResult::kBlocked;
  if (errno == ECONNREFUSED) {  // a port unreachable came back for an earlier datagram
    ++counters_.upstream_refused;
    end(f.flow.socket, "refused");
    return WriteResult::kEnded;
  }
  ++counters_.drop_send_error;  // EMSGSIZE and the like: this datagram only
  return WriteResult::kDone;
}

void UdpRelay::flush_up(Flow& f) {
  while (f.ready && !f.queue.empty()) {
    const WriteResult r = write_up(f, f.queue.front());
    if (r == WriteResult::kEnded) return;
    if (r == WriteResult::kBlocked) break;
    f.queued_bytes -= f.queue.front().size();
    f.queue.pop_front();
  }
  update_upstream_events(f);
}

void UdpRelay::update_upstream_events(Flow& f) {
  if (!f.fd_watched) return;
  const uint32_t want = EPOLLIN | (f.queue.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
  if (want == f.fd_events) return;
  f.fd_events = want;
  loop_.modify_fd(f.fd, want);
}

bool UdpRelay::on_readiness(SocketId s, uint32_t ready) {
  const auto it = flows_.find(s);
  if (it == flows_.end()) return false;
  if (ready & ready::kHangup) {
    // The stack closed the flow itself (StackConfig::udp_flow_idle_timeout); no Stack call
    // is allowed from inside its callback, and none is needed.
    ++counters_.idle;
    end(s, "idle", true);
    return true;
  }
  if (!it->second->dirty) {  // once per round, however many datagrams came
    it->second->dirty = true;
    dirty_.push_back(s);
  }
  return true;
}

void UdpRelay::after_process() {
  if (dirty_.empty()) return;
  std::vector<SocketId> dirty;
  dirty.swap(dirty_);
  for (const SocketId s : dirty) {
    if (auto it = flows_.find(s); it != flows_.end()) {
      it->second->dirty = false;
      pump_client(*it->second);
    }
  }
  if (dirty_.empty()) dirty.swap(dirty_);  // keep the capacity for the next round
}

void UdpRelay::end(SocketId s, std::string why, bool stack_closed) {
  auto it = flows_.find(s);
  if (it == flows_.end()) return;
  std::unique_ptr<Flow> f = std::move(it->second);
  flows_.erase(it);
  if (f->resolution) {  // a resolver thread still running: its answer is dropped
    std::lock_guard lock(f->resolution->mutex);
    f->resolution->relay = nullptr;
  }
  if (f->association != 0) leave_association(*f);
  if (f->fd >= 0) {
    if (f->fd_watched) loop_.remove_fd(f->fd);
    ::close(f->fd);
  }
  if (!stack_closed) {
    stack_.close(s);
    loop_.request_process();
  }
  if (SessionRecord* r = sink_.find(f->session)) {
    r->bytes_up = f->bytes_up;
    r->bytes_down = f->bytes_down;
    r->duration_s = seconds_since_start(EventLoop::clock_now()) - r->started_s;
  }
  sink_.close(f->session, std::move(why));
}

void UdpRelay::arm_sweep() {
  if (sweep_armed_) return;
  // Every flow is checked each period: an eighth of the shorter of the idle and connect
  // timeouts (10 ms to 1 s), so a flow ends at most that late, and an idle relay (no flows)
  // never wakes up.
  auto period = std::chrono::duration_cast<std::chrono::milliseconds>(config_.connect_timeout);
  if (config_.udp_idle_timeout.count() > 0) period = std::min(period, config_.udp_idle_timeout);
  period = std::clamp(period / 8, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  itimerspec spec{};
  spec.it_interval.tv_sec = period.count() / 1000;
  spec.it_interval.tv_nsec = period.count() % 1000 * 1'000'000;
  spec.it_value = spec.it_interval;
  if (::timerfd_settime(sweep_fd_, 0, &spec, nullptr) == 0) sweep_armed_ = true;
}

void UdpRelay::sweep() {
  const Instant now = EventLoop::clock_now();
  std::vector<std::pair<SocketId, const char*>> due;
  for (const auto& [s, f] : flows_) {
    if (!f->ready && now - f->opened >= config_.connect_timeout) {
      due.emplace_back(s, "timeout");  // the SOCKS5 association never came up
    } else if (config_.udp_idle_timeout.count() > 0 &&
               now - f->last_used >= config_.udp_idle_timeout) {
      due.emplace_back(s, "idle");
    }
  }
  for (const auto& [s, why] : due) {
    ++(why[0] == 'i' ? counters_.idle : counters_.upstream_failed);
    end(s, why);
  }
  sweep_associations(now);
  if (flows_.empty() && associations_.empty() && sweep_armed_) {
    const itimerspec off{};
    ::timerfd_settime(sweep_fd_, 0, &off, nullptr);
    sweep_armed_ = false;
  }
}

std::vector<std::pair<std::string_view, uint64_t>> UdpRelay::counters() const {
  const Counters& c = counters_;
  return {{"udp.flows", c.flows},
          {"udp.flows.open", flows_.size()},
          {"udp.dns.fake-ip-answers", c.dns_answers},
          {"udp.datagrams.up", c.datagrams_up},
          {"udp.datagrams.down", c.datagrams_down},
          {"udp.drop.queue-full", c.drop_queue_full},
          {"udp.drop.send-error", c.drop_send_error},
          {"udp.drop.socks5-header", c.drop_bad_header},
          {"udp.drop.socks5-fragment", c.drop_fragment},
          {"udp.drop.socks5-no-flow", c.drop_no_flow},
          {"udp.socks5.dns-ids-rewritten", c.dns_ids_rewritten},
          {"udp.socks5.associations", c.associations},
          {"udp.socks5.associations.open", associations_.size()},
          {"udp.refused.limit", c.refused_limit},
          {"udp.refused.unsupported", c.refused_unsupported},
          {"udp.refused.no-name", c.refused_no_name},
          {"udp.upstream.refused", c.upstream_refused},
          {"udp.upstream.failed", c.upstream_failed},
          {"udp.idle", c.idle}};
}

}  // namespace utcp::proxy
