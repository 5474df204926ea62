// SPDX-License-Identifier: BSD-2-Clause
#include "stack/syn_cookies.hpp"

#include <algorithm>
#include <cstring>

#include "base/siphash.hpp"

namespace utcp::stack {
namespace {

constexpr uint32_t kMacBits = 24;
constexpr uint32_t kMacMask = (1u << kMacBits) - 1;
constexpr uint32_t kMssShift = 24;
constexpr uint32_t kPeriodShift = 27;
constexpr uint32_t kTsBits = 6;
constexpr uint32_t kTsMask = (1u << kTsBits) - 1;
constexpr uint32_t kNoWscale = 15;

uint32_t period_of(Instant now) {
  return static_cast<uint32_t>(to_us(now) / SynCookies::kPeriod.count());
}

void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

}  // namespace

uint32_t SynCookies::mac(const FourTuple& t, wire::SeqNum peer_isn, uint32_t period,
                         uint32_t mss_index) const {
  // A domain tag keeps these hashes apart from the ISN generator's under the same secret.
  // IPv4 tuples keep their 26-byte input; IPv6 ones put all 16 + 16 address bytes in (50).
  if (t.local_addr.is_v4() && t.remote_addr.is_v4()) {
    std::array<uint8_t, 26> in{'c', 'k'};
    put32(in.data() + 2, t.local_addr.v4().value);
    put32(in.data() + 6, t.remote_addr.v4().value);
    put32(in.data() + 10, uint32_t{t.local_port} << 16 | t.remote_port);
    put32(in.data() + 14, peer_isn.raw());
    put32(in.data() + 18, period);
    put32(in.data() + 22, mss_index);
    return static_cast<uint32_t>(siphash24(secret_, in)) & kMacMask;
  }
  std::array<uint8_t, 50> in{'c', '6'};
  std::memcpy(in.data() + 2, t.local_addr.bytes16().data(), 16);
  std::memcpy(in.data() + 18, t.remote_addr.bytes16().data(), 16);
  put32(in.data() + 34, uint32_t{t.local_port} << 16 | t.remote_port);
  put32(in.data() + 38, peer_isn.raw());
  put32(in.data() + 42, period);
  put32(in.data() + 46, mss_index);
  return static_cast<uint32_t>(siphash24(secret_, in)) & kMacMask;
}

wire::SeqNum SynCookies::make(const FourTuple& t, wire::SeqNum peer_isn, uint16_t peer_mss,
                              Instant now) const {
  uint32_t index = 0;
  for (uint32_t i = 0; i < kMssTable.size(); ++i) {
    if (kMssTable[i] <= peer_mss) index = i;
  }
  const uint32_t period = period_of(now);
  return wire::SeqNum(period << kPeriodShift | index << kMssShift |
                      mac(t, peer_isn, period, index));
}

std::optional<uint16_t> SynCookies::check(const FourTuple& t, wire::SeqNum peer_isn,
                                          wire::SeqNum cookie, Instant now) const {
  const uint32_t c = cookie.raw();
  const uint32_t index = c >> kMssShift & 7;
  const uint32_t current = period_of(now);
  // This period or the previous one; the top 5 bits tell which to try.
  for (uint32_t period : {current, current - 1}) {
    if (period > current) break;  // no period before the first
    if ((period & 31) != c >> kPeriodShift) continue;
    if (mac(t, peer_isn, period, index) == (c & kMacMask)) return kMssTable[index];
  }
  return std::nullopt;
}

uint32_t SynCookies::encode_ts(uint32_t tsval_now, const CookieOptions& o) {
  const uint32_t bits = (o.wscale ? std::min<uint32_t>(*o.wscale, 14) : kNoWscale) |
                        (o.sack ? 1u << 4 : 0u) | (o.ecn ? 1u << 5 : 0u);
  uint32_t ts = (tsval_now & ~kTsMask) | bits;
  if (bits > (tsval_now & kTsMask)) ts -= kTsMask + 1;  // one step back, never ahead
  return ts;
}

CookieOptions SynCookies::decode_ts(uint32_t tsecr) {
  CookieOptions o;
  // RFC 7323 §2.3: shifts above 14 are clamped to 14 when made, so 15 is free to mean "none".
  if (const uint32_t ws = tsecr & 0xF; ws != kNoWscale) o.wscale = static_cast<uint8_t>(ws);
  o.sack = (tsecr >> 4 & 1) != 0;
  o.ecn = (tsecr >> 5 & 1) != 0;
  return o;
}

}  // namespace utcp::stack
