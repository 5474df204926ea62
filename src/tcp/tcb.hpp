// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The transmission control block: the RFC 9293 §3.3.1 sequence variables plus what the RFC 7323
// options and RFC 5961 add. Plain data; the sender, receiver and connection update it.
#include <cstdint>

#include "utcp/time.hpp"
#include "wire/seq_num.hpp"

namespace utcp::tcp {

struct Tcb {
  using SeqNum = wire::SeqNum;

  // Send sequence space (RFC 9293 §3.3.1).
  SeqNum iss;
  SeqNum snd_una;
  SeqNum snd_nxt;  // next sequence number to send (rewound to SND.UNA on a retransmission timeout)
  SeqNum snd_max;  // one past the highest sequence number ever sent: the RFC's SND.NXT for ACKs
  uint32_t snd_wnd = 0;  // scaled
  uint32_t max_snd_wnd =
      0;  // RFC 5961 §5.2 MAX.SND.WND; also the SWS "maximum window" (§3.8.6.2.1)
  SeqNum snd_wl1;
  SeqNum snd_wl2;
  SeqNum snd_up;  // one past the last urgent byte we sent (RFC 6093); see snd_up_valid

  // Receive sequence space.
  SeqNum irs;
  SeqNum rcv_nxt;
  SeqNum rcv_adv;  // right edge of the window we offered; never moves left (RFC 9293 §3.8.6.2.2)
  SeqNum rcv_up;   // one past the last urgent byte the peer marked; see rcv_up_valid
  SeqNum last_ack_sent;  // RFC 7323 §4.3 Last.ACK.sent

  // Negotiated options (RFC 7323, RFC 9293 §3.7.1).
  uint8_t snd_wscale = 0;  // shift applied to the peer's window field
  uint8_t rcv_wscale = 0;  // shift applied to ours
  bool ts_enabled = false;
  bool sack_enabled = false;  // both SYNs carried SACK-permitted (RFC 2018 §2)
  uint32_t ts_recent = 0;
  Instant ts_recent_time{};
  uint32_t ts_offset = 0;   // per-connection random offset added to our timestamp clock
  uint16_t peer_mss = 536;  // RFC 9293 §3.7.1: 536 when the peer sends no MSS option
  // Whether snd_up / rcv_up mean anything (here, not beside them: no padding in the TCB).
  bool snd_up_valid = false;
  bool rcv_up_valid = false;
};

}  // namespace utcp::tcp
