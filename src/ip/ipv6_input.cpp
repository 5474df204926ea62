// SPDX-License-Identifier: BSD-2-Clause
#include "ip/ipv6_input.hpp"

#include <algorithm>

namespace utcp::ip {

namespace {

namespace next = wire::ipv6_next;

// ICMPv6 informational types of Neighbor Discovery (RFC 4861 §4) and MLD (RFC 2710 §3,
// RFC 3810 §5) that a node on a point-to-point TUN has no use for.
constexpr bool is_ndp(uint8_t type) {
  return type >= 133 && type <= 137;  // RS, RA, NS, NA, Redirect
}
constexpr bool is_mld(uint8_t type) {
  return type == 130 || type == 131 || type == 132 || type == 143;  // query, reports, done
}

// RFC 7112 §6: Parameter Problem code 3, "IPv6 First Fragment has incomplete IPv6 Header
// Chain" (beside wire::icmpv6_param's codes 0-2).
constexpr uint8_t kIncompleteHeaderChain = 3;

constexpr wire::Ipv6Addr kAllNodes(0xff02, 0, 0, 0, 0, 0, 0, 1);  // RFC 4291 §2.7.1

// RFC 4291 §2.7.1: ff02::1:ffXX:XXXX, the solicited-node address of `a` (NDP's target).
constexpr bool is_solicited_node_of(const wire::Ipv6Addr& m, const wire::Ipv6Addr& a) {
  const wire::Ipv6Addr prefix(0xff02, 0, 0, 0, 0, 1, 0xff00, 0);
  for (size_t i = 0; i < 13; ++i) {
    if (m.bytes[i] != prefix.bytes[i]) return false;
  }
  return m.bytes[13] == a.bytes[13] && m.bytes[14] == a.bytes[14] && m.bytes[15] == a.bytes[15];
}

// RFC 7112 §5: the first fragment must hold every extension header and the upper-layer
// header; `data` follows its Fragment header, whose Next Header is `nh`.
bool holds_header_chain(std::span<const uint8_t> data, uint8_t nh) {
  size_t off = 0;
  for (size_t i = 0; i < wire::kIpv6MaxExtHeaders; ++i) {
    const size_t left = data.size() - off;
    switch (nh) {
      case next::kHopByHop:
      case next::kDestOptions:
      case next::kRouting: {
        if (left < 2) return false;
        const size_t len = (size_t{data[off + 1]} + 1) * 8;
        if (left < len) return false;
        nh = data[off];
        off += len;
        continue;
      }
      case next::kFragment:
        if (left < 8) return false;
        nh = data[off];
        off += 8;
        continue;
      case next::kTcp:
        return left >= 20;  // RFC 9293 §3.1: the fixed header
      case next::kUdp:
        return left >= 8;
      case next::kIcmpv6:
        return left >= 4;  // type, code, checksum
      default:
        return true;  // No Next Header, or a protocol refused once reassembled
    }
  }
  return false;
}

IpCounter counter_for(wire::Ipv6ExtDrop d) {
  switch (d) {
    case wire::Ipv6ExtDrop::kOptionDiscard:
      return IpCounter::in6_ext_option_discard;
    case wire::Ipv6ExtDrop::kTooManyHeaders:
      return IpCounter::in6_ext_too_many;
    default:
      return IpCounter::in6_ext_truncated;
  }
}

}  // namespace

Ipv6Input::Ipv6Input(const Ipv6InputConfig& config, const Ipv6Output& output)
    : config_(config),
      output_(output),
      reassembler_(config.reassembly),
      error_limiter_(config.icmp_errors_per_second, config.icmp_error_burst) {}

bool Ipv6Input::is_local(const wire::Ipv6Addr& a) const {
  return std::find(config_.local_addresses.begin(), config_.local_addresses.end(), a) !=
         config_.local_addresses.end();
}

bool Ipv6Input::is_forwarded(const wire::Ipv6Addr& a) const {
  return std::any_of(config_.forwarded.begin(), config_.forwarded.end(),
                     [&](const IpPrefix& p) { return p.contains(a); });
}

bool Ipv6Input::accepts_multicast(const wire::Ipv6Addr& a) const {
  if (a == kAllNodes) return true;
  return std::any_of(config_.local_addresses.begin(), config_.local_addresses.end(),
                     [&](const wire::Ipv6Addr& l) { return is_solicited_node_of(a, l); });
}

size_t Ipv6Input::expire(Instant now) {
  const size_t n = reassembler_.expire(now);
  counters_.inc(IpCounter::frag6_timeout, n);
  return n;
}

size_t Ipv6Input::expire(Instant now, std::span<uint8_t> reply_buf,
                         const std::function<void(std::span<const uint8_t>)>& transmit) {
  // RFC 8200 §4.5: a train abandoned after its first fragment came is answered with Time
  // Exceeded, code 1, to that fragment's source, quoting it.
  const size_t n = reassembler_.expire(now, [&](std::span<const uint8_t> first) {
    const auto reply = make_error(first, wire::icmpv6_type::kTimeExceeded,
                                  wire::icmpv6_time::kReassembly, 0, now, reply_buf);
    if (!reply.empty() && transmit) transmit(reply);
  });
  counters_.inc(IpCounter::frag6_timeout, n);
  return n;
}

Ipv6InputResult Ipv6Input::input(std::span<const uint8_t> packet, Instant now,
                                 std::span<uint8_t> reply_buf) {
  counters_.inc(IpCounter::in6_packets);
  auto parsed = wire::Ipv6Packet::parse(packet);
  if (!parsed) {
    switch (parsed.error()) {
      case wire::ParseError::kBadVersion:
        return drop(IpCounter::in6_bad_version);
      case wire::ParseError::kBadTotalLength:
        // RFC 8200 §3: the payload length runs past what arrived.
        return drop(IpCounter::in6_bad_payload_length);
      default:
        return drop(IpCounter::in6_truncated);
    }
  }
  const wire::Ipv6Packet& ip = *parsed;
  // RFC 2675 §3: Payload Length zero with a Hop-by-Hop header announces a jumbogram, which
  // a TUN (MTU <= 65535) never carries: not supported.
  if (ip.payload_len() == 0 && ip.next_header() == next::kHopByHop &&
      packet.size() > wire::kIpv6HeaderLen) {
    return drop(IpCounter::in6_jumbogram);
  }
  // RFC 4291 §2.7: a multicast source is invalid; §2.5.2: the unspecified source is only for
  // a node without an address yet (DAD, MLD), none of which a point-to-point TUN needs;
  // §2.5.3: the loopback address never comes from outside the node.
  const wire::Ipv6Addr src = ip.src();
  if (src.is_multicast() || src.is_unspecified() || src.is_loopback()) {
    return drop(IpCounter::in6_bad_source);
  }
  // A host takes packets for its own addresses (RFC 8200 §4: extension headers are processed
  // only at the destination) and the multicast groups it belongs to.
  const wire::Ipv6Addr dst = ip.dst();
  // A forwarded destination (issue 13) passes here; deliver() keeps only its TCP.
  if (!is_local(dst) && !is_forwarded(dst) && !(dst.is_multicast() && accepts_multicast(dst))) {
    return drop(IpCounter::in6_not_for_us);
  }
  return process(ip, now, reply_buf, false);
}

Ipv6InputResult Ipv6Input::process(const wire::Ipv6Packet& ip, Instant now,
                                   std::span<uint8_t> reply_buf, bool reassembled) {
  const wire::Ipv6ExtWalk walk = wire::walk_ipv6_ext(ip);
  switch (walk.verdict) {
    case wire::Ipv6ExtVerdict::kDiscard:
      return drop(counter_for(walk.drop));
    case wire::Ipv6ExtVerdict::kParameterProblem:
      // RFC 8200 §4, §4.2, §4.4, §4.5: discard, and answer with the code and pointer.
      counters_.inc(IpCounter::in6_parameter_problem);
      return send_error(ip, walk, wire::icmpv6_type::kParameterProblem, walk.problem_code,
                        walk.problem_pointer, now, reply_buf);
    case wire::Ipv6ExtVerdict::kAccept:
      break;
  }
  if (walk.fragment) {
    // A reassembled packet holding another Fragment header is nonsense (and would recurse).
    if (reassembled) return drop(IpCounter::frag6_malformed);
    if (!walk.fragment->is_atomic()) return reassemble(ip, walk, now, reply_buf);
    // RFC 6946 §4: an atomic fragment is the whole packet; the reassembly table is untouched.
    counters_.inc(IpCounter::frag6_atomic);
  }
  return deliver(ip, walk, reply_buf);
}

Ipv6InputResult Ipv6Input::reassemble(const wire::Ipv6Packet& ip, const wire::Ipv6ExtWalk& walk,
                                      Instant now, std::span<uint8_t> reply_buf) {
  counters_.inc(IpCounter::frag6_in);
  const wire::Ipv6FragmentHeader& fh = *walk.fragment;
  // RFC 8200 §4.5, RFC 7112 §5: a first fragment without the whole header chain is
  // discarded (firewalls and this host alike could not tell what the packet is) and answered
  // with Parameter Problem code 3, pointer 0.
  if (fh.offset == 0 &&
      !holds_header_chain(ip.bytes().subspan(fh.header_offset + 8), fh.next_header)) {
    counters_.inc(IpCounter::frag6_incomplete_chain);
    return send_error(ip, walk, wire::icmpv6_type::kParameterProblem, kIncompleteHeaderChain, 0,
                      now, reply_buf);
  }
  // Trains whose time ran out go before this fragment is added; the Time Exceeded answer is
  // for expire(now, ...), which the Stack calls at next_deadline().
  counters_.inc(IpCounter::frag6_timeout, reassembler_.expire(now));
  const FragmentOutcome out = reassembler_.add(ip, fh, now);
  counters_.inc(IpCounter::frag6_evicted, out.evicted);
  switch (out.result) {
    case FragmentResult::kHeld:
      return Ipv6InputResult{.action = InputAction::kHeld};
    case FragmentResult::kOverlap:
      return drop(IpCounter::frag6_overlap);  // RFC 5722 §4: the whole train goes
    case FragmentResult::kOversize:
      return drop(IpCounter::frag6_oversize);
    case FragmentResult::kMalformed:
      return drop(IpCounter::frag6_malformed);
    case FragmentResult::kDeadTrain:
      return drop(IpCounter::frag6_dead_train);
    case FragmentResult::kTooManyTrains:
      return drop(IpCounter::frag6_too_many_trains);
    case FragmentResult::kNoMemory:
      return drop(IpCounter::frag6_no_memory);
    case FragmentResult::kComplete:
      break;
  }
  counters_.inc(IpCounter::frag6_reassembled);
  auto whole = wire::Ipv6Packet::parse(out.datagram);
  if (!whole) return drop(IpCounter::frag6_malformed);  // cannot happen: lengths were set
  return process(*whole, now, reply_buf, true);
}

Ipv6InputResult Ipv6Input::deliver(const wire::Ipv6Packet& ip, const wire::Ipv6ExtWalk& walk,
                                   std::span<uint8_t> reply_buf) {
  Ipv6InputResult r;
  r.src = ip.src();
  r.dst = ip.dst();
  r.traffic_class = ip.traffic_class();
  r.ecn = ip.ecn();
  r.flow_label = ip.flow_label();
  r.hop_limit = ip.hop_limit();
  r.payload = ip.bytes().subspan(walk.upper_offset);
  r.datagram = ip.bytes();
  // RFC 9293 §3.9.2.3 MUST-57 (and UDP alike, until groups can be joined): transport
  // segments to a multicast address are not for us; only ICMPv6 is.
  if (r.dst.is_multicast() && walk.upper_protocol != next::kIcmpv6) {
    return drop(IpCounter::in6_not_for_us);
  }
  // Forwarded prefixes count as local for TCP, UDP when asked, and ICMPv6 (errors about
  // forwarded traffic; echo requests when asked: handle_icmp()).
  if (!r.dst.is_multicast() && walk.upper_protocol != next::kTcp &&
      walk.upper_protocol != next::kIcmpv6 && !is_local(r.dst) &&
      !(walk.upper_protocol == next::kUdp && config_.forwarded_udp)) {
    return drop(IpCounter::in6_not_for_us);
  }
  switch (walk.upper_protocol) {
    case next::kTcp:
      counters_.inc(IpCounter::in6_delivered_tcp);
      r.action = InputAction::kTcp;
      return r;
    case next::kUdp:
      counters_.inc(IpCounter::in6_delivered_udp);
      r.action = InputAction::kUdp;
      return r;
    case next::kIcmpv6:
      return handle_icmp(r, reply_buf);
    default:
      // RFC 8200 §4.7: No Next Header; the walk answered every other unknown value.
      return drop(IpCounter::in6_no_next_header);
  }
}

Ipv6InputResult Ipv6Input::handle_icmp(Ipv6InputResult r, std::span<uint8_t> reply_buf) {
  auto parsed = wire::Icmpv6Packet::parse(r.payload, r.src, r.dst);
  const bool forwarded = !r.dst.is_multicast() && !is_local(r.dst);
  // To a forwarded address only errors (RFC 4443 §2.1: types below 128; about a forwarded
  // connection or flow) and, with StackConfig::forward_echo, echo requests are for us.
  if (forwarded && parsed && parsed->type() >= 128 &&
      !(parsed->type() == wire::icmpv6_type::kEchoRequest && config_.forwarded_echo)) {
    return drop(IpCounter::in6_not_for_us);
  }
  if (!parsed) {
    // RFC 4443 §2.3 and §2.4(a): a message with a bad checksum is discarded.
    return drop(parsed.error() == wire::ParseError::kBadChecksum ? IpCounter::icmp6_bad_checksum
                                                                 : IpCounter::icmp6_bad);
  }
  counters_.inc(IpCounter::icmp6_in);
  const wire::Icmpv6Packet& icmp = *parsed;
  const uint8_t type = icmp.type();
  r.payload = {};
  r.datagram = {};
  if (type == wire::icmpv6_type::kEchoRequest) {
    counters_.inc(IpCounter::icmp6_echo_requests);
    // RFC 4443 §4.2: the reply goes from the request's destination if that is unicast;
    // for a multicast one, from a unicast address of ours.
    wire::Ipv6Addr from = r.dst;
    if (from.is_multicast()) {
      if (!config_.answer_all_nodes_echo || r.dst != kAllNodes || config_.local_addresses.empty()) {
        return drop(IpCounter::icmp6_error_suppressed);
      }
      from = config_.local_addresses.front();
    }
    // RFC 4443 §4.2: identifier, sequence number and data returned unchanged.
    const auto echo = wire::Icmpv6Repr::echo_reply(icmp.identifier(), icmp.sequence(), icmp.data());
    const size_t len = Ipv6Output::kHeadroom + echo.total_len();
    if (len > reply_buf.size()) return drop(IpCounter::out6_no_room);
    echo.emit(reply_buf.subspan(Ipv6Output::kHeadroom), from, r.src);
    const size_t total =
        output_.write_header(reply_buf, echo.total_len(), from, r.src, next::kIcmpv6);
    if (total == 0) return drop(IpCounter::out6_no_room);
    counters_.inc(IpCounter::icmp6_echo_replies_sent);
    counters_.inc(IpCounter::out6_packets);
    r.action = InputAction::kReply;
    r.reply = reply_buf.first(total);
    return r;
  }
  if (is_ndp(type)) {
    // Point-to-point TUN: no addresses to resolve, no routers to learn. An Ethernet medium
    // would hand Neighbor Solicitations and Advertisements to its NDP module here (RFC 4861).
    counters_.inc(IpCounter::icmp6_ndp_ignored);
    return Ipv6InputResult{.action = InputAction::kConsumed};
  }
  if (is_mld(type)) {
    counters_.inc(IpCounter::icmp6_mld_ignored);  // no multicast listening to report
    return Ipv6InputResult{.action = InputAction::kConsumed};
  }

  switch (decode_icmpv6_error(icmp, r.src, r.icmp_error.emplace())) {
    case IcmpErrorDecode::kOk: {
      counters_.inc(IpCounter::icmp6_errors_in);
      // The quoted packet must be one we sent (RFC 5927 §4.1): from one of our addresses, or,
      // for an error sent to a forwarded address, from that address (as Ipv4Input).
      const wire::Ipv6Addr quoted_src = r.icmp_error->local_addr.v6();
      if (forwarded ? quoted_src != r.dst : !is_local(quoted_src)) {
        return drop(IpCounter::icmp6_errors_bad_quote);
      }
      r.action = r.icmp_error->protocol == wire::ipv6_next::kUdp ? InputAction::kUdpIcmpError
                                                                 : InputAction::kIcmpError;
      return r;
    }
    case IcmpErrorDecode::kBadQuote:
      counters_.inc(IpCounter::icmp6_errors_in);
      return drop(IpCounter::icmp6_errors_bad_quote);
    case IcmpErrorDecode::kNotTcp:
      counters_.inc(IpCounter::icmp6_errors_in);
      return drop(IpCounter::icmp6_errors_not_tcp);
    case IcmpErrorDecode::kSourceQuench:
    case IcmpErrorDecode::kNotAnError:
      break;
  }
  // Echo replies (we send no requests) and informational messages of unknown type (RFC 4443
  // §2.4(b): silently discarded).
  counters_.inc(IpCounter::icmp6_other_ignored);
  return Ipv6InputResult{.action = InputAction::kConsumed};
}

std::span<const uint8_t> Ipv6Input::make_error(std::span<const uint8_t> invoking, uint8_t type,
                                               uint8_t code, uint32_t param, Instant now,
                                               std::span<uint8_t> reply_buf) {
  // The invoking packet may be a quote cut short (a timed-out first fragment is whole, a
  // caller's datagram too): read it leniently.
  auto parsed = wire::Ipv6Packet::parse_quoted(invoking);
  if (!parsed) {
    counters_.inc(IpCounter::icmp6_error_suppressed);
    return {};
  }
  return build_error(*parsed, wire::walk_ipv6_ext(*parsed), type, code, param, now, reply_buf);
}

Ipv6InputResult Ipv6Input::send_error(const wire::Ipv6Packet& offending,
                                      const wire::Ipv6ExtWalk& walk, uint8_t type, uint8_t code,
                                      uint32_t param, Instant now, std::span<uint8_t> reply_buf) {
  const auto reply = build_error(offending, walk, type, code, param, now, reply_buf);
  if (reply.empty()) return {};
  Ipv6InputResult r;
  r.action = InputAction::kReply;
  r.src = offending.src();
  r.dst = offending.dst();
  r.reply = reply;
  return r;
}

std::span<const uint8_t> Ipv6Input::build_error(const wire::Ipv6Packet& offending,
                                                const wire::Ipv6ExtWalk& walk, uint8_t type,
                                                uint8_t code, uint32_t param, Instant now,
                                                std::span<uint8_t> reply_buf) {
  // RFC 4443 §2.4(e): never about an error, a redirect, most multicast destinations, or a
  // source that is not one node.
  if (!wire::icmpv6_error_allowed(offending, walk, type, code)) {
    counters_.inc(IpCounter::icmp6_error_suppressed);
    return {};
  }
  // RFC 4443 §2.2: from the address the packet was sent to if that is ours; an error about
  // a multicast packet (Packet Too Big, Parameter Problem code 2) from a unicast of ours.
  wire::Ipv6Addr from = offending.dst();
  if (!is_local(from) && !is_forwarded(from)) {
    if (config_.local_addresses.empty()) {
      counters_.inc(IpCounter::icmp6_error_suppressed);
      return {};
    }
    from = config_.local_addresses.front();
  }
  // RFC 4443 §2.4(f): errors are rate-limited (a token bucket, as for ICMPv4).
  if (!error_limiter_.allow(now)) {
    counters_.inc(IpCounter::icmp6_error_rate_limited);
    return {};
  }
  // RFC 4443 §2.4(c): as much of the invoking packet as fits in the minimum MTU.
  const size_t room = std::min(wire::kIpv6MinMtu, reply_buf.size());
  const size_t overhead = Ipv6Output::kHeadroom + wire::kIcmpv6HeaderLen;
  const size_t quote_len =
      std::min(offending.bytes().size(), room > overhead ? room - overhead : 0);
  if (quote_len < std::min(offending.bytes().size(), wire::kIpv6HeaderLen + 8)) {
    counters_.inc(IpCounter::out6_no_room);
    return {};
  }
  wire::Icmpv6Repr e;
  e.type = type;
  e.code = code;
  if (type == wire::icmpv6_type::kPacketTooBig) e.mtu = param;
  if (type == wire::icmpv6_type::kParameterProblem) e.pointer = param;
  e.data = offending.bytes().first(quote_len);
  const wire::Ipv6Addr to = offending.src();
  e.emit(reply_buf.subspan(Ipv6Output::kHeadroom), from, to);
  const size_t total = output_.write_header(reply_buf, e.total_len(), from, to, next::kIcmpv6);
  if (total == 0) {
    counters_.inc(IpCounter::out6_no_room);
    return {};
  }
  switch (type) {
    case wire::icmpv6_type::kDestUnreachable:
      counters_.inc(IpCounter::icmp6_unreachable_sent);
      break;
    case wire::icmpv6_type::kPacketTooBig:
      counters_.inc(IpCounter::icmp6_packet_too_big_sent);
      break;
    case wire::icmpv6_type::kTimeExceeded:
      counters_.inc(IpCounter::icmp6_time_exceeded_sent);
      break;
    default:
      counters_.inc(IpCounter::icmp6_param_problem_sent);
      break;
  }
  counters_.inc(IpCounter::out6_packets);
  return reply_buf.first(total);
}

}  // namespace utcp::ip
