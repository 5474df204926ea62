// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Forwarding (issue 13): the UDP flows a Stack made for datagrams to forwarded destinations,
// each a connected UDP socket (local: the original destination). This keeps which are new
// (not yet handed to the application) and when each was last used, so an idle flow can be
// closed after StackConfig::udp_flow_idle_timeout. Sans-IO.
#include <deque>
#include <functional>
#include <optional>
#include <queue>
#include <unordered_map>
#include <utility>
#include <vector>

#include "utcp/stack.hpp"
#include "utcp/time.hpp"

namespace utcp::stack {

class UdpFlows {
 public:
  explicit UdpFlows(Duration idle_timeout) : idle_(idle_timeout) {}

  void add(SocketId s, Instant now) {
    last_[s] = now;
    fresh_.push_back(s);
    deadlines_.emplace(now + idle_, s);
  }
  bool contains(SocketId s) const { return last_.count(s) != 0; }
  void touch(SocketId s, Instant now) {
    if (auto it = last_.find(s); it != last_.end()) it->second = now;
  }
  void erase(SocketId s) { last_.erase(s); }  // its heap entries are skipped when met
  size_t size() const { return last_.size(); }

  // The oldest flow not yet handed out (and still open).
  std::optional<SocketId> next_fresh() {
    while (!fresh_.empty()) {
      const SocketId s = fresh_.front();
      fresh_.pop_front();
      if (contains(s)) return s;
    }
    return std::nullopt;
  }

  // A flow idle for the whole timeout, removed; nullopt when none is due. An entry whose flow
  // was used since it was scheduled goes back with the deadline of its last use.
  std::optional<SocketId> pop_idle(Instant now) {
    while (!deadlines_.empty() && deadlines_.top().first <= now) {
      const SocketId s = deadlines_.top().second;
      deadlines_.pop();
      auto it = last_.find(s);
      if (it == last_.end()) continue;
      if (it->second + idle_ <= now) {
        last_.erase(it);
        return s;
      }
      deadlines_.emplace(it->second + idle_, s);
    }
    return std::nullopt;
  }
  Instant next_deadline() const { return deadlines_.empty() ? kNever : deadlines_.top().first; }

 private:
  using Entry = std::pair<Instant, SocketId>;
  Duration idle_;
  std::unordered_map<SocketId, Instant> last_;
  std::deque<SocketId> fresh_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> deadlines_;
};

}  // namespace utcp::stack
