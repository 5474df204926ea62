// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/options_negotiation.hpp"

#include <algorithm>

namespace utcp::tcp {

uint16_t announced_mss(const Config& cfg) {
  // RFC 9293 §3.7.1: the MSS we can receive is the MTU less fixed IP and TCP headers.
  const size_t ip = cfg.ip_header_len;
  const size_t from_mtu =
      cfg.path_mtu > ip + wire::kTcpHeaderMin ? cfg.path_mtu - ip - wire::kTcpHeaderMin : 536;
  return static_cast<uint16_t>(std::min<size_t>(cfg.mss, from_mtu));
}

uint8_t window_shift_for(size_t recv_buffer) {
  uint8_t shift = 0;
  while (shift < kMaxWindowShift && (recv_buffer >> shift) > 0xffff) ++shift;
  return shift;
}

wire::TcpOptions syn_options(const Config& cfg, uint8_t rcv_wscale, uint32_t tsval) {
  wire::TcpOptions o;
  o.mss = announced_mss(cfg);
  if (cfg.window_scaling) o.window_scale = rcv_wscale;
  if (cfg.timestamps) o.timestamps = wire::TcpTimestamps{tsval, 0};  // RFC 7323 §3.2: TSecr 0
  o.sack_permitted = cfg.sack;                                       // RFC 2018 §2: only on a SYN
  return o;
}

Negotiated negotiate(const Config& cfg, const wire::TcpOptions& peer_syn) {
  Negotiated n;
  // RFC 9293 §3.7.1 (MUST-15): without an MSS option assume 536 over IPv4, 1220 over IPv6
  // (its 1280-byte minimum MTU less 60).
  const uint16_t default_mss = cfg.ip_header_len == 40 ? 1220 : 536;
  n.peer_mss = peer_syn.mss.value_or(default_mss);
  if (n.peer_mss == 0) n.peer_mss = default_mss;
  if (cfg.window_scaling && peer_syn.window_scale) {
    n.window_scaling = true;
    // RFC 7323 §2.3: a shift above 14 is treated as 14.
    n.snd_wscale = std::min<uint8_t>(*peer_syn.window_scale, kMaxWindowShift);
  }
  n.timestamps = cfg.timestamps && peer_syn.timestamps.has_value();
  n.sack = cfg.sack && peer_syn.sack_permitted;
  return n;
}

wire::TcpOptions syn_ack_options(const Config& cfg, const Negotiated& n, uint8_t rcv_wscale,
                                 uint32_t tsval, uint32_t tsecr) {
  wire::TcpOptions o;
  o.mss = announced_mss(cfg);
  // RFC 7323 §2.2: send Window Scale in a SYN-ACK only if it was in the SYN.
  if (n.window_scaling) o.window_scale = rcv_wscale;
  if (n.timestamps) o.timestamps = wire::TcpTimestamps{tsval, tsecr};
  o.sack_permitted = n.sack;  // RFC 2018 §2: SACK-permitted in a SYN-ACK only if the SYN had it
  return o;
}

uint32_t effective_send_mss(uint16_t peer_mss, const Config& cfg, bool timestamps) {
  // RFC 9293 §3.7.1: MMS_S is the path MTU less the IP header (of the connection's family).
  const uint32_t mms_s = cfg.path_mtu > cfg.ip_header_len ? cfg.path_mtu - cfg.ip_header_len : 68;
  uint32_t eff = std::min<uint32_t>(uint32_t{peer_mss} + wire::kTcpHeaderMin, mms_s);
  eff = eff > wire::kTcpHeaderMin ? eff - wire::kTcpHeaderMin : 1;
  eff = std::min<uint32_t>(eff, cfg.mss);
  // RFC 6691: the MSS excludes options, so option bytes come out of each segment's payload.
  const uint32_t opt = timestamps ? kTimestampOptionLen : 0;
  return eff > opt + 8 ? eff - opt : 8;
}

}  // namespace utcp::tcp
