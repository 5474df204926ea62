// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The blocking facade's shared state (utcp/blocking.hpp): the Interface's Stack, its loop
// thread, and the calls that run on it and wait. Used by blocking.cpp (TCP) and
// blocking_udp.cpp (UDP).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "utcp/blocking.hpp"
#include "utcp/event_loop.hpp"

namespace utcp {

namespace detail {

inline std::error_code canceled_error() {
  return std::make_error_code(std::errc::operation_canceled);
}
inline std::error_code not_connected_error() {
  return std::make_error_code(std::errc::not_connected);
}

// Our FIN has been acknowledged (or the connection is gone): nothing of ours is in flight.
inline bool fin_acked(tcp::State s) {
  return s == tcp::State::kFinWait2 || s == tcp::State::kTimeWait || s == tcp::State::kClosed;
}

// A blocked caller re-checks at least this often even without a readiness callback, so a
// change the stack reports late (or not at all) costs latency, never a hang.
inline constexpr auto kRecheckInterval = std::chrono::milliseconds(200);

struct InterfaceCore {
  std::unique_ptr<dev::Device> owned_device;
  Duration close_timeout{};
  std::unique_ptr<Stack> stack;
  std::unique_ptr<EventLoop> loop;
  std::thread thread;

  std::mutex mu;
  std::condition_variable cv;
  bool closed = false;                                // guarded by mu
  std::unordered_map<SocketId, uint64_t> generation;  // guarded by mu; bumped on readiness

  // Touched only on the loop thread: what ~Interface must close.
  std::unordered_set<SocketId> streams;
  std::unordered_set<SocketId> listeners;
  std::unordered_set<SocketId> udp_sockets;  // closed at once: UDP has nothing to finish

  uint64_t generation_of(SocketId s) {
    std::lock_guard lock(mu);
    return generation[s];
  }

  void on_readiness(SocketId s) {
    {
      std::lock_guard lock(mu);
      ++generation[s];
    }
    cv.notify_all();
  }

  // Runs f(stack) on the loop thread and returns its result; nullopt once the interface
  // is closed (or closes before f runs).
  template <class F>
  auto call(F f) -> std::optional<std::invoke_result_t<F&, Stack&>> {
    using R = std::invoke_result_t<F&, Stack&>;
    auto promise = std::make_shared<std::promise<R>>();
    std::future<R> future = promise->get_future();
    {
      std::lock_guard lock(mu);
      if (closed) return std::nullopt;
      loop->post([this, promise, f]() mutable { promise->set_value(f(*stack)); });
    }
    try {
      return future.get();
    } catch (const std::future_error&) {
      return std::nullopt;  // the loop was torn down with the task still queued
    }
  }

  // Runs open(stack, ec) on the loop thread and records the socket it creates in `owned`
  // (streams or listeners: what ~Interface closes). kNoSocket with ec set when open fails
  // or the interface is closed.
  template <class Open>
  SocketId open_socket(std::unordered_set<SocketId>& owned, std::error_code& ec, Open open) {
    auto r = call([&](Stack& st) {
      std::error_code e;
      const SocketId s = open(st, e);
      if (!e) owned.insert(s);
      return std::make_pair(s, e);
    });
    if (!r) {
      ec = canceled_error();
      return kNoSocket;
    }
    ec = r->second;
    return ec ? kNoSocket : r->first;
  }

  // Fire and forget; dropped once the interface is closed (its shutdown handles it).
  void post(std::function<void()> task) {
    std::lock_guard lock(mu);
    if (!closed) loop->post(std::move(task));
  }

  // Sleeps until socket s's readiness generation moves past `seen`, the interface closes,
  // or `deadline` (CLOCK_MONOTONIC) passes. False when the interface is closed.
  bool wait_change(SocketId s, uint64_t seen, Instant deadline = kNever) {
    std::unique_lock lock(mu);
    auto until = std::chrono::steady_clock::now() + kRecheckInterval;
    if (deadline != kNever) {
      const auto left = std::chrono::microseconds(
          std::max<int64_t>(0, to_us(deadline) - to_us(EventLoop::clock_now())));
      until = std::min(until, std::chrono::steady_clock::now() + left);
    }
    cv.wait_until(lock, until, [&] { return closed || generation[s] != seen; });
    return !closed;
  }

  // Repeats op(stack, ec) on the loop thread until it stops reporting
  // operation_would_block, sleeping on socket s's readiness in between; gives up with
  // timed_out at `deadline` (CLOCK_MONOTONIC).
  template <class T, class Op>
  T blocking(SocketId s, std::error_code& ec, Op op, Instant deadline = kNever) {
    struct Outcome {
      T value{};
      std::error_code ec;
      uint64_t seen = 0;
    };
    for (;;) {
      auto r = call([&](Stack& st) {
        Outcome o;
        o.value = op(st, o.ec);
        o.seen = generation_of(s);  // after op: a later change is guaranteed to bump it
        return o;
      });
      if (!r) {
        ec = canceled_error();
        return T{};
      }
      if (r->ec != std::errc::operation_would_block) {
        ec = r->ec;
        return r->value;
      }
      if (deadline != kNever && EventLoop::clock_now() >= deadline) {
        ec = std::make_error_code(std::errc::timed_out);
        return T{};
      }
      if (!wait_change(s, r->seen, deadline)) {
        ec = canceled_error();
        return T{};
      }
    }
  }

  void forget(SocketId s) {
    std::lock_guard lock(mu);
    generation.erase(s);
  }

  // Loop thread, after run() returned: FIN on every open stream, a bounded wait for the
  // acknowledgements, RST for the rest (so the destructor never hangs on a silent peer).
  void shutdown_connections() {
    loop->run_once(EventLoop::clock_now());  // tasks queued before `closed` was set
    for (SocketId l : listeners) stack->close(l);
    for (SocketId u : udp_sockets) stack->close(u);
    udp_sockets.clear();
    for (SocketId s : streams) {
      std::error_code ec;
      stack->shutdown_write(s, ec);
    }
    const auto all_acked = [this] {
      return std::all_of(streams.begin(), streams.end(), [this](SocketId s) {
        return fin_acked(stack->state(s)) || static_cast<bool>(stack->error(s));
      });
    };
    loop->run_until(all_acked, EventLoop::clock_now() + close_timeout);
    for (SocketId s : streams) {
      if (fin_acked(stack->state(s)) || stack->error(s)) {
        stack->close(s);
      } else {
        stack->abort(s);
      }
    }
    streams.clear();
    listeners.clear();
    loop->run_once(EventLoop::clock_now());  // sends the RSTs
  }
};

}  // namespace detail

}  // namespace utcp
