// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Application-level deadlines for the connections a tool holds, independent of sockets and
// clocks (tests drive it with virtual time): an idle timeout (no byte moved either way for
// that long) and a header timeout (an HTTP request head still incomplete that long after it
// began: slowloris). TCP's own keepalive only finds peers that vanished; a peer that is there
// but sends nothing, or one byte a second, is the application's to reap.
//
//   ConnTimeouts t({.idle = 30s, .header = 10s});
//   t.add(s, now);  t.activity(s, now);  t.header_clock(s, waiting_for_head, now);
//   for (auto [s, why] : t.expired(now)) close(s);   // then wake at t.next_deadline()
#include <cstdint>
#include <queue>
#include <unordered_map>
#include <utility>
#include <vector>

#include "utcp/time.hpp"

namespace utcp::tools {

struct TimeoutConfig {
  Duration idle{0};    // 0: off
  Duration header{0};  // 0: off
  bool any() const { return idle > Duration{0} || header > Duration{0}; }
};

enum class TimeoutReason : uint8_t { kIdle, kHeader };

class ConnTimeouts {
 public:
  using Key = uint32_t;  // a SocketId

  explicit ConnTimeouts(const TimeoutConfig& config) : config_(config) {}

  void add(Key k, Instant now);
  void remove(Key k);
  // Bytes moved on k (either way): the idle clock restarts.
  void activity(Key k, Instant now);
  // Whether k is waiting for a request head: the header clock starts when this turns true
  // and stops when it turns false (a later request starts it again).
  void header_clock(Key k, bool waiting, Instant now);

  // The connections whose deadline is at or before `now`, each with its reason; they are
  // removed from the tracker.
  std::vector<std::pair<Key, TimeoutReason>> expired(Instant now);
  // When expired() next has something (kNever if nothing is tracked or all timeouts are off).
  Instant next_deadline();
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Instant last_activity{};
    Instant head_started = kNever;  // kNever: not waiting for a head
    uint64_t generation = 0;        // of the one valid heap item
    Instant queued = kNever;        // that item's time
  };
  struct Item {
    Instant at;
    Key key;
    uint64_t generation;
    bool operator>(const Item& o) const { return at > o.at; }
  };

  Instant deadline(const Entry& e, TimeoutReason* why = nullptr) const;
  // Keeps one heap item per entry at or before its deadline (only earlier deadlines push).
  void schedule(Key k, Entry& e);
  void drop_stale();

  TimeoutConfig config_;
  std::unordered_map<Key, Entry> entries_;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> heap_;
};

}  // namespace utcp::tools
