// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/rst_validation.hpp"

namespace utcp::tcp {

RstVerdict classify_rst(wire::SeqNum seg_seq, wire::SeqNum rcv_nxt, uint32_t rcv_wnd) {
  // RFC 5961 §3.2: only an exact match resets; anything else in the window gets a challenge.
  if (seg_seq == rcv_nxt) return RstVerdict::kReset;
  if (seg_seq.in_window(rcv_nxt, rcv_wnd)) return RstVerdict::kChallengeAck;
  return RstVerdict::kDrop;
}

AckVerdict classify_ack(wire::SeqNum seg_ack, wire::SeqNum snd_una, wire::SeqNum snd_nxt,
                        uint32_t max_snd_wnd) {
  if (seg_ack > snd_nxt) return AckVerdict::kTooNew;
  // RFC 5961 §5.2: acceptable iff (SND.UNA - MAX.SND.WND) <= SEG.ACK <= SND.NXT.
  if (seg_ack < snd_una - max_snd_wnd) return AckVerdict::kTooOld;
  return AckVerdict::kAcceptable;
}

}  // namespace utcp::tcp
