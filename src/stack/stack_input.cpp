// SPDX-License-Identifier: BSD-2-Clause
// Stack::Impl: the input side of the wiring. Packets from the device (through direct
// placement when a lease is out), IPv4 input, ICMP errors to their connection, and TCP
// segments to where the demultiplexing verdict sends them.
#include <algorithm>
#include <cstring>

#include "stack/icmp_errors.hpp"
#include "stack/stack_impl.hpp"
#include "stack/tcp_demux.hpp"
#include "tcp/reset_generator.hpp"
#include "tcp/time_wait_reuse.hpp"
#include "wire/ipv4.hpp"
#include "wire/packet_format.hpp"

namespace utcp {

using stack::Counter;
using stack::FourTuple;

namespace {

// Where the transport payload starts in the received packet: the IP header length, or 0 when
// the payload lies elsewhere (in the reassembly buffer).
size_t payload_offset(std::span<const uint8_t> packet, std::span<const uint8_t> payload) {
  const bool inside = payload.data() >= packet.data() &&
                      payload.data() + payload.size() == packet.data() + packet.size();
  return inside ? static_cast<size_t>(payload.data() - packet.data()) : 0;
}

}  // namespace

void Stack::Impl::on_packet(std::span<const uint8_t> bytes, bool checksum_verified) {
  if (trace) trace('<', wire::format_ip_packet(bytes, !checksum_verified));
  // The version nibble picks the IP input (RFC 8200 §3); without IPv6 the IPv4 input counts
  // an IPv6 packet as a bad version, as before.
  if (config.ipv6 && !bytes.empty() && bytes[0] >> 4 == 6) {
    on_packet6(bytes, checksum_verified);
    return;
  }
  // The whole slot, not just the MTU: an echo reply larger than the MTU is fragmented below.
  ip::InputResult r = ip_in.input(bytes, now, out.slot());
  switch (r.action) {
    case ip::InputAction::kTcp:
      ip_header_len = payload_offset(bytes, r.payload);
      in_datagram = r.datagram;
      on_tcp(r.src, r.dst, r.payload, checksum_verified, r.ecn);
      break;
    case ip::InputAction::kIcmpError:
      on_icmp_error(*r.icmp_error);
      break;
    case ip::InputAction::kReply:
      out.queue_packet_within(r.reply, caps.mtu);
      break;
    case ip::InputAction::kUdp:
      if (on_udp(r.src, r.dst, r.tos, r.payload, checksum_verified)) {
        udp_port_unreachable(r.datagram);
      }
      break;
    case ip::InputAction::kUdpIcmpError:
      on_udp_icmp_error(*r.icmp_error);
      break;
    default:
      break;  // dropped, held for reassembly or consumed: ip counters say which
  }
}

void Stack::Impl::on_packet6(std::span<const uint8_t> bytes, bool checksum_verified) {
  ip::Ipv6InputResult r = ip6_in.input(bytes, now, out.slot());
  switch (r.action) {
    case ip::InputAction::kTcp:
      ip_header_len = payload_offset(bytes, r.payload);
      in_datagram = r.datagram;
      on_tcp(r.src, r.dst, r.payload, checksum_verified, r.ecn);
      break;
    case ip::InputAction::kIcmpError:
      on_icmp_error(*r.icmp_error);
      break;
    case ip::InputAction::kReply:
      // An echo reply as large as its request may exceed the link MTU: the source fragments
      // it (RFC 8200 §4.5).
      out.queue_packet6_within(r.reply, caps.mtu);
      break;
    case ip::InputAction::kUdp:
      if (on_udp(IpAddr(r.src), IpAddr(r.dst), r.traffic_class, r.payload, checksum_verified)) {
        udp_port_unreachable6(r.datagram);
      }
      break;
    case ip::InputAction::kUdpIcmpError:
      on_udp_icmp_error(*r.icmp_error);
      break;
    default:
      break;  // dropped, held for reassembly or consumed: counted
  }
}

// RFC 1122 §4.2.3.9 / RFC 5927: an ICMP error quoting one of our segments goes to its
// connection, which decides (hard errors abort only a SYN-SENT connection).
void Stack::Impl::on_icmp_error(const ip::IcmpError& e) {
  const uint32_t index =
      sockets.find(FourTuple{e.local_addr, e.local_port, e.remote_addr, e.remote_port});
  if (index == stack::kNoIndex) {
    counters.inc(Counter::icmp_unmatched);
    return;
  }
  // RFC 5927 §4.1: a quote outside the flight is forged or stale; counted, else ignored.
  if (!stack::deliver_icmp_error(*sockets[index].conn, e, now)) {
    counters.inc(Counter::icmp_bad_seq);
    return;
  }
  counters.inc(Counter::icmp_to_conn);
  mark_dirty(index);
}

void Stack::Impl::on_tcp(const IpAddr& src, const IpAddr& dst, std::span<const uint8_t> bytes,
                         bool checksum_verified, uint8_t ecn) {
  counters.inc(Counter::tcp_in);
  auto seg = wire::TcpPacket::parse(bytes, src, dst, !checksum_verified);
  if (!seg) {
    counters.inc(seg.error() == wire::ParseError::kBadChecksum  ? Counter::tcp_bad_checksum
                 : seg.error() == wire::ParseError::kBadOptions ? Counter::tcp_bad_options
                                                                : Counter::tcp_bad_header);
    return;
  }
  const wire::TcpRepr repr = seg->repr();
  const FourTuple t{dst, repr.dst_port, src, repr.src_port};
  const uint32_t index = sockets.find(t);
  // A dual-stack listener answers both families; an IPv6-only one leaves IPv4 SYNs to the
  // reset below (and an IPv4-only one IPv6 SYNs), as Linux's IPV6_V6ONLY does.
  // A forwarded destination (issue 13: IP input let only our own and forwarded ones in) is
  // no listener's: its SYNs become connection requests.
  const bool forwarded = !is_own_address(dst);
  const uint32_t listener =
      forwarded ? stack::kNoIndex : sockets.listener(repr.dst_port, dst.family());
  stack::DemuxFacts facts;
  facts.connection = index != stack::kNoIndex;
  facts.listener = listener != stack::kNoIndex;
  facts.forwarded = forwarded;
  facts.pending = forwarded && !facts.connection && requests.has(t);
  facts.flags = repr.flags;
  if (facts.connection && facts.listener && repr.has(wire::tcp_flag::kSyn)) {
    const tcp::Connection& old = *sockets[index].conn;
    facts.time_wait_reopenable =
        old.state() == tcp::State::kTimeWait && tcp::syn_may_reopen_time_wait(old.tcb(), repr, now);
  }
  switch (stack::demux_tcp(facts)) {
    case stack::DemuxVerdict::kDeliver:
      sockets[index].conn->on_segment(repr, now, ecn);
      mark_dirty(index);
      // Bulk data: the next segment of this connection is likely the same shape.
      placement.observe(index, ip_header_len ? ip_header_len + seg->header_len() : 0,
                        repr.payload.size());
      return;
    case stack::DemuxVerdict::kReopenTimeWait:
      reopen_time_wait(index, listener, t, repr);
      return;
    case stack::DemuxVerdict::kToListener:
      on_syn_to_listener(listener, t, repr);
      return;
    case stack::DemuxVerdict::kReset:
      // The ACK completing a cookie handshake finds only the listener (RFC 4987 §3.6).
      if (facts.listener && accept_syn_cookie(listener, t, repr, ecn)) return;
      counters.inc(Counter::tcp_no_listener);
      if (auto rst = tcp::reset_for_unmatched(repr)) {
        counters.inc(Counter::tcp_rst_sent);
        out.send_tcp(*rst, dst, src, 0,
                     flow_label(FourTuple{dst, repr.dst_port, src, repr.src_port}));
      }
      return;
    case stack::DemuxVerdict::kDrop:
      counters.inc(Counter::tcp_no_listener);
      return;
    case stack::DemuxVerdict::kForward:
      on_forward_syn(t, repr);
      return;
    case stack::DemuxVerdict::kAbsorbSyn:
      requests.on_syn(t, repr, in_datagram, now);  // refreshes the SYN it will answer
      counters.inc(Counter::fwd_syn_absorbed);
      return;
    case stack::DemuxVerdict::kCancelRequest:
      // RFC 9293 §3.10.7.2 first: the RST is not answered. It ends the request only with the
      // sequence number the peer's own RST would carry (its ISS + 1; RFC 5961 §3 in spirit), so a
      // blind RST cannot cancel it.
      if (const stack::PendingRequest* p = requests.find(t); p && repr.seq == p->syn.seq + 1) {
        requests.take(t);
        counters.inc(Counter::fwd_canceled);
      } else {
        counters.inc(Counter::tcp_no_listener);
      }
      return;
  }
}

// RFC 9293 §3.6.1 (MAY-2, SHLD-4), RFC 6191: a SYN that cannot be an old duplicate ends the
// connection's TIME-WAIT and goes to the listener as a new incarnation, as in Linux.
void Stack::Impl::reopen_time_wait(uint32_t index, uint32_t listener, const FourTuple& t,
                                   const wire::TcpRepr& syn) {
  tcp::Connection& old = *sockets[index].conn;
  const wire::SeqNum iss = tcp::time_wait_successor_iss(old.tcb());
  sockets.unlink(index);  // free the 4-tuple before the new connection claims it
  old.end_time_wait();
  mark_dirty(index);  // its kClosed event lets reap() free it
  counters.inc(Counter::tcp_time_wait_reopened);
  // Should the listener's queues be full, the SYN is dropped like any other; its
  // retransmission then finds the 4-tuple free.
  on_syn_to_listener(listener, t, syn, iss);
}

void Stack::Impl::on_syn_to_listener(uint32_t l, const FourTuple& t, const wire::TcpRepr& syn,
                                     std::optional<wire::SeqNum> iss_override) {
  Socket& ls = sockets[l];
  if (ls.half_open >= ls.syn_backlog) {
    // RFC 4987 §3.6: past a full SYN queue a cookie answers and nothing is kept, unless the
    // accept queue is full too (the handshake could not complete: Linux drops then as well).
    if (config.syn_cookies && ls.accept_queue.size() < ls.accept_backlog) {
      send_syn_cookie(l, t, syn);
      return;
    }
    // Without cookies: drop the SYN silently, as Linux does; the peer retransmits it.
    counters.inc(Counter::tcp_syn_queue_full);
    return;
  }
  if (ls.accept_queue.size() >= ls.accept_backlog) {
    counters.inc(Counter::tcp_accept_queue_full);
    return;
  }
  if (sockets.connection_count() >= config.max_connections) {
    counters.inc(Counter::tcp_conn_limit);
    return;
  }
  const uint32_t index = new_connection(t);
  Socket& s = sockets[index];
  s.listener = l;
  s.tos = sockets[l].tos;  // accepted connections inherit the listener's (as in Linux)
  ++sockets[l].half_open;
  counters.inc(Counter::tcp_accepted);
  // TCP_MAXSEG of the listener, before the SYN-ACK announces it (`ls` may dangle by now).
  if (const uint16_t m = sockets[l].user_mss) s.conn->set_user_mss(m);
  s.conn->listen(iss_override
                     ? *iss_override
                     : isn.isn(t.local_addr, t.local_port, t.remote_addr, t.remote_port, now));
  s.conn->on_segment(syn, now);
  mark_dirty(index);
}

// One received packet. With a lease out (slot 0 of a placed read), the packet's first
// `placed` bytes lie in the leased receive ring.
void Stack::Impl::input_slot(dev::PacketSlot& slot) {
  if (!lease || slot.placed == 0) {
    lease.release();
    on_packet(slot.data(), slot.checksum_verified);
    return;
  }
  const std::span<uint8_t> placed = lease.area().first(slot.placed);
  if (slot.placed == slot.len && lease.as_predicted(placed)) {
    // The payload lies at RCV.NXT within the room offered: the ring stores it in place, and
    // the lease keeps the ring from moving until the packet is done.
    counters.inc(Counter::rx_placed);
    on_packet(placed, slot.checksum_verified);
    lease.release();
    return;
  }
  // Not what was predicted: gather the packet into the slot, give the ring back (its bytes
  // restored), and take the usual path (one copy, as without placement).
  counters.inc(Counter::rx_place_missed);
  const size_t rest = slot.len - slot.placed;
  const bool fits = slot.len <= slot.buf.size();  // always: buf holds any IPv4 packet
  if (fits) {
    std::memmove(slot.buf.data() + slot.placed, slot.buf.data(), rest);
    std::memcpy(slot.buf.data(), placed.data(), slot.placed);
  }
  lease.release();
  if (fits) on_packet(slot.data(), slot.checksum_verified);
}

void Stack::Impl::receive_all() {
  // A bounded amount of input per call keeps timers and output flowing under load.
  size_t want = kBatch, packets = 0, unflushed = 0;
  while (packets < kMaxPacketsPerProcess) {
    // Direct placement (stack/direct_placement.hpp): with a lease on the ring of the
    // connection that had the last bulk segment, one packet is read straight into it.
    placement.acquire(sockets, lease);
    const size_t ask = lease ? 1 : want;
    if (lease) rx_slots[0].place = lease.area();
    const size_t n = device.receive(std::span(rx_slots).first(ask), now);
    size_t bytes = 0;
    for (size_t i = 0; i < n; ++i) {
      bytes += rx_slots[i].len;
      input_slot(rx_slots[i]);
    }
    lease.release();  // nothing read (n == 0): the headroom goes back all the same
    rx_slots[0].place = {};
    rx_slots[0].placed = 0;
    packets += n;
    if (n < ask) break;
    unflushed += bytes;
    // The device has more. After a large batch, send its ACKs (and let the application read)
    // before reading on: a sender that has filled the window waits for that ACK, and would
    // otherwise sit idle until the whole backlog is drained. RFC 5681 §4.2 asks for an ACK
    // per two full-sized segments; one 64 KB GSO frame already holds ~45, so this bounds the
    // data per ACK in bytes, not in packets.
    if (unflushed >= kAckEveryBytes) {
      flush(now);
      unflushed = 0;
    }
    // Size the next read to hold about kAckEveryBytes (a few slots for 64 KB GSO frames).
    const size_t average = std::max<size_t>(bytes / n, 1);
    want = std::clamp<size_t>((kAckEveryBytes + average - 1) / average, 1, kBatch);
  }
  if (packets != 0) {
    rx_used = true;
    rx_last = now;
  }
}

}  // namespace utcp
