// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Per-connection options and their defaults.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "utcp/time.hpp"

namespace utcp::tcp {

struct KeepaliveConfig {
  // RFC 1122 §4.2.3.6: off by default; the idle time MUST default to no less than two hours.
  bool enabled = false;
  Duration idle{7'200'000'000};
  Duration interval{75'000'000};
  uint32_t count = 9;  // unanswered probes before the connection is declared dead
};

struct Config {
  size_t send_buffer = 256 * 1024;
  size_t recv_buffer = 256 * 1024;
  // The MSS we announce, and a cap on what we send (RFC 9293 §3.7.1). The path MTU lowers both,
  // so by default the MTU decides (a Stack takes it from its device: MTU minus 40).
  uint16_t mss = 65495;
  uint16_t path_mtu = 1500;
  // The fixed IP header the MSS leaves room for: 20 (IPv4) or 40 (IPv6, RFC 8200 §3), so an
  // MSS is path_mtu - 40 over IPv4 and path_mtu - 60 over IPv6. A connection sets it from its
  // addresses' family; what is configured here is ignored.
  uint8_t ip_header_len = 20;
  // Largest segment the sender may hand down when the device cuts it into MSS-sized pieces
  // again (TSO/GSO, e.g. a TUN with offload), rounded down to whole MSS; 0: one MSS each.
  uint32_t tso_max_bytes = 0;
  // With TSO, the device computes the checksums of the pieces it cuts an IPv4 packet larger
  // than its MTU into (dev::DeviceCapabilities::tso_checksum_offload). Non-zero: that MTU, and
  // a segment whose packet exceeds it, carrying only ACK, PSH or FIN (what the device cuts),
  // leaves its checksum field undone instead of summing bytes the device throws away.
  uint32_t tso_checksum_offload_above = 0;
  bool nodelay = false;          // true disables Nagle (RFC 9293 §3.7.4, MUST-17)
  Duration delayed_ack{40'000};  // RFC 5681 §4.2: at most 500 ms; Linux uses 40 ms
  // RFC 6298. The 200 ms floor follows Linux; a documented deviation from RFC 6298 §2.4's 1 s.
  Duration rto_min{200'000};
  Duration rto_initial{1'000'000};
  Duration rto_max{60'000'000};
  Duration msl{30'000'000};  // TIME-WAIT lasts 2*MSL (RFC 9293 §3.4.2)
  // A connection the application closed that sits in FIN-WAIT-2 is freed after this long
  // without the peer's FIN, as Linux's tcp_fin_timeout (RFC 9293 sets no limit, so a silent
  // or hostile peer would hold it forever). Zero: wait forever.
  Duration fin_wait2_timeout{60'000'000};
  KeepaliveConfig keepalive;
  // RFC 9293 §3.10.8 / RFC 1122 §4.2.3.5: give up when data stays unacknowledged this long
  // (zero = only the retransmission count below applies).
  Duration user_timeout{0};
  // R2 expressed as a count of consecutive retransmission timeouts (Linux tcp_retries2 = 15,
  // which is well above RFC 1122's 100 s minimum with the default RTO bounds).
  uint32_t max_retransmits = 15;
  // R1 (RFC 1122 §4.2.3.5, RFC 9293 §3.8.3 SHLD-9/10): after this many retransmissions of one
  // segment the application is told (a soft error, Connection::soft_error()) while the
  // connection keeps trying until R2. At least 3, as RFC 1122 recommends; 0 = never tell.
  uint32_t r1_retransmits = 3;
  // SYN retransmissions before an open is declared timed out. RFC 9293 MUST-23 / RFC 1122
  // §4.2.3.5: R2 for a SYN is at least 3 minutes; 8 retries with the RTO doubling from 1 s and
  // capped at 60 s give up after 1+2+4+8+16+32+60+60+60 = 243 s (Linux uses 6, about 127 s).
  uint32_t syn_retries = 8;
  // SYN-ACK retransmissions before a passive half-open connection is dropped: Linux's
  // tcp_synack_retries (5: gives up after 1+2+4+8+16+32 = 63 s). A spoofed SYN holds a SYN
  // queue slot this long (RFC 4987 §3.2); past a full queue, SYN cookies take over.
  uint32_t synack_retries = 5;
  uint32_t initial_window_segments = 10;  // RFC 6928
  bool window_scaling = true;             // RFC 7323 §2
  bool timestamps = true;                 // RFC 7323 §3
  // Congestion controller by name: "cubic" (RFC 9438 with an ACK-train slow-start exit, the
  // default as in Linux), "newreno" / "reno" (RFC 5681 + RFC 6582), "cubic+hystart" (plus the
  // RFC 9406 delay rule), "cubic-rfc9438" (RFC 5681 slow start, RFC 9438 as written).
  std::string_view congestion_control = "cubic";
  bool sack = true;  // RFC 2018 SACK-permitted offered and accepted; D-SACK (RFC 2883) sent
  bool rack = true;  // RFC 8985 RACK-TLP loss detection (needs SACK), on as in Linux
  bool ecn = false;  // RFC 3168: ask for / accept ECN on the handshake
  // Receive-buffer autotuning: the buffer grows with the measured rate x RTT up to this many
  // bytes (0 = fixed at recv_buffer). The window scale is chosen for the maximum.
  size_t recv_buffer_max = 4 * 1024 * 1024;
  // Send-buffer autotuning: the buffer grows with cwnd and the peer's window up to this many
  // bytes (0 = fixed at send_buffer), as Linux's tcp_wmem[2]. An explicit size
  // (Connection::set_send_buffer, SO_SNDBUF) pins the buffer.
  size_t send_buffer_max = 4 * 1024 * 1024;
  // Sender pacing (src/tcp/pacing.hpp), as Linux's internal TCP pacing: new data leaves at
  // max(cwnd, flight) / srtt times pacing_ss_ratio % while cwnd < ssthresh / 2 (slow start)
  // and pacing_ca_ratio % after, in bursts of pacing_burst of that rate (at least
  // pacing_min_burst_segments MSS, at most 64 KiB or one TSO segment). Off: each window
  // leaves as fast as the ACKs open it, which overflows shallow queues on long paths.
  bool pacing = true;
  uint32_t pacing_ss_ratio = 200;  // percent (Linux: net.ipv4.tcp_pacing_ss_ratio)
  uint32_t pacing_ca_ratio = 120;  // percent (Linux: net.ipv4.tcp_pacing_ca_ratio)
  Duration pacing_burst{1'000};    // Linux sizes TSO bursts to ~1 ms of the pacing rate
  uint32_t pacing_min_burst_segments = 10;
  // Buffers and loss-recovery logs that hold nothing are freed after this long without a
  // segment in either direction (zero: kept until the connection ends); see
  // Connection::memory_release_deadline().
  Duration idle_release{1'000'000};
};

}  // namespace utcp::tcp
