// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The packetdrill port: one Stack on one end of a MemoryLink, the POSIX facade over it, and a
// clock (virtual by default). The other end of the link is the "network" packetdrill (or our
// own runner) injects into and sniffs from.
//
// Thread safety: every entry point takes one mutex. A blocking socket call waits on a
// condition variable (releasing the mutex) and is woken whenever the stack's state may have
// changed. In virtual time the thread that changes state (netdev_send, usleep, a socket call)
// then waits until every woken call has either finished or blocked again ("settling"), so a
// run with blocking calls on a second thread is as deterministic as one without.
//
// The virtual clock. The first thread that reads or moves it (gettimeofday, usleep,
// netdev_send, netdev_receive) is its driver: packetdrill's main thread, utcp-drill's runner.
// usleep() moves it; netdev_receive() moves it to the next outbound packet. By default it also
// moves as stock packetdrill expects of a clock (flag driven_clock turns all of this off):
//  - gettimeofday() advances it by 1 us when it follows another gettimeofday() on the same
//    thread with nothing in between, because packetdrill spins on gettimeofday() until an
//    event is due (always before the first event, and for the last 20 us of every wait; its
//    syscall thread too, before a blocking call);
//  - gettimeofday() on another thread first answers when that thread's last socket call
//    returned: packetdrill's blocking calls run on a thread of their own and read the clock
//    right after returning, while the driver may already have moved on;
//  - a blocking call on the driver, or on another thread while the driver has made no clock
//    call for kIdleGrace of real time and sleeps in the kernel (packetdrill waits for its last
//    blocking call that way), moves the clock itself to the next thing that can happen (a
//    timer, the call's own deadline);
//  - netdev_receive() stops early when nothing is left that could send a packet.
//
// Descriptors handed to the caller are real open files of the process (see fd_table.hpp).
#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "fd_table.hpp"
#include "port_options.hpp"
#include "utcp/memory_link.hpp"
#include "utcp/posix.hpp"
#include "utcp/stack.hpp"

namespace utcp::packetdrill {

class Port final : public posix::SocketHost {
 public:
  explicit Port(const PortOptions& options);
  ~Port() override;
  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;

  // Runs one socket call under the lock, then settles blocked callers.
  template <class F>
  auto call(F&& f) {
    std::unique_lock<std::mutex> lock(mu_);
    auto result = f(*sockets_);
    const int saved = errno;
    note_return_locked();
    settle(lock);
    errno = saved;
    return result;
  }
  // The same on the facade descriptor behind the caller's descriptor `fd` (EBADF if none).
  template <class F>
  auto call_on(int fd, F&& f) {
    return call([&](posix::Sockets& s) -> decltype(f(s, 0)) {
      const int inner = fds_.inner_of(fd);
      if (inner < 0) return errno = EBADF, -1;
      return f(s, inner);
    });
  }
  // The calls that create, name or drop descriptors, or take several.
  int socket(int domain, int type, int protocol);
  int accept(int fd, sockaddr* addr, socklen_t* len);
  int close(int fd);
  int poll(pollfd* fds, nfds_t nfds, int timeout);
  // bind() may move the stack to the address it names (see Sockets::replace_stack).
  int bind(int fd, const sockaddr* addr, socklen_t len);

  int netdev_send(const void* buf, size_t count);
  int netdev_receive(void* buf, size_t* count, long long* time_usecs);
  int usleep(int64_t usecs);
  // Microseconds on the gettimeofday() clock, as packetdrill reads it (see above).
  int64_t gettimeofday_usecs();

  // Extensions for our own runner (not part of packetdrill's table).
  // netdev_receive never moves the virtual clock past this point (gettimeofday clock);
  // a negative value restores the default (now + receive_wait_usecs).
  void set_receive_horizon(int64_t time_usecs);
  // When the calling thread's last socket call returned (gettimeofday clock).
  int64_t last_return_usecs();
  // Socket calls now waiting inside the port.
  int blocked_calls();
  // Wakes every blocked call for good (they fail with EINTR); later blocking calls fail too.
  void stop_waiting();
  // Runs f(stack) under the lock, e.g. to read counters.
  template <class F>
  auto with_stack(F&& f) {
    std::lock_guard<std::mutex> lock(mu_);
    return f(*stack_);
  }
  const PortOptions& options() const { return options_; }

  // posix::SocketHost, called with mu_ held by the calling thread.
  Instant now() override;
  bool wait(Instant deadline) override;

 private:
  void process_locked();
  void drain_locked();
  void settle(std::unique_lock<std::mutex>& lock);
  enum class Stop { kAtTime, kOnPacket, kOnPacketOrIdle };
  void advance_locked(std::unique_lock<std::mutex>& lock, Instant until, Stop stop);
  // The next time anything is scheduled (timers, delayed packets, blocked calls' deadlines).
  Instant next_event_locked();
  // Moves the virtual clock to the next thing that can happen, at most to `deadline`
  // (kNever: no limit); false if nothing can.
  bool step_locked(std::unique_lock<std::mutex>& lock, Instant deadline);
  bool wait_locked(std::unique_lock<std::mutex>& lock, Instant deadline);
  // Records a call to the clock; true if the calling thread drives it.
  bool claim_clock_locked();
  // The driver made no clock call since `activity` and sleeps in the kernel (or has exited).
  bool driver_away_locked(uint64_t activity) const;
  void note_return_locked();
  int adopt_locked(posix::Sockets& s, int inner);
  // Rebuilds the stack at `want` (its IPv4 or IPv6 address) if it has another and holds no
  // socket or connection yet: bind() and the first inbound packet name the local address.
  void move_stack_locked(const IpAddr& want);
  int64_t usecs_of(Instant t) const;
  Instant instant_of(int64_t usecs) const;

  struct Outbound {
    std::vector<uint8_t> bytes;
    Instant at;
  };

  PortOptions options_;
  dev::MemoryLink link_;
  std::unique_ptr<Stack> stack_;
  std::unique_ptr<posix::Sockets> sockets_;
  FdTable fds_;
  std::deque<Outbound> outbound_;
  std::vector<uint8_t> rx_buf_;

  std::mutex mu_;
  std::condition_variable changed_;  // blocked calls wait here
  std::condition_variable settled_;  // the settling thread waits here
  uint64_t generation_ = 0;
  int blocked_ = 0;
  int pending_ = 0;  // woken calls that have not finished or re-blocked yet
  bool stopping_ = false;
  std::multiset<Instant> wait_deadlines_;

  Instant virtual_now_;
  int64_t epoch_usecs_;  // gettimeofday value of Instant 0
  int64_t horizon_usecs_ = -1;
  std::map<std::thread::id, int64_t> last_return_;
  std::optional<std::thread::id> driver_;
  pid_t driver_tid_ = 0;
  uint64_t clock_activity_ = 0;                 // calls the driver made to the clock
  std::optional<std::thread::id> last_reader_;  // the last call into the port read the clock
  uint64_t idle_activity_ = ~0ull;  // clock_activity_ when a blocked call last moved the clock
  std::map<std::thread::id, int64_t> unread_return_;  // see gettimeofday_usecs()
};

}  // namespace utcp::packetdrill
