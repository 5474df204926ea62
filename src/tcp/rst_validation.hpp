// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Blind in-window attack defences (RFC 5961): what to do with a RST, a SYN or an ACK that
// arrives in a synchronized state.
#include <cstdint>

#include "wire/seq_num.hpp"

namespace utcp::tcp {

enum class RstVerdict : uint8_t {
  kReset,         // SEG.SEQ == RCV.NXT exactly: tear the connection down (RFC 5961 §3.2)
  kChallengeAck,  // in the window but not exact: answer with a challenge ACK
  kDrop,          // outside the window: silently discard
};

// RFC 5961 §3.2 for a RST in a synchronized state. `rcv_wnd` is the window we offered; a zero
// window accepts only the exact RCV.NXT.
RstVerdict classify_rst(wire::SeqNum seg_seq, wire::SeqNum rcv_nxt, uint32_t rcv_wnd);

enum class AckVerdict : uint8_t {
  kAcceptable,  // (SND.UNA - MAX.SND.WND) <= SEG.ACK <= SND.NXT
  kTooOld,      // below that: RFC 5961 §5.2 says discard and send an ACK
  kTooNew,      // acknowledges something not yet sent: RFC 9293 §3.10.7.4 ACK and discard
};

// RFC 5961 §5.2 ACK acceptability (with MAX.SND.WND), for synchronized states.
AckVerdict classify_ack(wire::SeqNum seg_ack, wire::SeqNum snd_una, wire::SeqNum snd_nxt,
                        uint32_t max_snd_wnd);

}  // namespace utcp::tcp
