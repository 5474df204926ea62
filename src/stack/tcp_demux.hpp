// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Where an arriving TCP segment goes, decided from what the socket table knows about its
// 4-tuple and port, and from its flags: sans-IO and pure, so every rule is tested without a
// stack. The caller looks the facts up, acts on the verdict, and counts.
#include <cstdint>

namespace utcp::stack {

enum class DemuxVerdict : uint8_t {
  kDeliver,         // to the connection that owns the 4-tuple
  kReopenTimeWait,  // ends that connection's TIME-WAIT; the SYN goes to the listener
  kToListener,      // a pure SYN for a listening port: a new passive open
  kReset,           // nobody owns it: answer with a RST (tcp::reset_for_unmatched)
  kDrop,            // nobody owns it and no answer is due
  kForward,         // a pure SYN for a forwarded destination: a new connection request
  kAbsorbSyn,       // a SYN again for a pending request: remembered, not answered
  kCancelRequest,   // a RST for a pending request: the peer gave up
};

struct DemuxFacts {
  bool connection = false;  // a connection owns the 4-tuple
  // That connection is in TIME-WAIT and this SYN may end it (RFC 6191,
  // tcp::syn_may_reopen_time_wait); only looked at for a SYN to a listening port.
  bool time_wait_reopenable = false;
  bool listener = false;  // a listener owns the destination port
  // Forwarding (issue 13): the destination is a forwarded one (not the stack's own address;
  // listeners never see it), and a connection request is pending for the 4-tuple.
  bool forwarded = false;
  bool pending = false;
  uint8_t flags = 0;  // the segment's TCP flags (wire::tcp_flag)
};

DemuxVerdict demux_tcp(const DemuxFacts& facts);

}  // namespace utcp::stack
