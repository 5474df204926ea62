// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Two Device endpoints joined in memory: two stacks in one process, no TUN, no root. The
// simulation tests drive both ends from one thread with a virtual clock; an application can
// give each end its own EventLoop on its own thread (each end has an fd, below).
//
// Each direction is a bounded FIFO; a packet arriving at a full queue is dropped and
// counted, like a router's tail drop. An optional fixed one-way delay uses the caller's
// time: a packet sent at t is receivable from t + delay (next_deadline() tells when).
//
// fd(): an eventfd, made on first request, that is readable while the end has a packet due,
// so an EventLoop sleeps in epoll exactly as on a TUN descriptor and wakes when the other end
// sends. A link whose fd() nobody asked for makes no system call per packet. The two ends may
// be used from two threads: every call takes the link's lock.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "utcp/device.hpp"
#include "utcp/time.hpp"

namespace utcp::dev {

struct MemoryLinkConfig {
  size_t mtu = 1500;
  size_t queue_packets = 256;  // per direction
  Duration delay{0};           // one way
};

struct MemoryLinkCounters {
  uint64_t sent = 0;             // accepted into the queue
  uint64_t delivered = 0;        // handed to the receiver
  uint64_t dropped_full = 0;     // queue was full
  uint64_t dropped_too_big = 0;  // larger than the MTU
  uint64_t dropped_no_room = 0;  // receiver's slot buffer too small
  uint64_t dropped_down = 0;     // sent while the link was down (set_down)
};

class MemoryLink {
 public:
  explicit MemoryLink(MemoryLinkConfig config = {});
  ~MemoryLink();
  MemoryLink(const MemoryLink&) = delete;
  MemoryLink& operator=(const MemoryLink&) = delete;

  Device& a();
  Device& b();
  // Snapshots, taken under the link's lock (so safe while the ends run on other threads).
  MemoryLinkCounters a_to_b() const;
  MemoryLinkCounters b_to_a() const;

  // While down, every packet either end sends is lost (counted as dropped_down): a cable
  // pulled, for tests of timeouts and retransmission. Thread-safe.
  void set_down(bool down);

 private:
  struct Shared;
  class End;
  std::unique_ptr<Shared> shared_;
  std::unique_ptr<End> a_;
  std::unique_ptr<End> b_;
};

}  // namespace utcp::dev
