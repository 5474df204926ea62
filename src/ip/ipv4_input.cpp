// SPDX-License-Identifier: BSD-2-Clause
#include "ip/ipv4_input.hpp"

#include <algorithm>
#include <cstring>

#include "ip/address_class.hpp"
#include "wire/icmp.hpp"

namespace utcp::ip {

namespace {
// RFC 1812 §4.3.2.3: an ICMP error quotes as much of the datagram as fits in 576 bytes.
constexpr size_t kMaxIcmpErrorLen = 576;

// The RFC 792 errors a forwarded connection or flow can be told (Source Quench is ignored
// everywhere, RFC 6633).
bool quotes_a_datagram(uint8_t type) {
  return type == wire::icmp_type::kDestUnreachable || type == wire::icmp_type::kTimeExceeded ||
         type == wire::icmp_type::kParameterProblem;
}
}  // namespace

Ipv4Input::Ipv4Input(const Ipv4InputConfig& config, Ipv4Output& output)
    : config_(config),
      output_(output),
      reassembler_(config.reassembly),
      error_limiter_(config.icmp_errors_per_second, config.icmp_error_burst) {}

bool Ipv4Input::is_local(wire::Ipv4Addr a) const {
  return std::find(config_.local_addresses.begin(), config_.local_addresses.end(), a) !=
         config_.local_addresses.end();
}

bool Ipv4Input::is_forwarded(wire::Ipv4Addr a) const {
  return std::any_of(config_.forwarded.begin(), config_.forwarded.end(),
                     [&](const IpPrefix& p) { return p.contains(a); });
}

bool Ipv4Input::forwarded_protocol(uint8_t protocol) const {
  // ICMP always: errors about forwarded connections and flows are addressed to forwarded
  // addresses (handle_icmp() keeps only those and, with forwarded_echo, echo requests).
  return protocol == wire::ip_proto::kTcp || protocol == wire::ip_proto::kIcmp ||
         (protocol == wire::ip_proto::kUdp && config_.forwarded_udp && config_.udp);
}

void Ipv4Input::expire(Instant now) {
  counters_.inc(IpCounter::frag_timeout, reassembler_.expire(now));
}

InputResult Ipv4Input::input(std::span<const uint8_t> packet, Instant now,
                             std::span<uint8_t> reply_buf) {
  counters_.inc(IpCounter::in_packets);
  auto parsed = wire::Ipv4Packet::parse(packet);
  // RFC 1122 §3.2.1.1-2: a bad version or header checksum is silently discarded.
  if (!parsed) return drop(IpCounters::for_parse_error(parsed.error()));
  const wire::Ipv4Packet& ip = *parsed;
  if (is_invalid_source(ip.src())) return drop(IpCounter::in_bad_source);  // RFC 1122 §3.2.1.3
  // RFC 1122 §3.3.4.2: a host only accepts datagrams for its own addresses (no forwarding).
  // Forwarded prefixes (issue 13) count as local for TCP, UDP when asked, and ICMP (errors
  // about forwarded traffic; echo when asked: handle_icmp()).
  if (!is_local(ip.dst()) && !(forwarded_protocol(ip.protocol()) && is_forwarded(ip.dst()))) {
    return drop(IpCounter::in_not_for_us);
  }
  if (ip.is_fragment()) return reassemble(ip, now, reply_buf);
  return deliver(ip, now, reply_buf);
}

InputResult Ipv4Input::reassemble(const wire::Ipv4Packet& ip, Instant now,
                                  std::span<uint8_t> reply_buf) {
  counters_.inc(IpCounter::frag_in);
  const uint8_t proto = ip.protocol();
  if (proto != wire::ip_proto::kTcp && proto != wire::ip_proto::kIcmp &&
      !(proto == wire::ip_proto::kUdp && config_.udp)) {
    // Nobody would take the datagram: answer the first fragment, drop the rest unbuffered.
    if (ip.frag_offset() == 0) {
      counters_.inc(IpCounter::in_unknown_protocol);
      return send_error(ip, wire::icmp_type::kDestUnreachable, wire::icmp_unreach::kProtocol, now,
                        reply_buf);
    }
    return drop(IpCounter::frag_non_first_unknown_protocol);
  }
  counters_.inc(IpCounter::frag_timeout, reassembler_.expire(now));
  const FragmentOutcome out = reassembler_.add(ip, now);
  counters_.inc(IpCounter::frag_evicted, out.evicted);
  switch (out.result) {
    case FragmentResult::kHeld:
      return InputResult{.action = InputAction::kHeld};
    case FragmentResult::kOverlap:
      return drop(IpCounter::frag_overlap);
    case FragmentResult::kOversize:
      return drop(IpCounter::frag_oversize);
    case FragmentResult::kMalformed:
      return drop(IpCounter::frag_malformed);
    case FragmentResult::kDeadTrain:
      return drop(IpCounter::frag_dead_train);
    case FragmentResult::kTooManyTrains:
      return drop(IpCounter::frag_too_many_trains);
    case FragmentResult::kNoMemory:
      return drop(IpCounter::frag_no_memory);
    case FragmentResult::kComplete:
      break;
  }
  counters_.inc(IpCounter::frag_reassembled);
  auto whole = wire::Ipv4Packet::parse(out.datagram);
  if (!whole) return drop(IpCounters::for_parse_error(whole.error()));  // cannot happen
  return deliver(*whole, now, reply_buf);
}

InputResult Ipv4Input::deliver(const wire::Ipv4Packet& ip, Instant now,
                               std::span<uint8_t> reply_buf) {
  InputResult r;
  r.src = ip.src();
  r.dst = ip.dst();
  r.ecn = ip.ecn();
  r.payload = ip.payload();
  switch (ip.protocol()) {
    case wire::ip_proto::kTcp:
      counters_.inc(IpCounter::in_delivered_tcp);
      r.action = InputAction::kTcp;
      r.datagram = ip.bytes();
      return r;
    case wire::ip_proto::kUdp:
      if (!config_.udp) break;
      counters_.inc(IpCounter::in_delivered_udp);
      r.action = InputAction::kUdp;
      r.tos = static_cast<uint8_t>(ip.dscp() << 2 | ip.ecn());
      r.datagram = ip.bytes();
      return r;
    case wire::ip_proto::kIcmp:
      return handle_icmp(ip, r, reply_buf);
    default:
      break;
  }
  // RFC 1122 §3.2.2.1: a host SHOULD answer an unknown protocol with protocol unreachable.
  counters_.inc(IpCounter::in_unknown_protocol);
  return send_error(ip, wire::icmp_type::kDestUnreachable, wire::icmp_unreach::kProtocol, now,
                    reply_buf);
}

InputResult Ipv4Input::port_unreachable(std::span<const uint8_t> datagram, Instant now,
                                        std::span<uint8_t> reply_buf) {
  auto ip = wire::Ipv4Packet::parse_quoted(datagram);
  if (!ip) return drop(IpCounters::for_parse_error(ip.error()));
  return send_error(*ip, wire::icmp_type::kDestUnreachable, wire::icmp_unreach::kPort, now,
                    reply_buf, IpCounter::icmp_port_unreachable_sent);
}

InputResult Ipv4Input::dest_unreachable(std::span<const uint8_t> datagram, uint8_t code,
                                        Instant now, std::span<uint8_t> reply_buf) {
  auto ip = wire::Ipv4Packet::parse_quoted(datagram);
  if (!ip) return drop(IpCounters::for_parse_error(ip.error()));
  return send_error(*ip, wire::icmp_type::kDestUnreachable, code, now, reply_buf);
}

InputResult Ipv4Input::handle_icmp(const wire::Ipv4Packet& ip, InputResult r,
                                   std::span<uint8_t> reply_buf) {
  auto parsed = wire::IcmpPacket::parse(ip.payload());
  const bool forwarded = !is_local(ip.dst());
  // To a forwarded address only errors (about a forwarded connection or flow) and, with
  // StackConfig::forward_echo, echo requests are for us.
  if (forwarded && parsed && !quotes_a_datagram(parsed->type()) &&
      !(parsed->type() == wire::icmp_type::kEchoRequest && config_.forwarded_echo)) {
    return drop(IpCounter::in_not_for_us);
  }
  if (!parsed) return drop(IpCounter::icmp_bad);
  counters_.inc(IpCounter::icmp_in);
  const wire::IcmpPacket& icmp = *parsed;

  if (icmp.type() == wire::icmp_type::kEchoRequest) {
    counters_.inc(IpCounter::icmp_echo_requests);
    // An echo to a non-unicast source could not be routed back; 0.0.0.0 is "this host".
    if (!is_single_host(ip.src())) return drop(IpCounter::icmp_error_suppressed);
    // RFC 1122 §3.2.2.6: the reply carries the request's identifier, sequence and data,
    // from the address the request was sent to (RFC 1122 §3.2.2.6, "specific-destination").
    const auto echo = wire::IcmpRepr::echo_reply(icmp.identifier(), icmp.sequence(), icmp.data());
    const size_t len = Ipv4Output::kHeadroom + echo.total_len();
    if (len > reply_buf.size()) return drop(IpCounter::out_no_room);
    echo.emit(reply_buf.subspan(Ipv4Output::kHeadroom));
    // DF clear, as Linux sends echo replies: a reply larger than the link MTU (to
    // `ping -s 3000`) is fragmented on output (RFC 791 §3.2) instead of lost.
    const size_t total = output_.write_header(reply_buf, echo.total_len(), ip.dst(), ip.src(),
                                              wire::ip_proto::kIcmp, ecn::kNotEct, false);
    if (total == 0) return drop(IpCounter::out_no_room);
    counters_.inc(IpCounter::icmp_echo_replies_sent);
    counters_.inc(IpCounter::out_packets);
    r.action = InputAction::kReply;
    r.payload = {};
    r.reply = reply_buf.first(total);
    return r;
  }

  switch (decode_icmp_error(icmp, ip.src(), r.icmp_error.emplace())) {
    case IcmpErrorDecode::kOk: {
      counters_.inc(IpCounter::icmp_errors_in);
      // The quoted datagram must be one we sent (RFC 5927 §4.1): from one of our addresses,
      // or, for an error sent to a forwarded address, from that address (forwarded traffic
      // leaves from its original destination). The Stack then checks its 4-tuple and, for
      // TCP, its sequence number, as for its own connections.
      const wire::Ipv4Addr quoted_src = r.icmp_error->local_addr.v4();
      if (forwarded ? quoted_src != ip.dst() : !is_local(quoted_src)) {
        return drop(IpCounter::icmp_errors_bad_quote);
      }
      if (r.icmp_error->protocol == wire::ip_proto::kUdp && !config_.udp) {
        return drop(IpCounter::icmp_errors_not_tcp);
      }
      r.action = r.icmp_error->protocol == wire::ip_proto::kUdp ? InputAction::kUdpIcmpError
                                                                : InputAction::kIcmpError;
      r.payload = {};
      return r;
    }
    case IcmpErrorDecode::kSourceQuench:
      counters_.inc(IpCounter::icmp_source_quench_ignored);
      return InputResult{.action = InputAction::kConsumed};
    case IcmpErrorDecode::kBadQuote:
      counters_.inc(IpCounter::icmp_errors_in);
      return drop(IpCounter::icmp_errors_bad_quote);
    case IcmpErrorDecode::kNotTcp:
      counters_.inc(IpCounter::icmp_errors_in);
      return drop(IpCounter::icmp_errors_not_tcp);
    case IcmpErrorDecode::kNotAnError:
      break;
  }
  // Echo replies (we send no requests), timestamps, redirects (RFC 1122 §3.2.2.2: a host
  // without routes to update has nothing to do with them) and unknown types.
  counters_.inc(IpCounter::icmp_other_ignored);
  return InputResult{.action = InputAction::kConsumed};
}

bool Ipv4Input::may_send_error(const wire::Ipv4Packet& offending) const {
  // RFC 1122 §3.2.2: never about an ICMP error, a non-first fragment, a datagram to a
  // broadcast or multicast address, or from a source that is not a single host.
  if (offending.protocol() == wire::ip_proto::kIcmp) {
    const auto payload = offending.payload();
    // An ICMP message too short to tell its type is treated as an error message.
    if (payload.empty()) return false;
    const uint8_t type = payload[0];
    if (type != wire::icmp_type::kEchoRequest && type != wire::icmp_type::kEchoReply) return false;
  }
  if (offending.frag_offset() != 0) return false;
  if (is_multicast(offending.dst()) || is_limited_broadcast(offending.dst())) return false;
  if (!is_local(offending.dst()) && !is_forwarded(offending.dst())) return false;
  return is_single_host(offending.src());
}

InputResult Ipv4Input::send_error(const wire::Ipv4Packet& offending, uint8_t type, uint8_t code,
                                  Instant now, std::span<uint8_t> reply_buf, IpCounter sent) {
  if (!may_send_error(offending)) return drop(IpCounter::icmp_error_suppressed);
  if (!error_limiter_.allow(now)) return drop(IpCounter::icmp_error_rate_limited);
  // RFC 792: quote the header and at least 8 bytes of data; RFC 1812 §4.3.2.3: up to 576 total.
  const size_t room = std::min(kMaxIcmpErrorLen, reply_buf.size());
  const size_t overhead = Ipv4Output::kHeadroom + wire::kIcmpHeaderLen;
  const size_t quote_len =
      std::min(offending.bytes().size(), room > overhead ? room - overhead : 0);
  if (quote_len < offending.header_len() + std::min<size_t>(8, offending.payload().size())) {
    return drop(IpCounter::out_no_room);
  }
  const auto quoted = offending.bytes().first(quote_len);
  wire::IcmpRepr icmp;
  icmp.type = type;
  icmp.code = code;
  icmp.data = quoted;
  icmp.emit(reply_buf.subspan(Ipv4Output::kHeadroom));
  // DF clear, as Linux sends its ICMP errors: on a link with an MTU below 576 the error is
  // fragmented on output rather than lost.
  const size_t total =
      output_.write_header(reply_buf, icmp.total_len(), offending.dst(), offending.src(),
                           wire::ip_proto::kIcmp, ecn::kNotEct, false);
  if (total == 0) return drop(IpCounter::out_no_room);
  counters_.inc(sent);
  counters_.inc(IpCounter::out_packets);
  InputResult r;
  r.action = InputAction::kReply;
  r.src = offending.src();
  r.dst = offending.dst();
  r.reply = reply_buf.first(total);
  return r;
}

}  // namespace utcp::ip
