// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Stack-wide counters: everything received, sent, dropped or rejected, by reason. A flat
// array indexed by an enum, so counting costs one increment on the hot path.
#include <array>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace utcp::stack {

#define UTCP_STACK_COUNTERS(X)                             \
  X(tcp_in, "tcp.in")                                      \
  X(tcp_out, "tcp.out")                                    \
  X(tcp_bad_header, "tcp.drop.malformed")                  \
  X(tcp_bad_checksum, "tcp.drop.bad-checksum")             \
  X(tcp_bad_options, "tcp.drop.bad-options")               \
  X(tcp_rst_sent, "tcp.rst-for-unmatched")                 \
  X(tcp_no_listener, "tcp.drop.no-connection")             \
  X(tcp_syn_queue_full, "tcp.drop.syn-queue-full")         \
  X(tcp_accept_queue_full, "tcp.drop.accept-queue-full")   \
  X(tcp_syncookies_sent, "tcp.syncookies.sent")            \
  X(tcp_syncookies_valid, "tcp.syncookies.valid")          \
  X(tcp_syncookies_invalid, "tcp.syncookies.invalid")      \
  X(tcp_conn_limit, "tcp.drop.connection-limit")           \
  X(tcp_accepted, "tcp.passive-opens")                     \
  X(tcp_connects, "tcp.active-opens")                      \
  X(tcp_resets_in, "tcp.conn.reset")                       \
  X(tcp_timeouts, "tcp.conn.timed-out")                    \
  X(tcp_closed, "tcp.conn.closed")                         \
  X(tcp_time_wait_reopened, "tcp.time-wait-reopened")      \
  X(tcp_orphan_overflow, "tcp.orphan.reset-overflow")      \
  X(tcp_orphan_timeout, "tcp.orphan.reset-timeout")        \
  X(icmp_to_conn, "icmp.error-to-connection")              \
  X(icmp_unmatched, "icmp.drop.error-unmatched")           \
  X(ip_out_fragmented, "ip.out.fragmented")                \
  X(ip_out_fragments, "ip.out.fragments")                  \
  X(ip_out_df_too_big, "ip.out.drop.df-too-big")           \
  X(ip6_out_fragmented, "ip6.out.fragmented")              \
  X(ip6_out_fragments, "ip6.out.fragments")                \
  X(ip6_out_unfragmentable, "ip6.out.drop.unfragmentable") \
  X(icmp_bad_seq, "icmp.drop.error-seq-not-in-flight")     \
  X(dev_tx_dropped, "dev.tx-dropped")                      \
  X(rx_placed, "dev.rx-placed")                            \
  X(rx_place_missed, "dev.rx-place-missed")                \
  X(fwd_requests, "fwd.requests")                          \
  X(fwd_syn_absorbed, "fwd.syn-retransmit-absorbed")       \
  X(fwd_pending_full, "fwd.drop.pending-full")             \
  X(fwd_accepted, "fwd.accepted")                          \
  X(fwd_reset, "fwd.reset")                                \
  X(fwd_rejected, "fwd.rejected")                          \
  X(fwd_timeout, "fwd.reset.timeout")                      \
  X(fwd_canceled, "fwd.canceled-by-peer")                  \
  X(fwd_udp_flows, "fwd.udp.flows")                        \
  X(fwd_udp_flow_limit, "fwd.udp.drop.flow-limit")         \
  X(fwd_udp_flow_refused, "fwd.udp.drop.port-taken")       \
  X(fwd_udp_flow_expired, "fwd.udp.flow-expired")          \
  X(dev_batch_pages_released, "dev.batch-pages-released")

enum class Counter : uint16_t {
#define UTCP_X(id, name) id,
  UTCP_STACK_COUNTERS(UTCP_X)
#undef UTCP_X
      kCount
};

class Counters {
 public:
  void inc(Counter c, uint64_t n = 1) { v_[static_cast<size_t>(c)] += n; }
  uint64_t get(Counter c) const { return v_[static_cast<size_t>(c)]; }
  void append_to(std::vector<std::pair<std::string_view, uint64_t>>& out) const {
    static constexpr std::array<std::string_view, static_cast<size_t>(Counter::kCount)> kNames = {
#define UTCP_X(id, name) name,
        UTCP_STACK_COUNTERS(UTCP_X)
#undef UTCP_X
    };
    for (size_t i = 0; i < v_.size(); ++i) out.emplace_back(kNames[i], v_[i]);
  }

 private:
  std::array<uint64_t, static_cast<size_t>(Counter::kCount)> v_{};
};

}  // namespace utcp::stack
