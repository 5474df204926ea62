// SPDX-License-Identifier: BSD-2-Clause
#include "stack/tcp_demux.hpp"

#include "wire/tcp.hpp"

namespace utcp::stack {

using namespace wire::tcp_flag;

DemuxVerdict demux_tcp(const DemuxFacts& f) {
  const bool syn = (f.flags & kSyn) != 0;
  if (f.connection) {
    // RFC 9293 §3.6.1 (MAY-2, SHLD-4), RFC 6191: a SYN that cannot be an old duplicate ends
    // TIME-WAIT and starts a new incarnation through the listener, as in Linux.
    if (syn && f.listener && f.time_wait_reopenable) return DemuxVerdict::kReopenTimeWait;
    return DemuxVerdict::kDeliver;
  }
  if (f.pending) {
    // Nothing has been answered for a pending request, so only a SYN (its retransmission)
    // or a RST (the peer gave up) mean anything; anything else is dropped unanswered.
    if (f.flags & kRst) return DemuxVerdict::kCancelRequest;
    if (syn && !(f.flags & kAck)) return DemuxVerdict::kAbsorbSyn;
    return DemuxVerdict::kDrop;
  }
  // RFC 9293 §3.10.7.2 third (LISTEN, a SYN): a forwarded destination listens on every port,
  // but the application decides before the SYN-ACK.
  if (f.forwarded && syn && !(f.flags & (kAck | kRst))) return DemuxVerdict::kForward;
  if (f.listener && syn && !(f.flags & (kAck | kRst))) return DemuxVerdict::kToListener;
  // RFC 9293 §3.10.7.2 fourth: other text or control at a listener (no SYN, ACK or RST) is
  // dropped.
  if (f.listener && !(f.flags & (kSyn | kAck | kRst))) return DemuxVerdict::kDrop;
  // RFC 9293 §3.10.7.1 first (and §3.10.7.2 first): an incoming RST is discarded.
  if (f.flags & kRst) return DemuxVerdict::kDrop;
  // RFC 9293 §3.10.7.1 (CLOSED) and §3.10.7.2 second (an ACK at a listener): answer with RST.
  return DemuxVerdict::kReset;
}

}  // namespace utcp::stack
