// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/time_wait_reuse.hpp"

#include <chrono>

namespace utcp::tcp {

bool syn_may_reopen_time_wait(const Tcb& tcb, const wire::TcpRepr& syn, Instant now) {
  using namespace wire::tcp_flag;
  if (!syn.has(kSyn) || syn.has(kAck) || syn.has(kRst)) return false;
  // RFC 6191 §2: with timestamps on both incarnations the TSval decides; RFC 7323 §5.5: a
  // TS.Recent idle for more than 24 days is no longer trusted.
  const bool ts_usable = tcb.ts_enabled && syn.options.timestamps &&
                         now - tcb.ts_recent_time <= std::chrono::hours(24 * 24);
  if (ts_usable) {
    const auto d = static_cast<int32_t>(syn.options.timestamps->tsval - tcb.ts_recent);
    if (d < 0) return false;  // PAWS: an old duplicate
    if (d > 0) return true;
  }
  // RFC 1122 §4.2.2.13 / RFC 6191 §2: otherwise only a sequence number above RCV.NXT.
  return syn.seq > tcb.rcv_nxt;
}

}  // namespace utcp::tcp
