// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/ecn.hpp"

#include "wire/tcp.hpp"

namespace utcp::tcp {

namespace flag = wire::tcp_flag;

uint8_t EcnState::syn_flags() const {
  return enabled_ ? (flag::kEce | flag::kCwr) : 0;
}

void EcnState::on_syn_received(uint8_t flags) {
  peer_setup_syn_ = (flags & (flag::kEce | flag::kCwr)) == (flag::kEce | flag::kCwr);
  negotiated_ = enabled_ && peer_setup_syn_;
}

uint8_t EcnState::syn_ack_flags() const {
  return negotiated_ ? flag::kEce : 0;
}

void EcnState::on_syn_ack_received(uint8_t flags) {
  // RFC 3168 §6.1.1: a SYN-ACK with both ECE and CWR is not an ECN-setup SYN-ACK.
  negotiated_ = enabled_ && (flags & flag::kEce) != 0 && (flags & flag::kCwr) == 0;
}

EcnCodepoint EcnState::codepoint(bool has_data, bool retransmission, bool probe) const {
  if (!negotiated_ || !has_data || retransmission || probe) return EcnCodepoint::kNotEct;
  return EcnCodepoint::kEct0;  // RFC 3168 §6.1.2: ECT(0) when one codepoint suffices
}

void EcnState::on_data_received(EcnCodepoint ip, uint8_t tcp_flags) {
  if (!negotiated_) return;
  // RFC 3168 §6.1.3: CWR stops the echo; a CE (even in the same segment) starts it again.
  if (tcp_flags & flag::kCwr) ece_pending_ = false;
  if (ip == EcnCodepoint::kCe) {
    ece_pending_ = true;
    ++ce_received_;
  }
}

bool EcnState::on_ece_received(wire::SeqNum snd_una, wire::SeqNum snd_max) {
  if (!negotiated_) return false;
  // RFC 3168 §6.1.2: react at most once per window of data.
  // The window ends at react_end_ <= SND.MAX; a point SND.UNA passed long ago (2^31 bytes or
  // more, when it would compare as ahead again modulo 2^32) is not in (SND.UNA, SND.MAX].
  if (reacted_ && snd_una < react_end_ && react_end_ <= snd_max) return false;
  reacted_ = true;
  react_end_ = snd_max;
  cwr_pending_ = true;
  ++ece_reactions_;
  return true;
}

void EcnState::on_window_reduced(wire::SeqNum snd_max) {
  if (!negotiated_) return;
  cwr_pending_ = true;
  reacted_ = true;
  react_end_ = snd_max;
}

}  // namespace utcp::tcp
