// SPDX-License-Identifier: BSD-2-Clause
// Both timestamp clocks wrap past 2^32 in the middle of a transfer (RFC 7323 §5.5): PAWS and
// the RTT measurement compare TSvals modulo 2^32, so nothing may be dropped as an old duplicate
// and no timeout may happen. Two engines on a virtual 5 ms link (fixed seed, lossless).
#include <gtest/gtest.h>

#include <cstdio>

#include "support/engine_pair.hpp"

namespace utcp::test {
namespace {

using wire::SeqNum;

TEST(TimestampWrapTransfer, BothClocksWrapMidTransferWithoutPawsDrops) {
  LinkConfig link;
  link.seed = 5;
  link.delay = Duration(5'000);
  std::printf("link seed %llu\n", static_cast<unsigned long long>(link.seed));
  tcp::Config cfg;  // timestamps, SACK and window scaling on
  cfg.recv_buffer = 256 * 1024;
  cfg.recv_buffer_max = 0;  // a fixed window: about 25 MB/s at 10 ms, so the transfer takes >1 s
  EnginePair p(cfg, cfg, link);
  StreamCheck ab, ba;
  ab.total = ba.total = 30'000'000;
  ab.salt = 3;
  ba.salt = 4;
  // The clock starts at 0 and each side's TSval is its 1 ms clock plus its ISS (the RFC 7323
  // §5.4 offset), so A's TSval wraps at 300 ms and B's at 700 ms.
  p.b.listen(SeqNum(0xffffffffu - 700));
  p.a.open_active(p.now, SeqNum(0xffffffffu - 300));
  ASSERT_FALSE(p.run(ab, ba, std::chrono::milliseconds(1000)));
  // Both clocks have wrapped and data is still flowing both ways.
  EXPECT_GT(ab.read, 0u);
  EXPECT_GT(ba.read, 0u);
  EXPECT_LT(ab.read, ab.total);
  EXPECT_LT(ba.read, ba.total);
  ASSERT_TRUE(p.run(ab, ba, std::chrono::hours(1))) << "a->b " << ab.read << ", b->a " << ba.read;
  for (const StreamCheck* s : {&ab, &ba}) {
    EXPECT_EQ(s->read, s->total);
    EXPECT_EQ(s->mismatches, 0u);
    EXPECT_EQ(s->fnv_sent, s->fnv_received);
  }
  for (const tcp::Connection* c : {&p.a, &p.b}) {
    const tcp::TcpInfo i = c->tcp_info();
    EXPECT_TRUE(i.ts_enabled);
    EXPECT_EQ(i.rto_count, 0u);  // a PAWS drop of in-order data would end in a timeout
    // RTT samples from TSecr stayed right across the wrap: about 10 ms, not 2^32 ms.
    EXPECT_GE(i.srtt_us, 10'000u);
    EXPECT_LT(i.srtt_us, 100'000u);
  }
  EXPECT_EQ(p.dropped, 0u);
}

}  // namespace
}  // namespace utcp::test
