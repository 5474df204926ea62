// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Explicit Congestion Notification for one connection (RFC 3168 §6.1): negotiation on the
// SYN/SYN-ACK, which outgoing segments carry ECT(0), the receiver's ECE echo until CWR, and the
// sender's once-per-window reaction with CWR on the next new data segment.
#include <cstdint>

#include "wire/seq_num.hpp"

namespace utcp::tcp {

// IP header ECN field codepoints (RFC 3168 §5).
enum class EcnCodepoint : uint8_t { kNotEct = 0, kEct1 = 1, kEct0 = 2, kCe = 3 };

class EcnState {
 public:
  explicit EcnState(bool enabled = false) : enabled_(enabled) {}

  bool enabled() const { return enabled_; }
  bool negotiated() const { return negotiated_; }

  // RFC 3168 §6.1.1: an ECN-setup SYN carries ECE and CWR.
  uint8_t syn_flags() const;
  // RFC 3168 §6.1.1: the passive side answers an ECN-setup SYN with ECE alone (and negotiates).
  void on_syn_received(uint8_t flags);
  uint8_t syn_ack_flags() const;
  // The active side: ECN is on only if the SYN-ACK has ECE and not CWR.
  void on_syn_ack_received(uint8_t flags);

  // Codepoint for an outgoing segment (§6.1.2 new data: ECT(0); §6.1.4 pure ACKs, §6.1.5
  // retransmissions, §6.1.6 window probes and SYNs: not-ECT).
  EcnCodepoint codepoint(bool has_data, bool retransmission, bool probe) const;

  // Receiver side (§6.1.3): a data segment arrived with this IP codepoint and TCP flags.
  void on_data_received(EcnCodepoint ip, uint8_t tcp_flags);
  // ECE on every ACK we send while set.
  bool ece_pending() const { return ece_pending_; }

  // Sender side (§6.1.2): an ACK with ECE arrived when SND.UNA is `snd_una` and SND.MAX is
  // `snd_max`. Returns true when the window must be reduced now (at most once per window).
  bool on_ece_received(wire::SeqNum snd_una, wire::SeqNum snd_max);
  // Any window reduction (loss or RTO too) makes the next new data segment carry CWR, and
  // counts as this window's reaction (§6.1.2: one reduction per window of data).
  void on_window_reduced(wire::SeqNum snd_max);
  // Flags to add to an outgoing segment; call commit_cwr() once a new data segment carried it.
  bool cwr_pending() const { return cwr_pending_; }
  void commit_cwr() { cwr_pending_ = false; }

  uint32_t ce_received() const { return ce_received_; }
  uint32_t ece_reactions() const { return ece_reactions_; }

 private:
  bool enabled_;
  bool negotiated_ = false;
  bool peer_setup_syn_ = false;
  bool ece_pending_ = false;
  bool cwr_pending_ = false;
  bool reacted_ = false;
  wire::SeqNum react_end_;  // no second reaction until SND.UNA passes this
  uint32_t ce_received_ = 0;
  uint32_t ece_reactions_ = 0;
};

}  // namespace utcp::tcp
