// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Per-connection statistics in the spirit of Linux's struct tcp_info: a plain snapshot, filled
// by the connection on request. Times in microseconds, sizes in bytes unless named otherwise.
#include <cstdint>

namespace utcp::tcp {

struct TcpInfo {
  uint8_t state = 0;     // tcp::State as an integer
  uint8_t ca_state = 0;  // 0 open, 1 disorder, 2 CWR (ECN), 3 recovery, 4 loss (after RTO)
  bool sack_enabled = false;
  bool ts_enabled = false;
  bool ecn_enabled = false;
  uint8_t snd_wscale = 0;
  uint8_t rcv_wscale = 0;
  char congestion_control[16] = {};

  uint32_t snd_mss = 0;
  uint32_t rcv_mss = 0;
  uint32_t cwnd = 0;  // bytes
  uint32_t ssthresh = 0;
  uint32_t snd_wnd = 0;
  uint32_t rcv_wnd = 0;
  uint32_t rcv_space = 0;  // receive buffer capacity (autotuned)

  uint64_t srtt_us = 0;
  uint64_t rttvar_us = 0;
  uint64_t rto_us = 0;
  uint64_t min_rtt_us = 0;

  uint32_t unacked = 0;     // bytes in flight (SND.MAX - SND.UNA)
  uint32_t sacked = 0;      // bytes SACKed on the scoreboard
  uint32_t lost = 0;        // bytes deemed lost, not yet retransmitted
  uint32_t retrans = 0;     // retransmitted bytes still outstanding
  uint32_t reordering = 3;  // RFC 6675 DupThresh or RACK's estimate in segments
  uint32_t backoff = 0;     // consecutive RTO backoffs

  uint64_t total_retrans = 0;    // segments retransmitted over the connection's life
  uint64_t fast_recoveries = 0;  // recovery episodes entered
  uint64_t rto_count = 0;        // retransmission timeouts
  uint64_t tlp_probes = 0;       // tail loss probes sent
  uint64_t spurious_undos = 0;   // reductions undone (D-SACK / timestamps)
  uint64_t dsacks_received = 0;
  uint64_t ece_received = 0;
  uint64_t ce_received = 0;

  uint64_t segs_out = 0;
  uint64_t segs_in = 0;
  uint64_t bytes_sent = 0;      // including retransmissions
  uint64_t bytes_acked = 0;     // RFC 4898 tcpEStatsAppHCThruOctetsAcked
  uint64_t bytes_received = 0;  // in-order bytes delivered
  uint64_t delivered = 0;       // segments delivered (acked or sacked)
  uint64_t pacing_rate = 0;     // bytes/s; 0 = no pacing
};

}  // namespace utcp::tcp
