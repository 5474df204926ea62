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
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

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
    last_return_[std::this_thread::get_id()] = usecs_of(now());
    settle(lock);
    errno = saved;
    return result;
  }
  // bind() may move the stack to the address it names (see Sockets::replace_stack).
  int bind(int fd, const sockaddr* addr, socklen_t len);

  int netdev_send(const void* buf, size_t count);
  int netdev_receive(void* buf, size_t* count, long long* time_usecs);
  int usleep(int64_t usecs);
  // Microseconds on the gettimeofday() clock.
  int64_t now_usecs();

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
  void advance_locked(std::unique_lock<std::mutex>& lock, Instant until, bool stop_on_packet);
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
};

}  // namespace utcp::packetdrill
