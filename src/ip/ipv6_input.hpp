// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The receive side of IPv6 (RFC 8200) and ICMPv6 (RFC 4443): one call per received packet
// tells the Stack what to do with it, as Ipv4Input does for IPv4. Sans-IO: time comes in,
// and an answer (echo reply, ICMPv6 error) is built in a buffer the caller gives and then
// transmits.
//
//   auto r = input6.input(packet, now, reply_buf);
//   switch (r.action) {
//     case InputAction::kTcp: stack.on_segment(r.src, r.dst, r.ecn, r.payload); break;
//     case InputAction::kUdp: stack.on_datagram(r.src, r.dst, r.payload, r.datagram); break;
//     case InputAction::kIcmpError: stack.on_icmp_error(*r.icmp_error); break;
//     case InputAction::kReply: device.transmit_one(r.reply, now); break;
//     default: break;  // dropped, consumed or held for reassembly; counters say why
//   }
//   ...at input6.next_deadline(): input6.expire(now, buf, transmit);  // Time Exceeded
//
// The medium is a point-to-point TUN: no Neighbor Discovery (RFC 4861) or MLD is needed, and
// their messages are counted and dropped. An Ethernet medium would hand them to an NDP module
// at the place marked in handle_icmp().
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "ip/fragment_reassembler.hpp"
#include "ip/icmp_error.hpp"
#include "ip/icmp_rate_limiter.hpp"
#include "ip/input_action.hpp"
#include "ip/ip_counters.hpp"
#include "ip/ipv6_output.hpp"
#include "utcp/address.hpp"
#include "utcp/time.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv6.hpp"
#include "wire/ipv6_ext.hpp"

namespace utcp::ip {

struct Ipv6InputConfig {
  std::vector<wire::Ipv6Addr> local_addresses;  // packets to any other unicast are dropped
  // Forwarding (issue 13): TCP to an address in these prefixes is delivered as if local, and
  // so are ICMPv6 errors quoting a packet sent from that address (RFC 5927 §4.1); other upper
  // protocols to them are not for us.
  std::vector<IpPrefix> forwarded;
  bool forwarded_echo = false;  // answer ICMPv6 echo requests to forwarded addresses too
  bool forwarded_udp = false;   // deliver UDP to forwarded addresses too
  // The IPv4 bounds, with RFC 8200 §4.5's 60-second reassembly timeout.
  ReassemblyConfig reassembly{.timeout = std::chrono::seconds(60)};
  uint32_t icmp_errors_per_second = 100;  // RFC 4443 §2.4(f); 0: never send ICMPv6 errors
  uint32_t icmp_error_burst = 10;
  // Answer echo requests to the all-nodes address ff02::1 (RFC 4443 §4.1 allows replies to
  // multicast echo; Linux answers them), from our first local address.
  bool answer_all_nodes_echo = true;
};

struct Ipv6InputResult {
  InputAction action = InputAction::kDrop;
  wire::Ipv6Addr src;
  wire::Ipv6Addr dst;
  uint8_t traffic_class = 0;  // DSCP << 2 | ECN (RFC 8200 §7)
  uint8_t ecn = 0;            // RFC 3168 codepoint: the low two bits of traffic_class
  uint32_t flow_label = 0;    // 20 bits (RFC 6437)
  uint8_t hop_limit = 0;
  // kTcp, kUdp: the upper-layer segment (after any extension headers), inside the packet or
  // the reassembly buffer; valid until the next call to input().
  std::span<const uint8_t> payload;
  // kTcp, kUdp: the whole IPv6 packet the payload came in (reassembled if it was fragmented),
  // for make_error() (e.g. a UDP datagram to a closed port).
  std::span<const uint8_t> datagram;
  std::optional<IcmpError> icmp_error;  // kIcmpError, kUdpIcmpError only (as Ipv4Input's)
  std::span<const uint8_t> reply;       // kReply: a whole IPv6 packet inside reply_buf
};

class Ipv6Input {
 public:
  Ipv6Input(const Ipv6InputConfig& config, const Ipv6Output& output);

  // reply_buf bounds the size of any answer; an answer that does not fit is dropped and
  // counted. An echo reply may be larger than the link MTU: the caller fragments it
  // (ip::Ipv6Fragmenter), as RFC 8200 §4.5 lets the source do.
  Ipv6InputResult input(std::span<const uint8_t> packet, Instant now, std::span<uint8_t> reply_buf);

  // Frees reassembly trains that timed out; call at next_deadline(). RFC 8200 §4.5: for each
  // whose first fragment had arrived, an ICMPv6 Time Exceeded (code 1) quoting it is built
  // in reply_buf and handed to `transmit` (rate-limited like every error). Returns how many
  // incomplete trains timed out. Each answer lives in reply_buf only during its `transmit`
  // call (the next one overwrites it).
  size_t expire(Instant now, std::span<uint8_t> reply_buf,
                const std::function<void(std::span<const uint8_t>)>& transmit);
  size_t expire(Instant now);  // the same without answers
  Instant next_deadline() const { return reassembler_.next_deadline(); }

  // An ICMPv6 error about `invoking` (a whole packet we received, e.g. Ipv6InputResult::
  // datagram) built in reply_buf: `param` is the Packet Too Big MTU or the Parameter Problem
  // pointer. It quotes as much of the packet as fits in 1280 bytes (RFC 4443 §2.4(c)) and
  // is subject to §2.4(e) (never about an error, a multicast destination, ...) and the rate
  // limit (§2.4(f)). Returns the packet to transmit, or empty (and counted) when none may go.
  std::span<const uint8_t> make_error(std::span<const uint8_t> invoking, uint8_t type, uint8_t code,
                                      uint32_t param, Instant now, std::span<uint8_t> reply_buf);

  bool is_local(const wire::Ipv6Addr& a) const;
  bool is_forwarded(const wire::Ipv6Addr& a) const;
  const IpCounters& counters() const { return counters_; }
  const FragmentReassembler& reassembler() const { return reassembler_; }
  const Ipv6InputConfig& config() const { return config_; }

 private:
  Ipv6InputResult process(const wire::Ipv6Packet& ip, Instant now, std::span<uint8_t> reply_buf,
                          bool reassembled);
  Ipv6InputResult deliver(const wire::Ipv6Packet& ip, const wire::Ipv6ExtWalk& walk,
                          std::span<uint8_t> reply_buf);
  Ipv6InputResult reassemble(const wire::Ipv6Packet& ip, const wire::Ipv6ExtWalk& walk, Instant now,
                             std::span<uint8_t> reply_buf);
  Ipv6InputResult handle_icmp(Ipv6InputResult r, std::span<uint8_t> reply_buf);
  Ipv6InputResult send_error(const wire::Ipv6Packet& offending, const wire::Ipv6ExtWalk& walk,
                             uint8_t type, uint8_t code, uint32_t param, Instant now,
                             std::span<uint8_t> reply_buf);
  std::span<const uint8_t> build_error(const wire::Ipv6Packet& offending,
                                       const wire::Ipv6ExtWalk& walk, uint8_t type, uint8_t code,
                                       uint32_t param, Instant now, std::span<uint8_t> reply_buf);
  bool accepts_multicast(const wire::Ipv6Addr& a) const;
  Ipv6InputResult drop(IpCounter why) {
    counters_.inc(why);
    return {};
  }

  Ipv6InputConfig config_;
  const Ipv6Output& output_;
  FragmentReassembler reassembler_;
  IcmpRateLimiter error_limiter_;
  IpCounters counters_;
};

}  // namespace utcp::ip
