// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/pacing.hpp"

#include <algorithm>

namespace utcp::tcp {

namespace {
constexpr int64_t kNsPerSecond = 1'000'000'000;
}  // namespace

uint64_t Pacer::rate(uint64_t cwnd, uint64_t ssthresh, uint64_t flight, Duration srtt) const {
  if (!cfg_.enabled || srtt <= Duration::zero()) return 0;
  // Linux uses max(cwnd, packets_out): after a reduction the flight still in the network is
  // not slowed down below what it already is.
  const uint64_t window = std::max(cwnd, flight);
  // A ratio above 1000x is meaningless; the cap keeps window (< 2^33) x ratio x 10^4 < 2^64.
  const uint64_t ratio = std::min<uint64_t>(
      cwnd < ssthresh / 2 ? cfg_.ss_ratio_percent : cfg_.ca_ratio_percent, 100'000);
  const uint64_t srtt_us = static_cast<uint64_t>(srtt.count());
  return std::max<uint64_t>(window * ratio * 10'000 / srtt_us, 1);
}

uint64_t Pacer::quantum(uint64_t rate, uint32_t mss) const {
  if (rate == 0) return 0;
  const uint64_t low = uint64_t{cfg_.quantum_min_segments} * mss;
  const uint64_t high = std::max<uint64_t>(cfg_.quantum_max_bytes, low);
  const uint64_t us = static_cast<uint64_t>(cfg_.quantum_time.count());
  // rate * us overflows only past 2^64 / 10^6 bytes/s (18 TB/s); divide first up there.
  const uint64_t q = rate > UINT64_MAX / 1'000'000 ? rate / 1'000'000 * us : rate * us / 1'000'000;
  return std::clamp(q, low, high);
}

void Pacer::on_sent(uint64_t bytes, Instant now, uint64_t rate, uint64_t quantum) {
  if (rate == 0) {
    // Unpaced (no RTT yet, or pacing off): nothing to carry over to a later paced send.
    tat_ns_ = INT64_MIN;
    release_ = Instant{};
    return;
  }
  const int64_t now_ns = to_us(now) * 1000;
  const auto ns_for = [rate](uint64_t b) {
    return static_cast<int64_t>(std::min<uint64_t>(b * kNsPerSecond / rate, INT64_MAX / 4));
  };
  const int64_t quantum_ns = ns_for(quantum);
  // A send that comes late (timer slack, a busy event loop) may catch up half a quantum of the
  // time it lost; an idle sender gets no more credit than that, so after idle at most about
  // 1.5 quanta leave at once.
  const int64_t start = std::max(tat_ns_, now_ns - quantum_ns / 2);
  tat_ns_ = start + ns_for(bytes);
  if (tat_ns_ > now_ns + quantum_ns) {
    // More than a quantum ahead of the rate: hold until the whole excess has drained, so that
    // the next release again carries a full quantum (one timer per quantum).
    const Instant drained = instant_from_us((tat_ns_ + 999) / 1000);
    release_ = std::max(release_, drained);
  }
}

}  // namespace utcp::tcp
