// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Counters of the IP layer: what came in, what was answered, and every drop by reason;
// IPv4/ICMP as ip.* and icmp.*, IPv6/ICMPv6 as ip6.* and icmp6.*. A flat array indexed by an
// enum (one increment on the hot path) with stable names for `--stats`.
#include <array>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "wire/parse_error.hpp"

namespace utcp::ip {

#define UTCP_IP_COUNTERS(X)                                           \
  X(in_packets, "ip.in")                                              \
  X(in_truncated, "ip.drop.truncated")                                \
  X(in_bad_version, "ip.drop.bad-version")                            \
  X(in_bad_header_length, "ip.drop.bad-header-length")                \
  X(in_bad_total_length, "ip.drop.bad-total-length")                  \
  X(in_bad_checksum, "ip.drop.bad-checksum")                          \
  X(in_bad_other, "ip.drop.malformed-other")                          \
  X(in_bad_source, "ip.drop.bad-source")                              \
  X(in_not_for_us, "ip.drop.not-for-us")                              \
  X(in_delivered_tcp, "ip.in.tcp")                                    \
  X(in_delivered_udp, "ip.in.udp")                                    \
  X(in_unknown_protocol, "ip.in.unknown-protocol")                    \
  X(frag_in, "ip.frag.in")                                            \
  X(frag_reassembled, "ip.frag.reassembled")                          \
  X(frag_overlap, "ip.frag.drop.overlap")                             \
  X(frag_oversize, "ip.frag.drop.oversize")                           \
  X(frag_malformed, "ip.frag.drop.malformed")                         \
  X(frag_dead_train, "ip.frag.drop.after-train-dropped")              \
  X(frag_too_many_trains, "ip.frag.drop.too-many-trains")             \
  X(frag_no_memory, "ip.frag.drop.no-memory")                         \
  X(frag_timeout, "ip.frag.timeout")                                  \
  X(frag_evicted, "ip.frag.evicted")                                  \
  X(frag_non_first_unknown_protocol, "ip.frag.drop.unknown-protocol") \
  X(icmp_in, "icmp.in")                                               \
  X(icmp_bad, "icmp.drop.malformed")                                  \
  X(icmp_echo_requests, "icmp.in.echo-request")                       \
  X(icmp_echo_replies_sent, "icmp.out.echo-reply")                    \
  X(icmp_errors_in, "icmp.in.error")                                  \
  X(icmp_errors_bad_quote, "icmp.drop.error-bad-quote")               \
  X(icmp_errors_not_tcp, "icmp.drop.error-not-tcp")                   \
  X(icmp_source_quench_ignored, "icmp.drop.source-quench")            \
  X(icmp_other_ignored, "icmp.drop.other-type")                       \
  X(icmp_unreachable_sent, "icmp.out.protocol-unreachable")           \
  X(icmp_port_unreachable_sent, "icmp.out.port-unreachable")          \
  X(icmp_error_suppressed, "icmp.out.suppressed")                     \
  X(icmp_error_rate_limited, "icmp.out.rate-limited")                 \
  X(out_no_room, "ip.out.drop.no-room")                               \
  X(out_packets, "ip.out")                                            \
  X(in6_packets, "ip6.in")                                            \
  X(in6_truncated, "ip6.drop.truncated")                              \
  X(in6_bad_version, "ip6.drop.bad-version")                          \
  X(in6_bad_payload_length, "ip6.drop.bad-payload-length")            \
  X(in6_jumbogram, "ip6.drop.jumbogram")                              \
  X(in6_bad_source, "ip6.drop.bad-source")                            \
  X(in6_not_for_us, "ip6.drop.not-for-us")                            \
  X(in6_ext_truncated, "ip6.drop.ext-truncated")                      \
  X(in6_ext_option_discard, "ip6.drop.ext-option-discard")            \
  X(in6_ext_too_many, "ip6.drop.ext-too-many")                        \
  X(in6_parameter_problem, "ip6.drop.parameter-problem")              \
  X(in6_no_next_header, "ip6.in.no-next-header")                      \
  X(in6_delivered_tcp, "ip6.in.tcp")                                  \
  X(in6_delivered_udp, "ip6.in.udp")                                  \
  X(frag6_in, "ip6.frag.in")                                          \
  X(frag6_atomic, "ip6.frag.atomic")                                  \
  X(frag6_reassembled, "ip6.frag.reassembled")                        \
  X(frag6_overlap, "ip6.frag.drop.overlap")                           \
  X(frag6_oversize, "ip6.frag.drop.oversize")                         \
  X(frag6_malformed, "ip6.frag.drop.malformed")                       \
  X(frag6_dead_train, "ip6.frag.drop.after-train-dropped")            \
  X(frag6_too_many_trains, "ip6.frag.drop.too-many-trains")           \
  X(frag6_no_memory, "ip6.frag.drop.no-memory")                       \
  X(frag6_incomplete_chain, "ip6.frag.drop.incomplete-header-chain")  \
  X(frag6_timeout, "ip6.frag.timeout")                                \
  X(frag6_evicted, "ip6.frag.evicted")                                \
  X(icmp6_in, "icmp6.in")                                             \
  X(icmp6_bad_checksum, "icmp6.drop.bad-checksum")                    \
  X(icmp6_bad, "icmp6.drop.malformed")                                \
  X(icmp6_echo_requests, "icmp6.in.echo-request")                     \
  X(icmp6_echo_replies_sent, "icmp6.out.echo-reply")                  \
  X(icmp6_errors_in, "icmp6.in.error")                                \
  X(icmp6_errors_bad_quote, "icmp6.drop.error-bad-quote")             \
  X(icmp6_errors_not_tcp, "icmp6.drop.error-not-tcp")                 \
  X(icmp6_ndp_ignored, "icmp6.drop.ndp")                              \
  X(icmp6_mld_ignored, "icmp6.drop.mld")                              \
  X(icmp6_other_ignored, "icmp6.drop.other-type")                     \
  X(icmp6_unreachable_sent, "icmp6.out.dest-unreachable")             \
  X(icmp6_param_problem_sent, "icmp6.out.parameter-problem")          \
  X(icmp6_time_exceeded_sent, "icmp6.out.time-exceeded")              \
  X(icmp6_packet_too_big_sent, "icmp6.out.packet-too-big")            \
  X(icmp6_error_suppressed, "icmp6.out.suppressed")                   \
  X(icmp6_error_rate_limited, "icmp6.out.rate-limited")               \
  X(out6_no_room, "ip6.out.drop.no-room")                             \
  X(out6_packets, "ip6.out")

enum class IpCounter : uint16_t {
#define UTCP_X(id, name) id,
  UTCP_IP_COUNTERS(UTCP_X)
#undef UTCP_X
      kCount
};

class IpCounters {
 public:
  void inc(IpCounter c, uint64_t n = 1) { v_[static_cast<size_t>(c)] += n; }
  uint64_t get(IpCounter c) const { return v_[static_cast<size_t>(c)]; }
  uint64_t operator[](IpCounter c) const { return get(c); }

  // Adds another instance's counts: the Stack sums its IPv4 and IPv6 inputs' counters (each
  // counts only its own family's names) into one list.
  IpCounters& operator+=(const IpCounters& o) {
    for (size_t i = 0; i < v_.size(); ++i) v_[i] += o.v_[i];
    return *this;
  }

  static constexpr std::string_view name(IpCounter c) { return kNames[static_cast<size_t>(c)]; }
  void append_to(std::vector<std::pair<std::string_view, uint64_t>>& out) const {
    for (size_t i = 0; i < v_.size(); ++i) out.emplace_back(kNames[i], v_[i]);
  }

  // The drop counter for a header the wire parser rejected.
  static constexpr IpCounter for_parse_error(wire::ParseError e) {
    switch (e) {
      case wire::ParseError::kTruncated:
        return IpCounter::in_truncated;
      case wire::ParseError::kBadVersion:
        return IpCounter::in_bad_version;
      case wire::ParseError::kBadHeaderLength:
        return IpCounter::in_bad_header_length;
      case wire::ParseError::kBadTotalLength:
        return IpCounter::in_bad_total_length;
      case wire::ParseError::kBadChecksum:
        return IpCounter::in_bad_checksum;
      default:
        return IpCounter::in_bad_other;
    }
  }

 private:
  static constexpr std::array<std::string_view, static_cast<size_t>(IpCounter::kCount)> kNames = {
#define UTCP_X(id, name) name,
      UTCP_IP_COUNTERS(UTCP_X)
#undef UTCP_X
  };
  std::array<uint64_t, static_cast<size_t>(IpCounter::kCount)> v_{};
};

}  // namespace utcp::ip
