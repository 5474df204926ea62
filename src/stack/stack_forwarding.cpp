// SPDX-License-Identifier: BSD-2-Clause
// Stack::Impl and Stack: forwarding (issue 13). A SYN to a forwarded destination becomes a
// connection request held unanswered (stack/forwarding.hpp) until the application accepts
// it (the engine answers the remembered SYN as a listener would), resets it (RST) or rejects
// it (ICMP or ICMPv6 Destination Unreachable), or until its time runs out (RST).
#include "stack/stack_impl.hpp"
#include "tcp/reset_generator.hpp"
#include "wire/icmp.hpp"
#include "wire/icmpv6.hpp"

namespace utcp {

using stack::Counter;

namespace {

// RFC 1812 §5.2.7.1: "communication administratively prohibited" (ICMP type 3, code 13).
constexpr uint8_t kIcmpAdminProhibited = 13;

uint8_t icmp_code(RejectReason why) {
  switch (why) {
    case RejectReason::kHostUnreachable:
      return wire::icmp_unreach::kHost;
    case RejectReason::kPortUnreachable:
      return wire::icmp_unreach::kPort;
    case RejectReason::kAdminProhibited:
      return kIcmpAdminProhibited;
  }
  return wire::icmp_unreach::kHost;
}

// RFC 4443 §3.1: address unreachable (3) stands for the host, and code 1 is
// "communication with destination administratively prohibited".
uint8_t icmpv6_code(RejectReason why) {
  switch (why) {
    case RejectReason::kHostUnreachable:
      return wire::icmpv6_unreach::kAddress;
    case RejectReason::kPortUnreachable:
      return wire::icmpv6_unreach::kPort;
    case RejectReason::kAdminProhibited:
      return wire::icmpv6_unreach::kAdminProhibited;
  }
  return wire::icmpv6_unreach::kAddress;
}

std::error_code unknown_request() {
  return std::make_error_code(std::errc::invalid_argument);
}

}  // namespace

ConnectionRequest Stack::Impl::request_of(const stack::PendingRequest& r) {
  ConnectionRequest q;
  q.id = r.id;
  q.local = Endpoint{r.tuple.local_addr, r.tuple.local_port};
  q.remote = Endpoint{r.tuple.remote_addr, r.tuple.remote_port};
  q.mss = r.syn.options.mss;
  q.window_scale = r.syn.options.window_scale;
  q.sack_permitted = r.syn.options.sack_permitted;
  q.timestamps = r.syn.options.timestamps.has_value();
  return q;
}

void Stack::Impl::on_forward_syn(const stack::FourTuple& t, const wire::TcpRepr& syn) {
  if (requests.on_syn(t, syn, in_datagram, now) == stack::PendingRequests::Outcome::kFull) {
    // As a full SYN queue without cookies: dropped silently, the peer retransmits.
    counters.inc(Counter::fwd_pending_full);
    return;
  }
  counters.inc(Counter::fwd_requests);
  if (on_request) {
    // Copied first: the callback may decide (and so free) the request.
    for (const stack::PendingRequest* r = requests.next_unannounced(); r != nullptr;
         r = requests.next_unannounced()) {
      const ConnectionRequest q = request_of(*r);
      on_request(q);
    }
  }
}

// RFC 9293 §3.10.7.1: the RST a closed port would send for the SYN.
void Stack::Impl::send_request_reset(const stack::PendingRequest& r) {
  if (auto rst = tcp::reset_for_unmatched(r.syn)) {
    counters.inc(Counter::tcp_rst_sent);
    out.send_tcp(*rst, r.tuple.local_addr, r.tuple.remote_addr, 0, flow_label(r.tuple));
  }
}

void Stack::Impl::expire_requests() {
  while (auto r = requests.pop_expired(now)) {
    counters.inc(Counter::fwd_timeout);
    send_request_reset(*r);
  }
}

std::optional<ConnectionRequest> Stack::next_request() {
  const stack::PendingRequest* r = impl_->requests.next_unannounced();
  if (r == nullptr) return std::nullopt;
  return Impl::request_of(*r);
}

void Stack::set_request_callback(std::function<void(const ConnectionRequest&)> callback) {
  impl_->on_request = std::move(callback);
}

size_t Stack::pending_requests() const {
  return impl_->requests.size();
}

SocketId Stack::accept_request(RequestId id, std::error_code& ec) {
  ec.clear();
  auto& im = *impl_;
  const stack::PendingRequest* pending = im.requests.find(id);
  if (pending == nullptr) {
    ec = unknown_request();
    return kNoSocket;
  }
  if (im.sockets.connection_count() >= im.config.max_connections) {
    ec = std::make_error_code(std::errc::too_many_files_open);
    return kNoSocket;
  }
  const stack::PendingRequest r = *im.requests.take(id);
  const uint32_t index = im.new_connection(r.tuple);
  im.counters.inc(Counter::fwd_accepted);
  im.counters.inc(Counter::tcp_accepted);
  // RFC 9293 §3.10.7.2 third: the SYN as a listener takes it; the engine answers with the
  // SYN-ACK from the original destination (the connection's local address).
  tcp::Connection& c = *im.sockets[index].conn;
  c.listen(im.isn.isn(r.tuple.local_addr, r.tuple.local_port, r.tuple.remote_addr,
                      r.tuple.remote_port, im.now));
  c.on_segment(r.syn, im.now);
  im.mark_dirty(index);
  return im.id_of(index);
}

void Stack::reset_request(RequestId id, std::error_code& ec) {
  ec.clear();
  auto r = impl_->requests.take(id);
  if (!r) {
    ec = unknown_request();
    return;
  }
  impl_->counters.inc(Counter::fwd_reset);
  impl_->send_request_reset(*r);
}

void Stack::reject_request(RequestId id, RejectReason why, std::error_code& ec) {
  ec.clear();
  auto& im = *impl_;
  auto r = im.requests.take(id);
  if (!r) {
    ec = unknown_request();
    return;
  }
  im.counters.inc(Counter::fwd_rejected);
  // RFC 1122 §3.2.2.1 / RFC 4443 §3.1, from the original destination, quoting the SYN's
  // datagram; the IP input rate-limits and counts (ip.icmp.* / ip6.icmp6.*).
  if (r->tuple.local_addr.is_v4()) {
    const ip::InputResult a =
        im.ip_in.dest_unreachable(r->quoted(), icmp_code(why), im.now, im.out.slot());
    if (a.action == ip::InputAction::kReply) im.out.queue_packet(a.reply);
  } else {
    const auto a = im.ip6_in.make_error(r->quoted(), wire::icmpv6_type::kDestUnreachable,
                                        icmpv6_code(why), 0, im.now, im.out.slot());
    if (!a.empty()) im.out.queue_packet(a);
  }
}

}  // namespace utcp
