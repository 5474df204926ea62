// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/prr.hpp"

#include <algorithm>

namespace utcp::tcp {

void Prr::enter(uint32_t ssthresh, uint32_t recover_fs) {
  ssthresh_ = ssthresh;
  recover_fs_ = std::max<uint32_t>(recover_fs, 1);
  prr_delivered_ = 0;
  prr_out_ = 0;
  sndcnt_ = 0;
  sent_since_ack_ = 0;
}

uint32_t Prr::on_ack(uint32_t delivered, uint32_t pipe, uint32_t mss) {
  prr_delivered_ += delivered;
  int64_t sndcnt;
  if (pipe > ssthresh_) {
    // RFC 6937 §3 proportional part: CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out.
    const uint64_t num = prr_delivered_ * ssthresh_;
    const uint64_t share = (num + recover_fs_ - 1) / recover_fs_;
    sndcnt = static_cast<int64_t>(share) - static_cast<int64_t>(prr_out_);
  } else {
    // RFC 6937 §3 reduction bound: CRB = prr_delivered - prr_out;
    // SSRB = MAX(prr_delivered - prr_out, DeliveredData) + MSS.
    int64_t limit = static_cast<int64_t>(prr_delivered_) - static_cast<int64_t>(prr_out_);
    if (bound_ == Bound::kSlowStart) limit = std::max<int64_t>(limit, delivered) + mss;
    sndcnt = std::min<int64_t>(int64_t{ssthresh_} - int64_t{pipe}, limit);
  }
  sndcnt_ = static_cast<uint32_t>(std::clamp<int64_t>(sndcnt, 0, UINT32_MAX));
  sent_since_ack_ = 0;
  return sndcnt_;
}

}  // namespace utcp::tcp
