// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// RFC 9293 §3.6.1 (MAY-2, SHLD-4) and RFC 6191: may a new SYN reopen a connection that is in
// TIME-WAIT? Yes when it cannot be an old duplicate: its TSval is newer than the last one seen
// from the peer, or (equal TSval, or no timestamps) its sequence number is above RCV.NXT.
// Linux decides the same way (tcp_timewait_state_process). Anything else gets the ordinary
// TIME-WAIT answer, an ACK.
#include "tcp/tcb.hpp"
#include "utcp/time.hpp"
#include "wire/seq_num.hpp"
#include "wire/tcp.hpp"

namespace utcp::tcp {

// `tcb` is the TIME-WAIT connection's; `syn` a segment with SYN and neither ACK nor RST.
bool syn_may_reopen_time_wait(const Tcb& tcb, const wire::TcpRepr& syn, Instant now);

// The ISS for the new incarnation: above anything the old one sent, so its segments cannot be
// taken for old duplicates (RFC 1122 §4.2.2.13; Linux picks SND.NXT + 65537 as well).
inline wire::SeqNum time_wait_successor_iss(const Tcb& tcb) {
  return tcb.snd_max + 65537u;
}

}  // namespace utcp::tcp
