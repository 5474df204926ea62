#include "port.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace utcp::packetdrill {

namespace {
// Virtual time starts one second after its epoch, a fixed wall-clock date, so runs repeat.
constexpr int64_t kVirtualEpochUsecs = 1'700'000'000'000'000;
constexpr Instant kVirtualStart = instant_from_us(1'000'000);

int64_t steady_usecs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t wall_usecs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Port::Port(const PortOptions& options)
    : options_(options),
      link_(dev::MemoryLinkConfig{.mtu = options.mtu, .queue_packets = 4096}),
      rx_buf_(65536),
      virtual_now_(kVirtualStart),
      epoch_usecs_(options.real_time ? wall_usecs() - steady_usecs() : kVirtualEpochUsecs) {
  stack_ = std::make_unique<Stack>(link_.a(), options_.stack);
  sockets_ = std::make_unique<posix::Sockets>(*stack_, this);
  stack_->process(now());
}

Port::~Port() {
  stop_waiting();
  // Blocked callers hold no lock once woken; give them a moment to leave before teardown.
  std::unique_lock<std::mutex> lock(mu_);
  settled_.wait(lock, [&] { return blocked_ == 0; });
}

Instant Port::now() {
  if (options_.real_time) return instant_from_us(steady_usecs());
  return virtual_now_;
}

int64_t Port::usecs_of(Instant t) const {
  return epoch_usecs_ + to_us(t);
}
Instant Port::instant_of(int64_t usecs) const {
  return instant_from_us(usecs - epoch_usecs_);
}

int64_t Port::now_usecs() {
  std::lock_guard<std::mutex> lock(mu_);
  return usecs_of(now());
}

void Port::drain_locked() {
  for (;;) {
    dev::PacketSlot slot{rx_buf_};
    if (link_.b().receive(std::span<dev::PacketSlot>(&slot, 1), now()) == 0) return;
    outbound_.push_back(Outbound{{slot.data().begin(), slot.data().end()}, now()});
  }
}

void Port::process_locked() {
  stack_->process(now());
  drain_locked();
}

// Wakes blocked calls and, in virtual time, waits until each has finished or blocked again.
void Port::settle(std::unique_lock<std::mutex>& lock) {
  ++generation_;
  changed_.notify_all();
  if (options_.real_time) return;
  pending_ = blocked_;
  settled_.wait(lock, [&] { return pending_ <= 0 || stopping_; });
}

bool Port::wait(Instant deadline) {
  // Called from inside a facade call: this thread holds mu_ (taken by call()).
  std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
  if (stopping_) {
    lock.release();
    return false;
  }
  ++blocked_;
  const auto it = wait_deadlines_.insert(deadline);
  const uint64_t seen = generation_;
  if (options_.real_time) {
    // Nobody else runs the stack's timers in real time: wake at its next deadline too.
    const Instant until = std::min(deadline, stack_->next_deadline());
    if (until == kNever) {
      changed_.wait(lock, [&] { return generation_ != seen || stopping_; });
    } else {
      const auto steady_deadline =
          std::chrono::steady_clock::time_point(std::chrono::microseconds(to_us(until)));
      changed_.wait_until(lock, steady_deadline, [&] { return generation_ != seen || stopping_; });
    }
    process_locked();
  } else {
    changed_.wait(lock, [&] { return generation_ != seen || stopping_; });
  }
  wait_deadlines_.erase(it);
  --blocked_;
  if (pending_ > 0) --pending_;
  settled_.notify_all();
  const bool ok = !stopping_;
  lock.release();
  return ok;
}

void Port::stop_waiting() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
  changed_.notify_all();
  settled_.notify_all();
}

int64_t Port::last_return_usecs() {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = last_return_.find(std::this_thread::get_id());
  return it == last_return_.end() ? -1 : it->second;
}

int Port::blocked_calls() {
  std::lock_guard<std::mutex> lock(mu_);
  return blocked_;
}

void Port::set_receive_horizon(int64_t time_usecs) {
  std::lock_guard<std::mutex> lock(mu_);
  horizon_usecs_ = time_usecs;
}

int Port::bind(int fd, const sockaddr* addr, socklen_t len) {
  std::unique_lock<std::mutex> lock(mu_);
  if (addr && len >= static_cast<socklen_t>(sizeof(sockaddr_in)) && addr->sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, addr, sizeof in);
    const Ipv4Addr want(ntohl(in.sin_addr.s_addr));
    // The local address comes from bind(): rebuild the stack there while it holds nothing.
    if (want != Ipv4Addr() && want != stack_->config().address &&
        !sockets_->holds_stack_sockets() && stack_->connection_count() == 0) {
      options_.stack.address = want;
      auto fresh = std::make_unique<Stack>(link_.a(), options_.stack);
      sockets_->replace_stack(*fresh);
      stack_ = std::move(fresh);
      stack_->process(now());
    }
  }
  const int r = sockets_->bind(fd, addr, len);
  const int saved = errno;
  last_return_[std::this_thread::get_id()] = usecs_of(now());
  settle(lock);
  errno = saved;
  return r;
}

void Port::advance_locked(std::unique_lock<std::mutex>& lock, Instant until, bool stop_on_packet) {
  for (;;) {
    process_locked();
    settle(lock);
    if (stop_on_packet && !outbound_.empty()) return;
    if (virtual_now_ >= until) return;
    Instant next = std::min({stack_->next_deadline(), link_.a().next_deadline(), until});
    if (!wait_deadlines_.empty()) next = std::min(next, *wait_deadlines_.begin());
    // A deadline already due would not move the clock: step one microsecond.
    if (next <= virtual_now_) next = std::min(until, virtual_now_ + Duration(1));
    virtual_now_ = next;
  }
}

int Port::netdev_send(const void* buf, size_t count) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!buf || count == 0) return errno = EINVAL, -1;
  const std::span<const uint8_t> pkt(static_cast<const uint8_t*>(buf), count);
  if (!link_.b().transmit_one(pkt, now())) return errno = ENOBUFS, -1;
  process_locked();
  settle(lock);
  return 0;
}

int Port::netdev_receive(void* buf, size_t* count, long long* time_usecs) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!buf || !count) return errno = EINVAL, -1;
  if (outbound_.empty()) {
    if (options_.real_time) {
      const int64_t end = steady_usecs() + options_.receive_wait_usecs;
      while (outbound_.empty() && steady_usecs() < end) {
        process_locked();
        if (!outbound_.empty()) break;
        const Instant wake = std::min(stack_->next_deadline(),
                                      instant_from_us(std::min(end, steady_usecs() + 1000)));
        changed_.wait_until(
            lock, std::chrono::steady_clock::time_point(std::chrono::microseconds(to_us(wake))));
      }
    } else {
      Instant limit = virtual_now_ + Duration(options_.receive_wait_usecs);
      if (horizon_usecs_ >= 0) limit = std::max(virtual_now_, instant_of(horizon_usecs_));
      advance_locked(lock, limit, true);
    }
  }
  if (outbound_.empty()) {
    *count = 0;
    if (time_usecs) *time_usecs = usecs_of(now());
    return 0;
  }
  Outbound& p = outbound_.front();
  if (p.bytes.size() > *count) return errno = EMSGSIZE, -1;
  std::memcpy(buf, p.bytes.data(), p.bytes.size());
  *count = p.bytes.size();
  if (time_usecs) *time_usecs = usecs_of(p.at);
  outbound_.pop_front();
  return 0;
}

int Port::usleep(int64_t usecs) {
  std::unique_lock<std::mutex> lock(mu_);
  if (usecs < 0) return errno = EINVAL, -1;
  if (options_.real_time) {
    const int64_t end = steady_usecs() + usecs;
    while (steady_usecs() < end) {
      process_locked();
      const Instant wake = std::min(stack_->next_deadline(), instant_from_us(end));
      changed_.wait_until(
          lock, std::chrono::steady_clock::time_point(std::chrono::microseconds(to_us(wake))));
    }
    process_locked();
    return 0;
  }
  advance_locked(lock, virtual_now_ + Duration(usecs), false);
  return 0;
}

}  // namespace utcp::packetdrill
