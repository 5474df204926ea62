// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// SYN option negotiation: what we offer, what both sides agreed on, and the sizes that follow
// (RFC 9293 §3.7.1, RFC 6691, RFC 7323 §2-3, RFC 2018 §2 SACK-permitted).
#include <cstddef>
#include <cstdint>

#include "utcp/tcp_config.hpp"
#include "wire/tcp.hpp"

namespace utcp::tcp {

inline constexpr size_t kTimestampOptionLen = 12;  // 10 bytes padded to 12 (RFC 7323 App. A)
inline constexpr uint8_t kMaxWindowShift = 14;     // RFC 7323 §2.3

// The MSS we announce: the configured value, but never more than the path MTU allows.
uint16_t announced_mss(const Config& cfg);

// Smallest shift that lets a 16-bit window field express the whole receive buffer.
uint8_t window_shift_for(size_t recv_buffer);

// Options on our SYN (active open): MSS, and window scale / timestamps / SACK-permitted if
// configured.
wire::TcpOptions syn_options(const Config& cfg, uint8_t rcv_wscale, uint32_t tsval);

struct Negotiated {
  uint16_t peer_mss = 536;
  bool window_scaling = false;
  uint8_t snd_wscale = 0;  // the peer's shift, clamped to 14 (RFC 7323 §2.3)
  bool timestamps = false;
  bool sack = false;  // RFC 2018 §2: both SYNs carried SACK-permitted
};

// Combines our configuration with the options on the peer's SYN. Each option is in use only when
// both SYNs carry it (RFC 7323 §2.2, §3.2).
Negotiated negotiate(const Config& cfg, const wire::TcpOptions& peer_syn);

// Options on our SYN-ACK (passive open): only what the peer offered is echoed.
wire::TcpOptions syn_ack_options(const Config& cfg, const Negotiated& n, uint8_t rcv_wscale,
                                 uint32_t tsval, uint32_t tsecr);

// RFC 9293 §3.7.1 / RFC 6691: Eff.snd.MSS = min(SendMSS + 20, MMS_S) - TCP header - IP options,
// where TCP options (timestamps) come out of the payload.
uint32_t effective_send_mss(uint16_t peer_mss, const Config& cfg, bool timestamps);

}  // namespace utcp::tcp
