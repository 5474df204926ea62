// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/cubic.hpp"

#include <algorithm>
#include <cmath>

#include "base/plain_math.hpp"
#include "tcp/initial_window.hpp"

namespace utcp::tcp {

namespace {
double seconds(Duration d) {
  return static_cast<double>(d.count()) / 1e6;
}
}  // namespace

void CubicCongestion::init(uint32_t mss, uint32_t initial_window_segments) {
  smss_ = std::max<uint32_t>(mss, 1);
  iw_segments_ = initial_window_segments;
  iw_ = initial_window_bytes(smss_, iw_segments_);
  cwnd_ = iw_;
  ssthresh_ = UINT32_MAX;  // RFC 5681 §3.1
  w_max_ = k_ = w_est_ = cwnd_prior_ = cwnd_epoch_ = 0;
  epoch_.reset();
  after_timeout_ = false;
  undo_valid_ = false;
  if (hystart_) hystart_->reset(iw_);
  ack_train_.reset(iw_);
  w_max_from_slow_start_ = false;
}

void CubicCongestion::set_mss(uint32_t mss) {
  const bool untouched = cwnd_ == iw_ && ssthresh_ == UINT32_MAX;
  const double segs = cwnd_ / smss_;
  smss_ = std::max<uint32_t>(mss, 1);
  iw_ = initial_window_bytes(smss_, iw_segments_);
  // Keep the window's size in segments, which is what the RFC's variables measure.
  cwnd_ = untouched ? iw_ : std::max(segs * smss_, double(smss_));
}

uint32_t CubicCongestion::cwnd() const {
  return static_cast<uint32_t>(std::min<double>(std::floor(cwnd_), UINT32_MAX));
}

double CubicCongestion::w_cubic(double t) const {
  // RFC 9438 §4.2 Figure 1.
  const double d = t - k_;
  return kC * d * d * d + w_max_;
}

void CubicCongestion::start_epoch(Instant now) {
  // RFC 9438 §4.2: a congestion avoidance stage begins; K from Figure 2. §4.8: after a timeout
  // K = 0 and W_max = cwnd_epoch; §4.3: W_est starts at cwnd_epoch.
  epoch_ = now;
  cwnd_epoch_ = cwnd_ / smss_;
  w_est_ = cwnd_epoch_;
  if (after_timeout_ || w_max_ <= cwnd_epoch_) {
    w_max_ = std::max(w_max_, cwnd_epoch_);
    if (after_timeout_) w_max_ = cwnd_epoch_;
    k_ = 0;
  } else {
    k_ = cube_root((w_max_ - cwnd_epoch_) / kC);  // no libm in the program for it
  }
  after_timeout_ = false;
}

void CubicCongestion::on_ack(uint32_t bytes_acked, uint32_t /*flight_size*/, Instant now) {
  if (bytes_acked == 0) return;
  if (cwnd_ < ssthresh_) {
    // Only in the initial slow start (ssthresh still infinite), as RFC 9406 §4.3 recommends
    // for HyStart++: later slow starts run up to the ssthresh a congestion event left.
    if (opt_.ack_train && ssthresh_ == UINT32_MAX &&
        ack_train_.on_ack(now, bytes_acked, cwnd(), smss_)) {
      // The ACK train spans the threshold: cwnd reached the path's BDP. Enter congestion
      // avoidance here, without a loss: RFC 9438 §4.10, cwnd_prior = cwnd, and the first epoch
      // starts with K = 0 and W_max = cwnd (start_epoch()).
      ssthresh_ = cwnd();
      cwnd_prior_ = cwnd_ / smss_;
      return;
    }
    if (opt_.hystart) {
      // RFC 9406 §4.2: slow-start growth, divided by CSS_GROWTH_DIVISOR in CSS; never past
      // ssthresh (after a timeout slow start runs up to it).
      const uint32_t inc = hystart_->on_ack(bytes_acked, cwnd());
      cwnd_ = std::min(cwnd_ + inc, double(ssthresh_));
      if (hystart_->phase() == HyStart::Phase::kDone) {
        ssthresh_ = cwnd();  // RFC 9406 §4.2: enter congestion avoidance
        cwnd_prior_ = cwnd_ / smss_;
      }
    } else {
      // RFC 5681 §3.1 slow start with byte counting (RFC 3465), every byte acked counted.
      cwnd_ = std::min(cwnd_ + bytes_acked, double(ssthresh_));
    }
    return;
  }
  if (!epoch_) start_epoch(now);
  const double t = seconds(now - *epoch_);
  const double rtt = seconds(srtt_);
  const double cwnd_seg = cwnd_ / smss_;
  const double segs = static_cast<double>(bytes_acked) / smss_;

  // RFC 9438 §4.3 Figure 4, with alpha = 1 once W_est reaches cwnd_prior.
  const double alpha = w_est_ >= cwnd_prior_ ? 1.0 : kAlpha;
  w_est_ += alpha * segs / cwnd_seg;

  double next = cwnd_seg;
  if (w_cubic(t) < w_est_) {
    next = std::max(cwnd_seg, w_est_);  // §4.3 Reno-friendly region
  } else {
    // §4.2 target, bounded to [cwnd, 1.5 cwnd]; §4.4/§4.5 (target - cwnd) / cwnd per ACKed
    // segment.
    const double target = std::clamp(w_cubic(t + rtt), cwnd_seg, 1.5 * cwnd_seg);
    next = cwnd_seg + (target - cwnd_seg) / cwnd_seg * segs;
  }
  cwnd_ = std::min(next * smss_, double(UINT32_MAX));
}

CubicCongestion::Saved CubicCongestion::save() const {
  return Saved{cwnd_,     w_max_,      k_,
               w_est_,    cwnd_prior_, cwnd_epoch_,
               ssthresh_, epoch_,      w_max_from_slow_start_};
}

void CubicCongestion::reduce(uint32_t flight_size, bool ecn) {
  if (!undo_) undo_ = std::make_unique<Saved>();
  *undo_ = save();
  undo_valid_ = true;
  const double cwnd_seg = cwnd_ / smss_;
  // RFC 9438 §4.7 fast convergence, then §4.6 Figure 5. A loss in slow start leaves W_max at a
  // cwnd that grew for another round trip after the drop (to twice the flight for a paced
  // sender, RFC 7661 validation allowing it): an overshoot, not a saturation point. A later
  // loss below it says nothing about a new competing flow, so by default fast convergence only
  // compares with a W_max set in congestion avoidance (RFC 9438 §4.10: the end of slow start and
  // the first decrease must work together; docs/conformance.md Deviations).
  const bool converge = opt_.fast_convergence && cwnd_seg < w_max_ &&
                        (opt_.fast_convergence_after_slow_start || !w_max_from_slow_start_);
  w_max_from_slow_start_ = cwnd_ < ssthresh_;
  w_max_ = converge ? cwnd_seg * (1.0 + kBeta) / 2.0 : cwnd_seg;
  cwnd_prior_ = cwnd_seg;
  const double reduced = static_cast<double>(flight_size) * kBeta;
  ssthresh_ = static_cast<uint32_t>(std::max(reduced, 2.0 * smss_));
  cwnd_ = ecn ? std::max(reduced, double(smss_)) : double(ssthresh_);
  epoch_.reset();
}

void CubicCongestion::on_fast_retransmit(uint32_t flight_size, Instant /*now*/) {
  reduce(flight_size, false);
  // The RFC 5681 §3.2 inflation (ssthresh + 3*SMSS) keeps a dup-ACK-clocked sender working;
  // on_recovery_exit() deflates to ssthresh, the RFC 9438 §4.6 value.
  cwnd_ = double(ssthresh_) + 3.0 * smss_;
}

void CubicCongestion::on_recovery_dup_ack() {
  cwnd_ += smss_;
}

void CubicCongestion::on_recovery_exit() {
  cwnd_ = ssthresh_;
}

void CubicCongestion::on_ecn_echo(uint32_t flight_size, Instant /*now*/) {
  reduce(flight_size, true);
}

void CubicCongestion::on_rto(uint32_t flight_size, Instant /*now*/) {
  // RFC 9438 §4.8: ssthresh with beta_cubic, cwnd to one segment as Reno.
  reduce(flight_size, false);
  cwnd_ = smss_;
  after_timeout_ = true;
  if (hystart_) hystart_->reset(smss_);
  ack_train_.reset(smss_);
}

void CubicCongestion::on_idle(Duration idle, Duration rto) {
  // RFC 5681 §4.1 restart window; RFC 9438 §5.8: t excludes the idle period.
  if (idle > rto) cwnd_ = std::min(cwnd_, double(iw_));
  if (epoch_) *epoch_ += idle;
}

void CubicCongestion::on_rtt_sample(Duration rtt, Duration srtt) {
  srtt_ = srtt;
  if (hystart_ && cwnd_ < ssthresh_) hystart_->on_rtt_sample(rtt);
  ack_train_.on_rtt_sample(rtt);
}

void CubicCongestion::on_spurious_undo() {
  // RFC 9438 §4.9: restore cwnd, ssthresh, W_max, K and the epoch from before the reduction.
  if (!undo_valid_) return;
  const Saved& s = *undo_;
  cwnd_ = std::max(cwnd_, s.cwnd);
  ssthresh_ = s.ssthresh;
  w_max_ = s.w_max;
  k_ = s.k;
  w_est_ = s.w_est;
  cwnd_prior_ = s.cwnd_prior;
  cwnd_epoch_ = s.cwnd_epoch;
  epoch_ = s.epoch;
  w_max_from_slow_start_ = s.w_max_from_slow_start;
  after_timeout_ = false;
  undo_valid_ = false;
}

void CubicCongestion::on_not_cwnd_limited(Duration elapsed) {
  // RFC 9438 §5.8: time the flow did not use its cwnd does not count towards W_cubic(t).
  if (epoch_) *epoch_ += elapsed;
}

void CubicCongestion::on_nvp_expired() {
  // RFC 7661 §4.4, as for Reno; the next avoidance epoch starts from the halved window.
  const double before = cwnd_;
  ssthresh_ = std::max(ssthresh_, static_cast<uint32_t>(std::min(before * 0.75, 4294967295.0)));
  cwnd_ = std::max(before / 2, double(iw_));
  epoch_.reset();
  undo_valid_ = false;
}

}  // namespace utcp::tcp
