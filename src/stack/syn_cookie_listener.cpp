// SPDX-License-Identifier: BSD-2-Clause
// Stack::Impl: SYN cookies at a listener (RFC 4987 §3.6). A SYN past the full SYN queue is
// answered with a SYN-ACK whose ISN is a cookie and nothing is kept; the peer's ACK, if its
// number less one is a cookie we made for that 4-tuple and SYN, rebuilds the connection.
//
// Both ends go through the engine so that the options agree: the SYN-ACK is the one a
// throwaway connection would send for the SYN (only the TSval changed, to carry the options
// the cookie cannot), and the connection is rebuilt by replaying that SYN, discarding its
// SYN-ACK, then giving it the ACK.
#include <array>

#include "stack/stack_impl.hpp"

namespace utcp {

using stack::Counter;
using stack::FourTuple;
using namespace wire::tcp_flag;

namespace {

// The SYN the engine is given: what the cookie and the timestamps let us remember of the
// peer's SYN. Without timestamps only the MSS comes back, so the peer is answered as if it
// had offered nothing else (window scale, SACK and ECN off for the connection).
wire::TcpRepr remembered_syn(const wire::TcpRepr& seg, wire::SeqNum peer_isn, uint16_t mss,
                             const std::optional<wire::TcpTimestamps>& ts,
                             const stack::CookieOptions& o) {
  wire::TcpRepr syn;
  syn.src_port = seg.src_port;
  syn.dst_port = seg.dst_port;
  syn.seq = peer_isn;
  syn.flags = kSyn;
  if (o.ecn) syn.flags |= kEce | kCwr;  // RFC 3168 §6.1.1: an ECN-setup SYN
  syn.window = seg.window;
  syn.options.mss = mss;
  syn.options.window_scale = o.wscale;
  syn.options.sack_permitted = o.sack;
  if (ts) syn.options.timestamps = wire::TcpTimestamps{ts->tsval, 0};
  return syn;
}

}  // namespace

void Stack::Impl::send_syn_cookie(uint32_t l, const FourTuple& t, const wire::TcpRepr& syn) {
  // RFC 9293 §3.7.1 (MUST-15) default: 536 over IPv4, 1220 over IPv6.
  const uint16_t peer_mss = syn.options.mss.value_or(t.remote_addr.is_v6() ? 1220 : 536);
  const wire::SeqNum iss = cookies.make(t, syn.seq, peer_mss, now);
  // Timestamps will be on (RFC 7323 §3.2) only if both sides want them.
  const bool ts = syn.options.timestamps.has_value() && config.tcp.timestamps;
  wire::TcpRepr offered = syn;
  if (!ts) {
    // Nothing to carry window scale, SACK or ECN back: do not offer them.
    offered.options.window_scale.reset();
    offered.options.sack_permitted = false;
    offered.flags &= static_cast<uint8_t>(~(kEce | kCwr));
  }
  // What the engine answers, from a connection that lives only for this call.
  tcp::Connection probe(tcp::Endpoints{t.local_addr, t.local_port, t.remote_addr, t.remote_port},
                        config.tcp);
  if (const uint16_t m = sockets[l].user_mss) probe.set_user_mss(m);
  probe.listen(iss);
  probe.on_segment(offered, now);
  std::array<uint8_t, wire::kTcpHeaderMax> buf;
  const size_t n = probe.poll_transmit(now, buf);
  auto synack = wire::TcpPacket::parse(std::span(buf).first(n), t.local_addr, t.remote_addr);
  if (n == 0 || !synack) return;
  wire::TcpRepr repr = synack->repr();
  if (!repr.has(kSyn) || !repr.has(kAck)) return;
  if (auto& r = repr.options.timestamps) {
    stack::CookieOptions o;
    if (syn.options.window_scale && repr.options.window_scale) o.wscale = syn.options.window_scale;
    o.sack = syn.options.sack_permitted && repr.options.sack_permitted;
    o.ecn = repr.has(kEce);
    r->tsval = stack::SynCookies::encode_ts(r->tsval, o);
  }
  // RFC 9293 §3.9.1.9: the listener's Diffserv field, as on a SYN-ACK from the SYN queue (no
  // ECN codepoint: a SYN-ACK is not ECN-capable, RFC 3168 §6.1.1).
  out.send_tcp(repr, t.local_addr, t.remote_addr, sockets[l].tos, flow_label(t));
  cookies.note_sent(now);
  counters.inc(Counter::tcp_syncookies_sent);
}

bool Stack::Impl::accept_syn_cookie(uint32_t l, const FourTuple& t, const wire::TcpRepr& ack,
                                    uint8_t ecn) {
  // Only a plain ACK (maybe with data or FIN) can complete a handshake, and only while cookies
  // are going out: otherwise a blind attacker could guess at the MAC at leisure.
  if (!ack.has(kAck) || ack.has(kSyn) || ack.has(kRst) || !cookies.recently_sent(now)) {
    return false;
  }
  const wire::SeqNum peer_isn = ack.seq - 1;
  const wire::SeqNum iss = ack.ack - 1;
  const std::optional<uint16_t> mss = cookies.check(t, peer_isn, iss, now);
  if (!mss) {
    counters.inc(Counter::tcp_syncookies_invalid);
    return false;  // a stray or forged ACK: RST, as at any listener (RFC 9293 §3.10.7.2)
  }
  counters.inc(Counter::tcp_syncookies_valid);
  Socket& ls = sockets[l];
  if (ls.accept_queue.size() >= ls.accept_backlog) {
    counters.inc(Counter::tcp_accept_queue_full);
    return true;  // dropped; the peer retransmits (data) or times out, as in Linux
  }
  if (sockets.connection_count() >= config.max_connections) {
    counters.inc(Counter::tcp_conn_limit);
    return true;
  }
  // TSecr carries our bits only if we offered timestamps in the cookie SYN-ACK.
  std::optional<wire::TcpTimestamps> ts = ack.options.timestamps;
  if (!config.tcp.timestamps) ts.reset();
  const stack::CookieOptions o =
      ts ? stack::SynCookies::decode_ts(ts->tsecr) : stack::CookieOptions{};
  const uint32_t index = new_connection(t);
  Socket& s = sockets[index];
  s.listener = l;
  s.tos = sockets[l].tos;
  ++sockets[l].half_open;  // promote_to_accept_queue takes it back
  counters.inc(Counter::tcp_accepted);
  if (const uint16_t m = sockets[l].user_mss) s.conn->set_user_mss(m);
  s.conn->listen(iss);
  s.conn->on_segment(remembered_syn(ack, peer_isn, *mss, ts, o), now);
  // Its SYN-ACK went out already (the cookie's): discard the replay's.
  std::array<uint8_t, wire::kTcpHeaderMax> scratch;
  while (s.conn->poll_transmit(now, scratch) > 0) {
  }
  s.conn->on_segment(ack, now, ecn);
  mark_dirty(index);
  return true;
}

}  // namespace utcp
