// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Forwarding (issue 13): the UDP flows a Stack made for datagrams to forwarded destinations,
// each a connected UDP socket (local: the original destination). This keeps which are new
// (not yet handed to the application) and when each was last used, so an idle flow can be
// closed after StackConfig::udp_flow_idle_timeout; with endpoint-independent mapping (RFC 4787
// §4.1 REQ-1) also which flow each client endpoint has. Sans-IO.
#include <deque>
#include <functional>
#include <optional>
#include <queue>
#include <unordered_map>
#include <utility>
#include <vector>

#include "stack/four_tuple.hpp"
#include "udp/udp_endpoint.hpp"
#include "utcp/stack.hpp"
#include "utcp/time.hpp"

namespace utcp::stack {

class UdpFlows {
 public:
  // hash_seed keys the client map (peers choose their addresses and ports).
  UdpFlows(Duration idle_timeout, uint64_t hash_seed)
      : idle_(idle_timeout), by_client_(16, FourTupleHash(hash_seed)) {}

  // `client`: the flow is the endpoint-independent one of that client endpoint.
  void add(SocketId s, Instant now, const udp::UdpEndpoint* client = nullptr) {
    Flow& f = last_[s];
    f.last = now;
    f.independent = client != nullptr;
    if (client) {
      f.client = *client;
      by_client_[key(*client)] = s;
    }
    fresh_.push_back(s);
    deadlines_.emplace(now + idle_, s);
  }
  bool contains(SocketId s) const { return last_.count(s) != 0; }
  // The endpoint-independent flow of a client endpoint, if it has one.
  std::optional<SocketId> find_client(const udp::UdpEndpoint& client) const {
    auto it = by_client_.find(key(client));
    if (it == by_client_.end()) return std::nullopt;
    return it->second;
  }
  void touch(SocketId s, Instant now) {
    if (auto it = last_.find(s); it != last_.end()) it->second.last = now;
  }
  // Its heap entries are skipped when met.
  void erase(SocketId s) {
    if (auto it = last_.find(s); it != last_.end()) forget(it);
  }
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
      if (it->second.last + idle_ <= now) {
        forget(it);
        return s;
      }
      deadlines_.emplace(it->second.last + idle_, s);
    }
    return std::nullopt;
  }
  Instant next_deadline() const { return deadlines_.empty() ? kNever : deadlines_.top().first; }

 private:
  struct Flow {
    Instant last{};  // the last datagram in or out
    bool independent = false;
    udp::UdpEndpoint client;  // independent: its key in by_client_
  };
  using Entry = std::pair<Instant, SocketId>;
  // The client map reuses the keyed 4-tuple hash with only the remote half filled in.
  static FourTuple key(const udp::UdpEndpoint& c) { return FourTuple{{}, 0, c.addr, c.port}; }
  void forget(std::unordered_map<SocketId, Flow>::iterator it) {
    if (it->second.independent) by_client_.erase(key(it->second.client));
    last_.erase(it);
  }

  Duration idle_;
  std::unordered_map<SocketId, Flow> last_;
  std::unordered_map<FourTuple, SocketId, FourTupleHash> by_client_;
  std::deque<SocketId> fresh_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> deadlines_;
};

}  // namespace utcp::stack
