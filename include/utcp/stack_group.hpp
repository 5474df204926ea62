// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// utcp::StackGroup runs one Stack per TUN queue, each on a thread of its own, shared-nothing:
// a multi-queue TUN device (IFF_MULTI_QUEUE) gives every queue its own descriptor, the
// kernel spreads the flows it sends over the queues, and each queue's Stack owns the
// connections that arrive on it. Every Stack has the same address, so a server opens its
// listener on every Stack (the setup callback runs once per thread):
//
//   utcp::StackGroup group(tun_options, stack_config, 2);
//   group.start([](size_t, utcp::Stack& stack, utcp::EventLoop& loop) { ...listen... });
//   ...
//   group.stop();
//   group.join();
//
// Steering: which queue (so which Stack) gets each packet the kernel sends.
//  - Steering::kPorts (the default): a small eBPF program on the device (dev::PortSteering)
//    steers by port. Stack k draws its ephemeral ports from its own share of
//    config.ephemeral_ports, so replies to its active opens always come back to it; a flow
//    to any other port (a listener) goes by the peer's port modulo the number of queues.
//    Needs CAP_BPF/CAP_SYS_ADMIN; when the kernel refuses, the group falls back to:
//  - Steering::kKernelFlows: the TUN driver's own flow table ("automq"): a flow goes to the
//    queue that last wrote a packet of it, any other flow by a hash of its addresses and
//    ports. Passive opens are safe (the SYN's queue writes the reply). Active opens are not:
//    measured on Linux 6.18, the kernel's SYN-ACK goes out inside the write() of the SYN,
//    before the driver records the flow, so it follows the hash; about half land on another
//    queue, whose Stack answers with a reset, and that reset re-records the flow for the
//    wrong queue. The driver also forgets a flow 3 s after the user side last wrote to it.
// An active open on a group should leave the local port to the Stack (connect() with port 0).
//
// One Stack and its EventLoop belong to their thread once start() ran: touch them from
// elsewhere only through EventLoop::post() and stop().
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "utcp/event_loop.hpp"
#include "utcp/stack.hpp"

namespace utcp {

namespace dev {
struct TunOptions;
class TunDevice;
}  // namespace dev

enum class Steering { kPorts, kKernelFlows };

class StackGroup {
 public:
  // Runs on a member's own thread.
  using Callback = std::function<void(size_t index, Stack& stack, EventLoop& loop)>;

  struct Member {
    Stack* stack = nullptr;
    EventLoop* loop = nullptr;  // built on `stack` and its device
  };

  // Opens `tun` with `threads` queues (tun.queues is overridden) and builds a Stack with
  // `config` (ephemeral ports: queue i's share with kPorts) and an EventLoop on each; all are
  // owned. Throws std::system_error (TUN, epoll) or std::invalid_argument (threads 0).
  StackGroup(const dev::TunOptions& tun, const StackConfig& config, size_t threads,
             Steering steering = Steering::kPorts);
  // Runs stacks the caller built and owns (e.g. with device wrappers in between); they must
  // outlive the group.
  explicit StackGroup(std::vector<Member> members);
  // Stops and joins the threads (exceptions they threw are dropped; call join() to see them).
  ~StackGroup();
  StackGroup(const StackGroup&) = delete;
  StackGroup& operator=(const StackGroup&) = delete;

  size_t size() const { return members_.size(); }
  // The steering in effect (kPorts may have fallen back to kKernelFlows).
  Steering steering() const { return steering_; }
  Stack& stack(size_t i) { return *members_.at(i).stack; }
  EventLoop& loop(size_t i) { return *members_.at(i).loop; }
  // The TUN queue of member i, or nullptr for a group of caller-built stacks.
  dev::TunDevice* device(size_t i);

  // Starts one thread per member: setup(i, stack, loop), then loop.run() until stop(), then
  // teardown(i, stack, loop) if given (the place for a graceful close that runs the loop a
  // little longer). An exception from a callback stops the whole group; join() rethrows it.
  void start(Callback setup, Callback teardown = {});
  // Thread-safe: every loop returns from run() after its current wakeup.
  void stop();
  // Waits for every thread; rethrows the first exception one of them threw.
  void join();

 private:
  void run_member(size_t i);

  Steering steering_ = Steering::kKernelFlows;
  std::vector<std::unique_ptr<dev::TunDevice>> devices_;
  std::vector<std::unique_ptr<Stack>> stacks_;
  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::vector<Member> members_;
  Callback setup_;
  Callback teardown_;
  std::vector<std::thread> threads_;
  std::vector<std::exception_ptr> errors_;  // one per member, written by its own thread
};

}  // namespace utcp
