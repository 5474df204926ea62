// SPDX-License-Identifier: BSD-2-Clause
// Connection: the TCP_INFO-like statistics snapshot.
#include <algorithm>
#include <cstring>

#include "tcp/connection.hpp"

namespace utcp::tcp {

TcpInfo Connection::tcp_info() const {
  TcpInfo i;
  i.state = static_cast<uint8_t>(state_);
  const LossRecovery& lr = sender_.recovery();
  if (lr.in_recovery()) {
    i.ca_state = 3;
  } else if (sender_.rto().backoff_count() > 0) {
    i.ca_state = 4;
  } else if (lr.dup_acks() > 0 || !lr.scoreboard().empty()) {
    i.ca_state = 1;
  }
  i.sack_enabled = tcb_.sack_enabled;
  i.ts_enabled = tcb_.ts_enabled;
  i.snd_wscale = tcb_.snd_wscale;
  i.rcv_wscale = tcb_.rcv_wscale;
  const char* cc = sender_.cc().name();
  std::strncpy(i.congestion_control, cc, sizeof i.congestion_control - 1);

  i.snd_mss = sender_.mss();
  i.rcv_mss = tcb_.peer_mss;
  i.cwnd = sender_.cc().cwnd();
  i.ssthresh = sender_.cc().ssthresh();
  i.snd_wnd = tcb_.snd_wnd;
  i.rcv_wnd = tcb_.rcv_adv.distance_from(tcb_.rcv_nxt);
  i.rcv_space = static_cast<uint32_t>(std::min<size_t>(cfg_->recv_buffer, UINT32_MAX));

  const RtoEstimator& rto = sender_.rto();
  i.srtt_us = rto.has_sample() ? static_cast<uint64_t>(rto.srtt().count()) : 0;
  i.rttvar_us = rto.has_sample() ? static_cast<uint64_t>(rto.rttvar().count()) : 0;
  i.rto_us = static_cast<uint64_t>(rto.rto().count());
  const Duration min_rtt = lr.rack().min_rtt();
  i.min_rtt_us = min_rtt == Duration::max() ? 0 : static_cast<uint64_t>(min_rtt.count());

  i.unacked = tcb_.snd_max.distance_from(tcb_.snd_una);
  i.sacked = lr.scoreboard().sacked_bytes();
  i.lost = lr.lost_bytes(tcb_.snd_una, tcb_.snd_max, sender_.mss());
  i.reordering = lr.rack().reordering_seen() ? 4 : LossRecovery::kDupThresh;
  i.backoff = rto.backoff_count();

  i.total_retrans = lr.retransmitted_segments();
  i.fast_recoveries = lr.recoveries();
  i.rto_count = sender_.rto_count();
  i.tlp_probes = lr.tlp().probes();
  i.spurious_undos = lr.undos();
  i.dsacks_received = lr.dsacks();

  i.segs_out = sender_.segments_sent();
  i.segs_in = segs_in_;
  i.bytes_sent = sender_.bytes_sent();
  i.bytes_acked = sender_.bytes_acked();
  i.bytes_received = bytes_received_;
  i.delivered = i.bytes_acked / std::max<uint32_t>(sender_.mss(), 1);
  i.pacing_rate = sender_.pacing_rate(tcb_);
  return i;
}

}  // namespace utcp::tcp
