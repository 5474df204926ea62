// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The receive side of IPv4 (RFC 791, RFC 1122 §3.2) and ICMP (RFC 792, RFC 1122 §3.2.2):
// one call per received packet tells the Stack what to do with it. Sans-IO: time comes in,
// and an answer (echo reply, protocol unreachable) is built in a buffer the caller gives
// and then transmits.
//
//   auto r = input.input(packet, now, reply_buf);
//   switch (r.action) {
//     case InputAction::kTcp: stack.on_segment(r.src, r.dst, r.ecn, r.payload); break;
//     case InputAction::kIcmpError: stack.on_icmp_error(*r.icmp_error); break;
//     case InputAction::kUdp:  // no socket: input.port_unreachable(r.datagram, now, buf)
//     case InputAction::kReply: device.transmit_one(r.reply, now); break;
//     default: break;  // dropped, consumed or held for reassembly; counters say why
//   }
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "ip/fragment_reassembler.hpp"
#include "ip/icmp_error.hpp"
#include "ip/icmp_rate_limiter.hpp"
#include "ip/input_action.hpp"
#include "ip/ip_counters.hpp"
#include "ip/ipv4_output.hpp"
#include "utcp/address.hpp"
#include "utcp/time.hpp"
#include "wire/ipv4.hpp"

namespace utcp::ip {

struct Ipv4InputConfig {
  std::vector<wire::Ipv4Addr> local_addresses;  // datagrams to any other address are dropped
  // Forwarding (issue 13): TCP to an address in these prefixes is delivered as if local (the
  // Stack terminates it for the application), and so are ICMP errors quoting a datagram sent
  // from that address (RFC 5927 §4.1); other protocols to them are not for us.
  std::vector<IpPrefix> forwarded;
  bool forwarded_echo = false;  // answer ICMP echo requests to forwarded addresses too
  bool forwarded_udp = false;   // deliver UDP to forwarded addresses too (with udp)
  ReassemblyConfig reassembly;
  uint32_t icmp_errors_per_second = 100;  // 0: never send ICMP errors
  uint32_t icmp_error_burst = 10;
  // Deliver UDP datagrams (kUdp) and ICMP errors about ours (kUdpIcmpError). Off, UDP is an
  // unknown protocol answered with protocol unreachable (a host without UDP).
  bool udp = false;
};

struct InputResult {
  InputAction action = InputAction::kDrop;
  wire::Ipv4Addr src;
  wire::Ipv4Addr dst;
  uint8_t ecn = 0;  // RFC 3168 codepoint of the datagram
  uint8_t tos = 0;  // the whole TOS byte (DSCP << 2 | ECN), for UDP's receivers
  // kTcp: the TCP segment, inside the packet or the reassembly buffer; valid until the next
  // call to input().
  std::span<const uint8_t> payload;
  // kUdp, kTcp: the whole IPv4 datagram (header and payload), to quote if no socket takes it.
  std::span<const uint8_t> datagram;
  // kIcmpError, kUdpIcmpError only: built when an ICMP error arrives, so the common
  // (TCP) result initialises no addresses for it (docs/performance.md).
  std::optional<IcmpError> icmp_error;
  std::span<const uint8_t> reply;  // kReply: a whole IPv4 packet inside reply_buf
};

class Ipv4Input {
 public:
  Ipv4Input(const Ipv4InputConfig& config, Ipv4Output& output);

  // reply_buf bounds the size of any answer; an answer that does not fit is dropped and
  // counted. An echo reply may be larger than the link MTU (it is sent without DF): the
  // caller fragments what exceeds it (ip::Ipv4Fragmenter).
  InputResult input(std::span<const uint8_t> packet, Instant now, std::span<uint8_t> reply_buf);

  // RFC 1122 §4.1.3.1: the answer to a kUdp datagram no socket wanted, a port unreachable
  // quoting it (rate-limited, and never about broadcasts, non-first fragments or non-unicast
  // sources, RFC 1122 §3.2.2). kReply with the packet in reply_buf, or kDrop (counted).
  InputResult port_unreachable(std::span<const uint8_t> datagram, Instant now,
                               std::span<uint8_t> reply_buf);

  // RFC 1122 §3.2.2.1: Destination Unreachable with `code` quoting `datagram` (a whole IPv4
  // packet we received, to one of our or a forwarded address), rate-limited like every error.
  InputResult dest_unreachable(std::span<const uint8_t> datagram, uint8_t code, Instant now,
                               std::span<uint8_t> reply_buf);

  // Frees reassembly trains that timed out; call at next_deadline().
  void expire(Instant now);
  Instant next_deadline() const { return reassembler_.next_deadline(); }

  bool is_local(wire::Ipv4Addr a) const;
  bool is_forwarded(wire::Ipv4Addr a) const;
  bool forwarded_protocol(uint8_t protocol) const;
  const IpCounters& counters() const { return counters_; }
  const FragmentReassembler& reassembler() const { return reassembler_; }

 private:
  InputResult deliver(const wire::Ipv4Packet& ip, Instant now, std::span<uint8_t> reply_buf);
  InputResult reassemble(const wire::Ipv4Packet& ip, Instant now, std::span<uint8_t> reply_buf);
  InputResult handle_icmp(const wire::Ipv4Packet& ip, InputResult r, std::span<uint8_t> reply_buf);
  InputResult send_error(const wire::Ipv4Packet& offending, uint8_t type, uint8_t code, Instant now,
                         std::span<uint8_t> reply_buf,
                         IpCounter sent = IpCounter::icmp_unreachable_sent);
  bool may_send_error(const wire::Ipv4Packet& offending) const;
  InputResult drop(IpCounter why) {
    counters_.inc(why);
    return {};
  }

  Ipv4InputConfig config_;
  Ipv4Output& output_;
  FragmentReassembler reassembler_;
  IcmpRateLimiter error_limiter_;
  IpCounters counters_;
};

}  // namespace utcp::ip
