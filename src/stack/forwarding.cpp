// SPDX-License-Identifier: BSD-2-Clause
#include "stack/forwarding.hpp"

#include <algorithm>
#include <cstring>

namespace utcp::stack {

void PendingRequests::store_syn(PendingRequest& r, const wire::TcpRepr& syn,
                                std::span<const uint8_t> datagram) {
  r.syn = syn;
  r.syn.payload = {};  // points into the packet buffer; data on a SYN comes again
  r.quote_len = static_cast<uint8_t>(std::min(datagram.size(), r.quote.size()));
  std::memcpy(r.quote.data(), datagram.data(), r.quote_len);
}

PendingRequests::Outcome PendingRequests::on_syn(const FourTuple& t, const wire::TcpRepr& syn,
                                                 std::span<const uint8_t> datagram, Instant now) {
  if (auto it = by_tuple_.find(t); it != by_tuple_.end()) {
    store_syn(by_id_[it->second], syn, datagram);
    return Outcome::kRetransmit;
  }
  if (by_id_.size() >= limit_) return Outcome::kFull;
  const RequestId id = next_id_++;
  PendingRequest& r = by_id_[id];
  r.id = id;
  r.tuple = t;
  r.deadline = now + timeout_;
  store_syn(r, syn, datagram);
  by_tuple_.emplace(t, id);
  order_.push_back(id);
  return Outcome::kNew;
}

const PendingRequest* PendingRequests::find(RequestId id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

std::optional<PendingRequest> PendingRequests::take(RequestId id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  PendingRequest r = it->second;
  by_tuple_.erase(r.tuple);
  by_id_.erase(it);
  trim_order();
  return r;
}

std::optional<PendingRequest> PendingRequests::take(const FourTuple& t) {
  auto it = by_tuple_.find(t);
  if (it == by_tuple_.end()) return std::nullopt;
  return take(it->second);
}

// Drops decided ids from the front, so the deque never holds more than the live requests
// plus those decided out of order behind the oldest live one.
void PendingRequests::trim_order() {
  while (!order_.empty() && by_id_.count(order_.front()) == 0) {
    order_.pop_front();
    if (announced_ > 0) --announced_;
  }
}

const PendingRequest* PendingRequests::next_unannounced() {
  while (announced_ < order_.size()) {
    auto it = by_id_.find(order_[announced_++]);
    if (it != by_id_.end() && !it->second.announced) {
      it->second.announced = true;
      return &it->second;
    }
  }
  return nullptr;
}

std::optional<PendingRequest> PendingRequests::pop_expired(Instant now) {
  trim_order();
  if (order_.empty()) return std::nullopt;
  const PendingRequest& oldest = by_id_.at(order_.front());
  if (oldest.deadline > now) return std::nullopt;
  return take(oldest.id);
}

Instant PendingRequests::next_deadline() const {
  // trim_order() after every removal keeps the front live.
  if (order_.empty()) return kNever;
  return by_id_.at(order_.front()).deadline;
}

}  // namespace utcp::stack
