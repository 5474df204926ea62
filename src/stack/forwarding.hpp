// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Forwarding (issue 13): the connection requests a Stack holds for SYNs to forwarded
// destinations while the application decides (a deferred handshake). Nothing has been
// answered for a pending request; this table only remembers the SYN (the latest copy, so a
// late SYN-ACK echoes a fresh timestamp) and the start of its IP datagram (to quote in an
// ICMP rejection), bounds how many are held, and says which ran out of time. Sans-IO.
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <unordered_map>

#include "stack/four_tuple.hpp"
#include "utcp/stack.hpp"
#include "utcp/time.hpp"
#include "wire/tcp.hpp"

namespace utcp::stack {

struct PendingRequest {
  RequestId id = 0;
  FourTuple tuple;         // local: the original destination
  wire::TcpRepr syn;       // the latest SYN; its payload is dropped (the peer sends it again)
  Instant deadline{};      // reset when still undecided then
  bool announced = false;  // handed out by next_unannounced()
  // RFC 1122 §3.2.2 / RFC 4443 §2.4(c): an ICMP error quotes the IP header and the start of
  // the datagram; 128 bytes hold any IPv4 header and an IPv6 header with the TCP header.
  std::array<uint8_t, 128> quote{};
  uint8_t quote_len = 0;

  std::span<const uint8_t> quoted() const { return {quote.data(), quote_len}; }
};

class PendingRequests {
 public:
  enum class Outcome : uint8_t {
    kNew,         // a request was made
    kRetransmit,  // the 4-tuple already had one: its SYN is refreshed, nothing else
    kFull,        // the table holds `limit` requests: the SYN is dropped
  };

  PendingRequests(uint32_t limit, Duration timeout, uint64_t hash_seed)
      : limit_(limit), timeout_(timeout), by_tuple_(16, FourTupleHash(hash_seed)) {}

  // A SYN for a forwarded destination with no connection; `datagram` is its IP packet.
  Outcome on_syn(const FourTuple& t, const wire::TcpRepr& syn, std::span<const uint8_t> datagram,
                 Instant now);
  bool has(const FourTuple& t) const { return by_tuple_.count(t) != 0; }
  const PendingRequest* find(RequestId id) const;
  const PendingRequest* find(const FourTuple& t) const {
    auto it = by_tuple_.find(t);
    return it == by_tuple_.end() ? nullptr : find(it->second);
  }
  // Removes and returns the request (decided, canceled or expired).
  std::optional<PendingRequest> take(RequestId id);
  std::optional<PendingRequest> take(const FourTuple& t);
  // The oldest request not yet handed to the application, marked as handed out.
  const PendingRequest* next_unannounced();
  // Removes and returns the oldest request whose deadline has passed, if any.
  std::optional<PendingRequest> pop_expired(Instant now);
  Instant next_deadline() const;
  size_t size() const { return by_id_.size(); }

 private:
  void store_syn(PendingRequest& r, const wire::TcpRepr& syn, std::span<const uint8_t> datagram);
  void trim_order();

  uint32_t limit_;
  Duration timeout_;
  RequestId next_id_ = 1;
  std::unordered_map<RequestId, PendingRequest> by_id_;
  std::unordered_map<FourTuple, RequestId, FourTupleHash> by_tuple_;
  // Request ids by arrival (hence by deadline: one timeout for all); decided ones are skipped
  // when met at the front.
  std::deque<RequestId> order_;
  size_t announced_ = 0;  // order_[0..announced_) were handed out or are gone
};

}  // namespace utcp::stack
