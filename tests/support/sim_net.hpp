// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Two Stacks joined by an in-memory link, optionally through fault injectors, on a virtual
// clock. step() advances time to the earliest deadline and lets both stacks work; tests
// drive their applications between steps. Deterministic for a given seed.
#include <algorithm>
#include <memory>
#include <optional>

#include "dev/fault_injector.hpp"
#include "support/stretch_ack_device.hpp"
#include "utcp/memory_link.hpp"
#include "utcp/stack.hpp"

namespace utcp::test {

struct SimNetConfig {
  dev::MemoryLinkConfig link;
  std::optional<dev::FaultInjectorConfig> faults_a;  // wraps A's end (tx = A's packets)
  std::optional<dev::FaultInjectorConfig> faults_b;
  // B's pure ACKs stretched to one per `b_ack_every` (a GRO/LRO receiver), each held at most
  // `b_ack_hold`; 0: B's ACKs as its stack sends them.
  unsigned b_ack_every = 0;
  Duration b_ack_hold{2'000};
  StackConfig a;
  StackConfig b;
  SimNetConfig() {
    a.address = wire::Ipv4Addr(10, 77, 0, 2);
    b.address = wire::Ipv4Addr(10, 77, 0, 1);
    a.address6 = wire::Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 2);  // dual stack: fd77::2 and ::1
    b.address6 = wire::Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 1);
    a.secret = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    b.secret = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  }
};

class SimNet {
 public:
  explicit SimNet(const SimNetConfig& cfg = {})
      : link_(cfg.link),
        fa_(cfg.faults_a ? std::make_unique<dev::FaultInjector>(link_.a(), *cfg.faults_a)
                         : nullptr),
        fb_(cfg.faults_b ? std::make_unique<dev::FaultInjector>(link_.b(), *cfg.faults_b)
                         : nullptr),
        sb_(cfg.b_ack_every > 0 ? std::make_unique<test_support::StretchAckDevice>(
                                      fb_ ? static_cast<dev::Device&>(*fb_) : link_.b(),
                                      cfg.b_ack_every, cfg.b_ack_hold)
                                : nullptr),
        a_(fa_ ? static_cast<dev::Device&>(*fa_) : link_.a(), cfg.a),
        b_(sb_   ? static_cast<dev::Device&>(*sb_)
           : fb_ ? static_cast<dev::Device&>(*fb_)
                 : link_.b(),
           cfg.b) {}

  Stack& a() { return a_; }
  Stack& b() { return b_; }
  Instant now() const { return now_; }
  dev::MemoryLink& link() { return link_; }
  dev::FaultInjector* faults_a() { return fa_.get(); }
  dev::FaultInjector* faults_b() { return fb_.get(); }
  test_support::StretchAckDevice* stretch_acks_b() { return sb_.get(); }

  // Lets both stacks run at the current time, then moves the clock to the next deadline
  // (never past `limit`). Returns false when nothing at all is pending.
  bool step(Instant limit = kNever) {
    a_.process(now_);
    b_.process(now_);
    Instant next = std::min(a_.next_deadline(), b_.next_deadline());
    if (next == kNever) {
      if (limit == kNever) return false;
      next = limit;
    }
    if (next > limit) next = limit;
    if (next > now_) now_ = next;
    return true;
  }

  // Steps until pred() holds or virtual time passes `budget`; returns pred().
  template <class Pred>
  bool run_until(Pred pred, Duration budget) {
    const Instant limit = now_ + budget;
    uint64_t stuck = 0;  // steps without the clock moving: a livelock guard
    while (!pred()) {
      if (now_ >= limit) return pred();
      Instant before = now_;
      if (!step(limit) && now_ >= limit) return pred();
      stuck = now_ == before ? stuck + 1 : 0;
      if (stuck > 1'000'000) return pred();
    }
    return true;
  }

  void advance(Duration d) {
    const Instant limit = now_ + d;
    while (now_ < limit) step(limit);
    a_.process(now_);
    b_.process(now_);
  }

 private:
  Instant now_{};
  dev::MemoryLink link_;
  std::unique_ptr<dev::FaultInjector> fa_;
  std::unique_ptr<dev::FaultInjector> fb_;
  std::unique_ptr<test_support::StretchAckDevice> sb_;
  Stack a_;
  Stack b_;
};

// A connection from A to a listener on B: {client on A, server on B, the listener}.
struct SimPair {
  SocketId client = kNoSocket;
  SocketId server = kNoSocket;
  SocketId listener = kNoSocket;
};

// Runs two stacks on one virtual clock until pred() holds or `budget` passes: both process at
// `now`, then the clock moves to the earlier deadline (at least 1 us, never past the budget).
// For test nets that wrap the link's ends in devices of their own.
template <class Pred>
bool run_pair_until(Stack& a, Stack& b, Instant& now, Pred pred, Duration budget) {
  const Instant limit = now + budget;
  for (;;) {
    a.process(now);
    b.process(now);
    if (pred()) return true;
    if (now >= limit) return false;
    now = std::clamp(std::min(a.next_deadline(), b.next_deadline()), now + Duration(1), limit);
  }
}

// Runs `net` (a SimNet, or any net with a(), b() and run_until()) until B has accepted a
// connection on `listener` and A's `client` is connected. Returns B's socket, or kNoSocket
// if that did not happen within `budget`.
template <class Net>
SocketId accept_connected(Net& net, SocketId listener, SocketId client,
                          Duration budget = std::chrono::seconds(120)) {
  std::error_code ec;
  SocketId server = kNoSocket;
  const bool done = net.run_until(
      [&] {
        if (server == kNoSocket) server = net.b().accept(listener, ec);
        return server != kNoSocket && (net.a().readiness(client) & ready::kConnected);
      },
      budget);
  return done ? server : kNoSocket;
}

// A connection from A (with `options`) to a listener on B's `port`, accepted: {client on A,
// server on B, the listener}. server is kNoSocket if the handshake did not finish within
// `budget` (and client or listener too if the OPEN itself failed).
template <class Net>
SimPair establish(Net& net, uint16_t port, const ConnectOptions& options,
                  Duration budget = std::chrono::seconds(120)) {
  std::error_code ec;
  SimPair p;
  p.listener = net.b().listen(port, ec);
  if (ec) return p;
  p.client = net.a().connect(net.b().config().address, port, options, ec);
  if (ec) return p;
  p.server = accept_connected(net, p.listener, p.client, budget);
  return p;
}

template <class Net>
SimPair establish(Net& net, uint16_t port, Duration budget = std::chrono::seconds(120)) {
  return establish(net, port, ConnectOptions{}, budget);
}

}  // namespace utcp::test
