// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// CUBIC congestion control (RFC 9438): the cubic window function W_cubic(t) = C(t-K)^3 + W_max,
// the Reno-friendly estimate W_est, fast convergence (not against a W_max a slow-start loss
// left, by default), beta 0.7 multiplicative decrease and slow start as Reno (RFC 5681, byte
// counting: slow_start_cwnd()) ended early by an ACK train (ack_train.hpp, RFC 9438 §4.10),
// optionally with HyStart++ (RFC 9406). Window arithmetic is in double-precision segments, as
// the RFC states it; cwnd() rounds down to bytes.
#include <cstdint>
#include <memory>
#include <optional>

#include "tcp/ack_train.hpp"
#include "tcp/congestion_control.hpp"
#include "tcp/hystart.hpp"

namespace utcp::tcp {

struct CubicOptions {
  bool fast_convergence = true;  // RFC 9438 §4.7 SHOULD
  bool hystart = false;          // RFC 9406 slow-start exit (delay rule)
  // ACK-train slow-start exit (ack_train.hpp), in the initial slow start, as Linux's CUBIC runs
  // it beside the delay rule; the threshold in percent of the minimum RTT.
  bool ack_train = true;
  unsigned ack_train_percent = 100;
  // RFC 9438 §4.7 compares cwnd at a loss with W_max. When W_max came from a loss in slow start
  // it is no saturation point (see reduce()); false skips fast convergence then.
  bool fast_convergence_after_slow_start = false;
};

class CubicCongestion final : public CongestionControl {
 public:
  static constexpr double kC = 0.4;     // RFC 9438 §4.1.1
  static constexpr double kBeta = 0.7;  // RFC 9438 §4.1.1 beta_cubic
  // RFC 9438 §4.3: alpha_cubic = 3 * (1 - beta) / (1 + beta).
  static constexpr double kAlpha = 3.0 * (1.0 - kBeta) / (1.0 + kBeta);

  explicit CubicCongestion(CubicOptions opt = {})
      : hystart_(opt.hystart ? std::make_unique<HyStart>() : nullptr),
        ack_train_(opt.ack_train_percent),
        opt_(opt) {
    init(536, 10);
  }

  // The name make_congestion_control() takes, so tcp_info says which slow-start exit is on.
  const char* name() const override {
    if (opt_.hystart) return "cubic+hystart";
    return opt_.ack_train || !opt_.fast_convergence_after_slow_start ? "cubic" : "cubic-rfc9438";
  }
  void init(uint32_t mss, uint32_t initial_window_segments) override;
  void set_mss(uint32_t mss) override;
  uint32_t cwnd() const override;
  uint32_t ssthresh() const override { return ssthresh_; }
  void on_ack(uint32_t bytes_acked, uint32_t flight_size, Instant now) override;
  void on_fast_retransmit(uint32_t flight_size, Instant now) override;
  void on_recovery_dup_ack() override;
  void on_recovery_exit() override;
  void on_rto(uint32_t flight_size, Instant now) override;
  void on_idle(Duration idle, Duration rto) override;
  void on_rtt_sample(Duration rtt, Duration srtt) override;
  void on_ecn_echo(uint32_t flight_size, Instant now) override;
  void on_spurious_undo() override;
  void on_not_cwnd_limited(Duration elapsed) override;
  void on_nvp_expired() override;

  // Inspection for tests and stats (segments / seconds, as in the RFC).
  double w_max() const { return w_max_; }
  double k() const { return k_; }
  double w_est() const { return w_est_; }
  double cwnd_segments() const { return cwnd_ / smss_; }
  bool in_slow_start() const { return cwnd_ < ssthresh_; }
  // Only with CubicOptions::hystart (the state exists only then).
  const HyStart& hystart() const { return *hystart_; }
  const AckTrain& ack_train() const { return ack_train_; }

  // RFC 9438 Figure 1: W_cubic(t) in segments, t in seconds since the epoch.
  double w_cubic(double t) const;

 private:
  struct Saved {
    double cwnd, w_max, k, w_est, cwnd_prior, cwnd_epoch;
    uint32_t ssthresh;
    std::optional<Instant> epoch;
    bool w_max_from_slow_start;
  };
  void reduce(uint32_t flight_size, bool ecn);
  void start_epoch(Instant now);
  Saved save() const;

  // Ordered by alignment (8, 4, 1 bytes): one per connection, no padding.
  double cwnd_ = 0;  // bytes
  Duration srtt_{0};
  // RFC 9438 §4.1.2 variables, in segments and seconds.
  double w_max_ = 0;
  double k_ = 0;
  double w_est_ = 0;
  double cwnd_prior_ = 0;
  double cwnd_epoch_ = 0;
  std::optional<Instant> epoch_;  // t_epoch; unset until the first ACK in avoidance
  // Per connection, so kept out of line: what the last reduction changed (RFC 9438 §4.9 undo),
  // allocated at the connection's first reduction and reused after it (never per segment;
  // most connections never reduce), and RFC 9406 state only when HyStart++ is on.
  std::unique_ptr<Saved> undo_;
  bool undo_valid_ = false;
  std::unique_ptr<HyStart> hystart_;
  AckTrain ack_train_;
  uint32_t smss_ = 536;
  uint32_t iw_segments_ = 10;
  uint32_t iw_ = 0;
  uint32_t ssthresh_ = UINT32_MAX;
  CubicOptions opt_;
  bool after_timeout_ = false;
  bool w_max_from_slow_start_ = false;  // the last reduction came in slow start
};

}  // namespace utcp::tcp
