// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, the SYN-ACK's ISN carries
// what the connection needs, so the SYN leaves no state behind; the peer's ACK (ACK - 1 = the
// cookie) rebuilds it.
//
// The cookie, 32 bits: the coarse clock (64 s units) in the top 5 bits, an index into a table
// of MSS values in the next 3, and 24 bits of SipHash (keyed by the stack's secret) over the
// 4-tuple, the peer's ISN, the full clock value and the MSS index. A cookie is valid in the
// period it was made and the next (64 to 128 s). Window scale, SACK-permitted and ECN do not
// fit: when the peer offers timestamps they ride in the low 6 bits of our TSval, which the
// peer echoes in TSecr; without timestamps the connection goes without them.
#include <array>
#include <cstdint>
#include <optional>

#include "stack/four_tuple.hpp"
#include "utcp/time.hpp"
#include "wire/seq_num.hpp"

namespace utcp::stack {

// What a cookie SYN-ACK's TSval carries (low 6 bits): the peer's window scale (none: nullopt),
// SACK-permitted, and whether ECN was negotiated (RFC 3168 §6.1.1).
struct CookieOptions {
  std::optional<uint8_t> wscale;
  bool sack = false;
  bool ecn = false;
  friend constexpr bool operator==(const CookieOptions&, const CookieOptions&) = default;
};

class SynCookies {
 public:
  static constexpr Duration kPeriod{64'000'000};
  // MSS values a cookie can name, ascending: a peer gets the largest not above what it offered.
  static constexpr std::array<uint16_t, 8> kMssTable = {64,   536,  1220, 1380,
                                                        1440, 1460, 4016, 8960};

  explicit SynCookies(const std::array<uint8_t, 16>& secret) : secret_(secret) {}

  // The ISN for a cookie SYN-ACK answering the SYN `peer_isn` on `t` (local = ours), whose MSS
  // option said `peer_mss` (536 when absent, RFC 9293 §3.7.1).
  wire::SeqNum make(const FourTuple& t, wire::SeqNum peer_isn, uint16_t peer_mss,
                    Instant now) const;
  // The MSS a cookie named, if `cookie` (the ACK's number less one) is one we made for `t` and
  // the SYN `peer_isn` (the ACK's SEQ less one) in this period or the previous one.
  std::optional<uint16_t> check(const FourTuple& t, wire::SeqNum peer_isn, wire::SeqNum cookie,
                                Instant now) const;

  // Our TSval `tsval_now` with the options in its low 6 bits, never above tsval_now (our
  // clock must not run backwards for the peer's PAWS, RFC 7323 §5).
  static uint32_t encode_ts(uint32_t tsval_now, const CookieOptions& o);
  // The options from the peer's TSecr (window scale 15 means none: shifts are clamped to 14).
  static CookieOptions decode_ts(uint32_t tsecr);

  // Whether cookies went out lately: only then is an ACK at a listener checked as one, so a
  // blind attacker cannot guess at the 24-bit MAC when we are not under a flood.
  void note_sent(Instant now) {
    last_sent_ = now;
    sent_any_ = true;
  }
  bool recently_sent(Instant now) const { return sent_any_ && now - last_sent_ < 2 * kPeriod; }

 private:
  uint32_t mac(const FourTuple& t, wire::SeqNum peer_isn, uint32_t period,
               uint32_t mss_index) const;

  std::array<uint8_t, 16> secret_;
  Instant last_sent_{};
  bool sent_any_ = false;
};

}  // namespace utcp::stack
