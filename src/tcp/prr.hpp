// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Proportional Rate Reduction (RFC 6937 §3): how much recovery may send on each ACK so the
// flight shrinks smoothly to ssthresh instead of stalling then bursting. PRR-SSRB by default,
// PRR-CRB as the conservative option.
#include <cstdint>

namespace utcp::tcp {

class Prr {
 public:
  enum class Bound : uint8_t { kSlowStart, kConservative };  // PRR-SSRB / PRR-CRB

  explicit Prr(Bound bound = Bound::kSlowStart) : bound_(bound) {}

  // RFC 6937 §3 on entering recovery: RecoverFS = SND.NXT - SND.UNA.
  void enter(uint32_t ssthresh, uint32_t recover_fs);
  // Per ACK in recovery: `delivered` = change in SND.UNA plus newly SACKed bytes, `pipe` per
  // RFC 6675. Returns sndcnt, the bytes that may be sent in response (never negative).
  uint32_t on_ack(uint32_t delivered, uint32_t pipe, uint32_t mss);
  // Any (re)transmission during recovery.
  void on_sent(uint32_t bytes) { prr_out_ += bytes; }
  // Bytes still allowed by the last on_ack() after what was sent since.
  uint32_t remaining() const { return sndcnt_ > sent_since_ack_ ? sndcnt_ - sent_since_ack_ : 0; }
  void consume(uint32_t bytes) {
    sent_since_ack_ += bytes;
    on_sent(bytes);
  }

  uint64_t prr_delivered() const { return prr_delivered_; }
  uint64_t prr_out() const { return prr_out_; }
  uint32_t recover_fs() const { return recover_fs_; }
  uint32_t ssthresh() const { return ssthresh_; }

 private:
  uint64_t prr_delivered_ = 0;
  uint64_t prr_out_ = 0;
  uint32_t ssthresh_ = 0;
  uint32_t recover_fs_ = 1;
  uint32_t sndcnt_ = 0;
  uint32_t sent_since_ack_ = 0;
  Bound bound_;
};

}  // namespace utcp::tcp
