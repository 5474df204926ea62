// SPDX-License-Identifier: BSD-2-Clause
// SYN cookies (RFC 4987 §3.6) on their own: a cookie names the peer's MSS and is valid for this
// 4-tuple and SYN only, in its 64 s period and the next; forged or altered ones fail; the
// options that ride in the timestamp come back as they went.
#include <gtest/gtest.h>

#include <cstdio>

#include "base/prng.hpp"
#include "stack/syn_cookies.hpp"

namespace utcp::stack {
namespace {

using std::chrono::seconds;
using wire::SeqNum;

const std::array<uint8_t, 16> kSecret = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
const FourTuple kTuple{wire::Ipv4Addr(10, 77, 0, 2), 80, wire::Ipv4Addr(10, 77, 0, 9), 40000};
const Instant kT0 = Instant{} + seconds(64 * 281 + 3);  // 3 s into a 64 s period

TEST(SynCookies, RoundTripNamesTheLargestTableMssNotAboveTheOffer) {
  const SynCookies c(kSecret);
  const SeqNum peer(123456789);
  const std::pair<uint16_t, uint16_t> cases[] = {
      {1460, 1460}, {1448, 1440}, {536, 536}, {9000, 8960}, {1300, 1220}, {100, 64}, {40, 64}};
  for (auto [offered, named] : cases) {
    const SeqNum cookie = c.make(kTuple, peer, offered, kT0);
    EXPECT_EQ(c.check(kTuple, peer, cookie, kT0), named) << offered;
  }
}

TEST(SynCookies, ValidInItsPeriodAndTheNextThenExpired) {
  const SynCookies c(kSecret);
  const SeqNum peer(42);
  const SeqNum cookie = c.make(kTuple, peer, 1460, kT0);
  EXPECT_TRUE(c.check(kTuple, peer, cookie, kT0 + seconds(60)));
  // kT0 is 3 s into a period: the next period ends 125 s later.
  EXPECT_TRUE(c.check(kTuple, peer, cookie, kT0 + seconds(124)));
  EXPECT_FALSE(c.check(kTuple, peer, cookie, kT0 + seconds(125)));
  EXPECT_FALSE(c.check(kTuple, peer, cookie, kT0 + seconds(64 * 32)));  // the 5 bits wrap
  EXPECT_FALSE(c.check(kTuple, peer, cookie, kT0 - seconds(64)));       // from the future
}

TEST(SynCookies, AnotherTupleSynOrSecretFails) {
  const SynCookies c(kSecret);
  const SeqNum peer(1000);
  const SeqNum cookie = c.make(kTuple, peer, 1460, kT0);
  FourTuple other = kTuple;
  other.remote_port = 40001;
  EXPECT_FALSE(c.check(other, peer, cookie, kT0));
  other = kTuple;
  other.remote_addr = wire::Ipv4Addr(10, 77, 0, 10);
  EXPECT_FALSE(c.check(other, peer, cookie, kT0));
  EXPECT_FALSE(c.check(kTuple, peer + 1, cookie, kT0));
  std::array<uint8_t, 16> key2 = kSecret;
  key2[0] ^= 1;
  EXPECT_FALSE(SynCookies(key2).check(kTuple, peer, cookie, kT0));
  // A changed MSS index (bits 24-26) or a flipped MAC bit is caught by the MAC.
  EXPECT_FALSE(c.check(kTuple, peer, SeqNum(cookie.raw() ^ (1u << 24)), kT0));
  EXPECT_FALSE(c.check(kTuple, peer, SeqNum(cookie.raw() ^ 1u), kT0));
}

TEST(SynCookies, ForgedAcksAreRejected) {
  const uint64_t seed = 20261207;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  Prng rng(seed);
  const SynCookies c(kSecret);
  int accepted = 0;
  for (int i = 0; i < 200'000; ++i) {
    const SeqNum peer(static_cast<uint32_t>(rng.next()));
    const SeqNum guess(static_cast<uint32_t>(rng.next()));
    accepted += c.check(kTuple, peer, guess, kT0).has_value();
  }
  // A guess passes with probability 2 / 32 / 2^24: about 0.0007 here.
  EXPECT_EQ(accepted, 0);
}

TEST(SynCookies, OptionsRideInTheTimestampsLowBits) {
  const CookieOptions cases[] = {{std::nullopt, false, false},
                                 {uint8_t{7}, true, false},
                                 {uint8_t{0}, false, true},
                                 {uint8_t{14}, true, true},
                                 {std::nullopt, true, true}};
  for (uint32_t now : {0x12345678u, 0x12345640u, 0x1234567Fu, 5u}) {
    for (const CookieOptions& o : cases) {
      const uint32_t ts = SynCookies::encode_ts(now, o);
      EXPECT_EQ(SynCookies::decode_ts(ts), o);
      // Never ahead of the clock, and at most 127 behind it.
      EXPECT_LE(static_cast<int32_t>(ts - now), 0);
      EXPECT_LT(now - ts, 128u);
    }
  }
  // A shift above 14 is clamped (RFC 7323 §2.3), not mistaken for "none".
  EXPECT_EQ(SynCookies::decode_ts(SynCookies::encode_ts(1000, {uint8_t{15}, false, false})).wscale,
            uint8_t{14});
}

TEST(SynCookies, CheckedOnlyWhileCookiesAreBeingSent) {
  SynCookies c(kSecret);
  EXPECT_FALSE(c.recently_sent(kT0));
  c.note_sent(kT0);
  EXPECT_TRUE(c.recently_sent(kT0 + seconds(127)));
  EXPECT_FALSE(c.recently_sent(kT0 + seconds(128)));
}

}  // namespace
}  // namespace utcp::stack
