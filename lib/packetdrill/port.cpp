// SPDX-License-Identifier: BSD-2-Clause
#include "port.hpp"

#include <netinet/in.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <fstream>
#include <string>

namespace utcp::packetdrill {

namespace {
// Virtual time starts one second after its epoch, a fixed wall-clock date, so runs repeat.
constexpr int64_t kVirtualEpochUsecs = 1'700'000'000'000'000;
constexpr Instant kVirtualStart = instant_from_us(1'000'000);
// How long (real time) a blocked call waits for the driver before it moves the clock itself.
// packetdrill gives its last blocking call 1 s of real time to finish.
constexpr auto kIdleGrace = std::chrono::milliseconds(200);

int64_t steady_usecs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
// Whether a thread of this process is asleep in the kernel (or gone), from /proc: a driver
// that is merely waiting for a CPU is not "away".
bool thread_asleep(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return true;
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return true;
  const char state = stat[paren + 2];
  return state != 'R';
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

bool Port::claim_clock_locked() {
  last_reader_.reset();
  const auto self = std::this_thread::get_id();
  if (!driver_) {
    driver_ = self;
    driver_tid_ = static_cast<pid_t>(syscall(SYS_gettid));
  }
  if (*driver_ != self) return false;
  ++clock_activity_;
  unread_return_.erase(self);
  return true;
}

void Port::note_return_locked() {
  last_reader_.reset();
  const auto self = std::this_thread::get_id();
  const int64_t at = usecs_of(now());
  last_return_[self] = at;
  if (options_.auto_clock() && driver_ && *driver_ != self) unread_return_[self] = at;
}

int64_t Port::gettimeofday_usecs() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!options_.auto_clock()) return usecs_of(now());
  const auto self = std::this_thread::get_id();
  const bool repeated = last_reader_ == self;
  if (!claim_clock_locked()) {
    // packetdrill's syscall thread reads the clock right after a blocking call returns.
    auto it = unread_return_.find(self);
    if (it != unread_return_.end()) {
      const int64_t at = it->second;
      unread_return_.erase(it);
      last_reader_ = self;
      return at;
    }
  }
  // packetdrill spins on gettimeofday() until an event is due (its syscall thread too, before
  // a blocking call): a read that follows a read by the same thread, with nothing else in
  // between, moves time on by 1 us. A single read never moves it, so reading the clock adds
  // as little drift as possible to the script's timeline.
  if (repeated) advance_locked(lock, virtual_now_ + Duration(1), Stop::kAtTime);
  last_reader_ = self;
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
  const bool ok = wait_locked(lock, deadline);
  lock.release();
  return ok;
}

bool Port::wait_locked(std::unique_lock<std::mutex>& lock, Instant deadline) {
  if (stopping_) return false;
  if (options_.auto_clock()) {
    // Nobody else moves the clock for a call blocked on the driver; if nothing can happen,
    // the call fails (EINTR) rather than hang.
    if (driver_ == std::this_thread::get_id()) return step_locked(lock, deadline);
    // The driver has not come back since a blocked call moved the clock: keep moving it.
    if (driver_away_locked(idle_activity_) && step_locked(lock, deadline)) return !stopping_;
  }
  ++blocked_;
  const auto it = wait_deadlines_.insert(deadline);
  const uint64_t seen = generation_;
  const auto woken = [&] { return generation_ != seen || stopping_; };
  bool idle = false;
  if (options_.real_time) {
    // Nobody else runs the stack's timers in real time: wake at its next deadline too.
    const Instant until = std::min(deadline, stack_->next_deadline());
    if (until == kNever) {
      changed_.wait(lock, woken);
    } else {
      const auto steady_deadline =
          std::chrono::steady_clock::time_point(std::chrono::microseconds(to_us(until)));
      changed_.wait_until(lock, steady_deadline, woken);
    }
    process_locked();
  } else if (options_.driven_clock) {
    changed_.wait(lock, woken);
  } else {
    for (;;) {
      const uint64_t activity = clock_activity_;
      if (changed_.wait_for(lock, kIdleGrace, woken)) break;
      if (driver_away_locked(activity)) {
        idle = true;
        break;
      }
    }
  }
  wait_deadlines_.erase(it);
  --blocked_;
  if (pending_ > 0) --pending_;
  settled_.notify_all();
  if (stopping_) return false;
  if (idle) {
    idle_activity_ = clock_activity_;
    step_locked(lock, deadline);
  }
  return !stopping_;
}

bool Port::driver_away_locked(uint64_t activity) const {
  return clock_activity_ == activity && (driver_tid_ == 0 || thread_asleep(driver_tid_));
}

Instant Port::next_event_locked() {
  Instant next = std::min(stack_->next_deadline(), link_.a().next_deadline());
  if (!wait_deadlines_.empty()) next = std::min(next, *wait_deadlines_.begin());
  return next;
}

bool Port::step_locked(std::unique_lock<std::mutex>& lock, Instant deadline) {
  Instant next = std::min(next_event_locked(), deadline);
  if (next == kNever) return false;
  // A deadline already due would not move the clock: step one microsecond.
  virtual_now_ = std::max(next, virtual_now_ + Duration(1));
  process_locked();
  settle(lock);
  return true;
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

int Port::adopt_locked(posix::Sockets& s, int inner) {
  if (inner < 0) return inner;
  const FdTable::Reserved r = fds_.reserve(inner);
  if (r.stale >= 0) s.close(r.stale);  // its descriptor was closed behind our back
  if (r.fd < 0) {
    const int saved = errno;
    s.close(inner);
    errno = saved;
  }
  return r.fd;
}

int Port::socket(int domain, int type, int protocol) {
  return call([&](posix::Sockets& s) { return adopt_locked(s, s.socket(domain, type, protocol)); });
}

int Port::accept(int fd, sockaddr* addr, socklen_t* len) {
  return call_on(fd, [&](posix::Sockets& s, int inner) {
    return adopt_locked(s, s.accept(inner, addr, len));
  });
}

int Port::close(int fd) {
  return call_on(fd, [&](posix::Sockets& s, int inner) {
    const int r = s.close(inner);
    const int saved = errno;
    fds_.release(fd);
    errno = saved;
    return r;
  });
}

int Port::poll(pollfd* fds, nfds_t nfds, int timeout) {
  return call([&](posix::Sockets& s) {
    if (nfds > 0 && !fds) return errno = EFAULT, -1;
    // The facade sees its own descriptors; one we do not know is invalid (POLLNVAL).
    std::vector<pollfd> inner(fds, fds + nfds);
    for (pollfd& p : inner) {
      if (p.fd < 0) continue;
      const int i = fds_.inner_of(p.fd);
      p.fd = i < 0 ? INT_MAX : i;
    }
    const int r = s.poll(inner.data(), nfds, timeout);
    for (nfds_t i = 0; i < nfds; ++i) fds[i].revents = inner[i].revents;
    return r;
  });
}

int Port::bind(int fd, const sockaddr* addr, socklen_t len) {
  return call_on(fd, [&](posix::Sockets& s, int inner) {
    std::optional<IpAddr> want;
    if (addr && len >= static_cast<socklen_t>(sizeof(sockaddr_in)) && addr->sa_family == AF_INET) {
      sockaddr_in in;
      std::memcpy(&in, addr, sizeof in);
      want = Ipv4Addr(ntohl(in.sin_addr.s_addr));
    } else if (addr && len >= static_cast<socklen_t>(sizeof(sockaddr_in6)) &&
               addr->sa_family == AF_INET6) {
      // packetdrill's ipv6 mode, and ipv4-mapped-ipv6 (::ffff:a.b.c.d: the IPv4 address).
      sockaddr_in6 in6;
      std::memcpy(&in6, addr, sizeof in6);
      const Ipv6Addr a = Ipv6Addr::from_bytes(in6.sin6_addr.s6_addr);
      want = a.is_v4_mapped() ? IpAddr(*a.to_v4_mapped()) : IpAddr(a);
    }
    // The local address comes from bind(): rebuild the stack there while it holds nothing.
    if (want) move_stack_locked(*want);
    return s.bind(inner, addr, len);
  });
}

void Port::move_stack_locked(const IpAddr& want) {
  const StackConfig& cfg = stack_->config();
  const bool other = !want.is_unspecified() &&
                     (want.is_v4() ? want.v4() != cfg.address : want.v6() != cfg.address6);
  if (!other || sockets_->holds_stack_sockets() || stack_->connection_count() != 0) return;
  if (want.is_v4()) {
    options_.stack.address = want.v4();
  } else {
    options_.stack.address6 = want.v6();
  }
  auto fresh = std::make_unique<Stack>(link_.a(), options_.stack);
  sockets_->replace_stack(*fresh);
  stack_ = std::move(fresh);
  stack_->process(now());
}

void Port::advance_locked(std::unique_lock<std::mutex>& lock, Instant until, Stop stop) {
  for (;;) {
    process_locked();
    settle(lock);
    if (stop != Stop::kAtTime && !outbound_.empty()) return;
    if (virtual_now_ >= until) return;
    const Instant due = next_event_locked();
    // Nothing left that could ever send a packet: do not spin the clock to `until`.
    if (stop == Stop::kOnPacketOrIdle && due == kNever) return;
    Instant next = std::min(due, until);
    // A deadline already due would not move the clock: step one microsecond.
    if (next <= virtual_now_) next = std::min(until, virtual_now_ + Duration(1));
    virtual_now_ = next;
  }
}

int Port::netdev_send(const void* buf, size_t count) {
  std::unique_lock<std::mutex> lock(mu_);
  claim_clock_locked();
  if (!buf || count == 0) return errno = EINVAL, -1;
  // A packet the device could not carry is an error the caller must see, not a silent drop.
  if (count > options_.mtu) return errno = EMSGSIZE, -1;
  const std::span<const uint8_t> pkt(static_cast<const uint8_t*>(buf), count);
  // A script that names no local address (no bind(), the first event a packet) still reaches
  // the stack: packetdrill's IPv6 mode picks a fresh address in its prefix for every run.
  if (pkt[0] >> 4 == 6 && count >= 40) {
    move_stack_locked(Ipv6Addr::from_bytes(pkt.data() + 24));
  } else if (pkt[0] >> 4 == 4 && count >= 20) {
    move_stack_locked(Ipv4Addr(pkt[16], pkt[17], pkt[18], pkt[19]));
  }
  if (!link_.b().transmit_one(pkt, now())) return errno = ENOBUFS, -1;
  process_locked();
  settle(lock);
  return 0;
}

int Port::netdev_receive(void* buf, size_t* count, long long* time_usecs) {
  std::unique_lock<std::mutex> lock(mu_);
  claim_clock_locked();
  if (!buf || !count) return errno = EINVAL, -1;
  if (outbound_.empty()) {
    if (options_.real_time) {
      const int64_t end = steady_usecs() + options_.receive_wait();
      while (outbound_.empty() && steady_usecs() < end) {
        process_locked();
        if (!outbound_.empty()) break;
        const Instant wake = std::min(stack_->next_deadline(),
                                      instant_from_us(std::min(end, steady_usecs() + 1000)));
        changed_.wait_until(
            lock, std::chrono::steady_clock::time_point(std::chrono::microseconds(to_us(wake))));
      }
    } else {
      Instant limit = virtual_now_ + Duration(options_.receive_wait());
      if (horizon_usecs_ >= 0) limit = std::max(virtual_now_, instant_of(horizon_usecs_));
      advance_locked(lock, limit, options_.auto_clock() ? Stop::kOnPacketOrIdle : Stop::kOnPacket);
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
  // packetdrill truncates long waits to 32 bits, which can leave usleep(0) between two reads
  // of the clock: that must not stop the reads from moving time on.
  if (usecs == 0 && options_.auto_clock()) return 0;
  claim_clock_locked();
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
  advance_locked(lock, virtual_now_ + Duration(usecs), Stop::kAtTime);
  return 0;
}

}  // namespace utcp::packetdrill
