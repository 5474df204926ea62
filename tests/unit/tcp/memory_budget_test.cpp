// SPDX-License-Identifier: BSD-2-Clause
// The stack-wide buffer budget (tcp::MemoryBudget, Linux's tcp_mem) and the rings that answer
// to it: growth granted below the pressure mark, out-of-order growth refused under pressure,
// all growth past the guaranteed first 4 KiB refused at the limit, a send ring that then takes
// only what its storage holds, a receive ring that keeps only what fits, and every byte given
// back when the rings are freed.
#include "tcp/memory_budget.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "support/counters.hpp"
#include "support/test_stream.hpp"
#include "tcp/reassembly_queue.hpp"
#include "tcp/receiver.hpp"
#include "tcp/send_buffer.hpp"

namespace utcp::tcp {
namespace {

using test::stream;

uint64_t counter(const MemoryBudget& b, std::string_view name) {
  std::vector<std::pair<std::string_view, uint64_t>> out;
  b.append_to(out);
  return test::counter_in(out, name);
}

TEST(MemoryBudget, GrantsBelowTheMarkRefusesOutOfOrderUnderPressureAndAllAtTheLimit) {
  MemoryBudget b(64 * 1024);  // pressure above 48 KiB
  EXPECT_EQ(b.pressure_mark(), 48u * 1024);
  EXPECT_TRUE(b.try_grow(0, 32 * 1024));
  EXPECT_FALSE(b.under_pressure());
  EXPECT_TRUE(b.try_grow(0, 8 * 1024, /*optional=*/true));  // 40 KiB: still below the mark
  EXPECT_FALSE(b.try_grow(8 * 1024, 24 * 1024, true));      // would cross it: out of order, no
  EXPECT_TRUE(b.try_grow(8 * 1024, 16 * 1024));             // in order: yes, 48 KiB
  EXPECT_TRUE(b.try_grow(0, 8 * 1024));                     // 56 KiB: under pressure
  EXPECT_TRUE(b.under_pressure());
  EXPECT_EQ(counter(b, "tcp.mem.pressure-events"), 1u);
  EXPECT_FALSE(b.try_grow(4096, 8192, true));  // out of order under pressure
  EXPECT_FALSE(b.try_grow(0, 16 * 1024));      // past the limit
  EXPECT_TRUE(b.try_grow(0, 4096));            // the guaranteed first ring: always
  EXPECT_TRUE(b.try_grow(0, 4096));            // even at the limit (56 -> 60 -> 64 KiB)
  EXPECT_EQ(b.used(), 64u * 1024);
  EXPECT_TRUE(b.try_grow(0, 4096));  // and past it: each connection's right by birth
  EXPECT_EQ(counter(b, "tcp.mem.growth-refused"), 1u);
  EXPECT_EQ(counter(b, "tcp.mem.out-of-order-refused"), 2u);
  b.shrink(32 * 1024, 0);
  EXPECT_FALSE(b.under_pressure());  // 36 KiB
  b.shrink(36 * 1024, 0);
  EXPECT_EQ(b.used(), 0u);
  EXPECT_EQ(counter(b, "tcp.mem.peak-bytes"), 68u * 1024);
}

TEST(MemoryBudget, ZeroMeansNoLimitButStillCounts) {
  MemoryBudget b(0);
  EXPECT_TRUE(b.try_grow(0, size_t{1} << 40));
  EXPECT_FALSE(b.under_pressure());
  EXPECT_EQ(b.used(), size_t{1} << 40);
  b.shrink(size_t{1} << 40, 0);
  EXPECT_EQ(b.used(), 0u);
}

TEST(SendBufferBudget, RefusedGrowthTakesWhatTheStorageHoldsUntilPressureEnds) {
  MemoryBudget b(64 * 1024);
  ASSERT_TRUE(b.try_grow(0, 60 * 1024));  // another connection holds 60 KiB: under pressure
  SendBuffer sb(256 * 1024);
  sb.set_budget(&b);
  const auto data = stream(0, 20000);
  // The first 4 KiB are guaranteed; growth past them would cross the limit: refused.
  EXPECT_EQ(sb.write(data), 4096u);
  EXPECT_EQ(sb.allocated(), 4096u);
  EXPECT_EQ(sb.free_space(), 0u);  // not the 252 KiB the capacity would allow
  EXPECT_EQ(b.used(), 64u * 1024);
  sb.consume(1000);  // acknowledged: room in the storage held
  EXPECT_EQ(sb.free_space(), 1000u);
  EXPECT_EQ(sb.write(std::span(data).subspan(4096)), 1000u);
  b.shrink(60 * 1024, 0);  // the other connection went away
  sb.consume(10);          // the next ACK notices the pressure is over
  EXPECT_EQ(sb.free_space(), 256u * 1024 - 4086);
  EXPECT_EQ(sb.write(std::span(data).subspan(5096)), 20000u - 5096);
  std::vector<uint8_t> out(sb.size());
  sb.copy_out(0, out);
  EXPECT_EQ(out, std::vector<uint8_t>(data.begin() + 1010, data.end()));
  sb.consume(sb.size());
  sb.release_if_empty();
  EXPECT_EQ(b.used(), 0u);
}

TEST(SendBufferBudget, ARingThatHoldsLittleShrinksAndTheDestructorGivesBack) {
  MemoryBudget b(0);
  {
    SendBuffer sb(1 << 20);
    sb.set_budget(&b);
    const auto data = stream(0, 300000);
    EXPECT_EQ(sb.write(data), data.size());
    EXPECT_EQ(sb.allocated(), 512u * 1024);
    EXPECT_EQ(b.used(), 512u * 1024);
    sb.consume(data.size() - 5000);  // 5,000 bytes still queued: an 8 KiB ring would do
    EXPECT_EQ(sb.releasable(), 512u * 1024 - 8192);
    sb.release_if_empty();
    EXPECT_EQ(sb.allocated(), 8192u);
    EXPECT_EQ(b.used(), 8192u);
    std::vector<uint8_t> out(5000);
    sb.copy_out(0, out);
    EXPECT_EQ(out, stream(data.size() - 5000, 5000));
    EXPECT_EQ(sb.releasable(), 0u);  // about the right size now
  }
  EXPECT_EQ(b.used(), 0u);
}

TEST(ReassemblyBudget, OutOfOrderIsRefusedFirstAndInOrderKeepsWhatFits) {
  MemoryBudget b(64 * 1024);
  ReassemblyQueue q(256 * 1024);
  q.set_budget(&b);
  const auto data = stream(0, 64 * 1024);
  // In order, below the mark: the ring grows to 16 KiB.
  EXPECT_EQ(q.insert(0, std::span(data).first(10000)), 10000u);
  EXPECT_EQ(q.ring_bytes(), 16u * 1024);
  EXPECT_TRUE(q.honours_window());
  ASSERT_TRUE(b.try_grow(0, 36 * 1024));  // others: 52 KiB in all, under pressure
  EXPECT_TRUE(b.under_pressure());
  EXPECT_FALSE(q.honours_window());
  EXPECT_EQ(q.held_room(), 16u * 1024 - 10000);
  // Out of order past the storage held: refused, nothing kept.
  EXPECT_EQ(q.insert(20000, std::span(data).subspan(30000, 2000)), 0u);
  EXPECT_FALSE(q.has_out_of_order());
  // Out of order inside the storage held: kept (it costs nothing more).
  EXPECT_EQ(q.insert(2000, std::span(data).subspan(12000, 1000)), 0u);
  EXPECT_TRUE(q.has_out_of_order());
  // In order past the storage: the ring may grow to 32 KiB (52 + 16 > 64: refused), so only
  // what fits in 16 KiB is kept; the rest was never acknowledged and comes again.
  EXPECT_EQ(q.insert(0, std::span(data).subspan(10000, 10000)), 16u * 1024 - 10000);
  EXPECT_EQ(q.readable(), 16u * 1024);
  std::vector<uint8_t> out(q.readable());
  EXPECT_EQ(q.read(out), out.size());
  EXPECT_EQ(out, stream(0, out.size()));
  q.release_if_empty();
  EXPECT_EQ(b.used(), 36u * 1024);  // only the others' bytes remain
}

// RFC 9293 §3.8.6.2.2: under pressure the offered window opens no further than the storage
// held (as Linux's tcp_clamp_window), and what was offered stays offered.
TEST(ReceiverBudget, UnderPressureTheWindowOpensNoFurtherThanTheStorageHeldAndNeverShrinks) {
  MemoryBudget b(64 * 1024);
  Config cfg;
  cfg.recv_buffer = 256 * 1024;
  Receiver r(cfg);
  r.set_memory_budget(&b);
  Tcb tcb;
  tcb.rcv_wscale = 3;
  r.on_syn(tcb, wire::SeqNum(1000));
  r.window_field(tcb);
  EXPECT_EQ(tcb.rcv_adv.distance_from(tcb.rcv_nxt), 256u * 1024);
  const auto data = stream(0, 10000);
  ASSERT_EQ(r.on_text(tcb, tcb.rcv_nxt, data, false, Instant{}).newly_readable, 10000u);
  const wire::SeqNum offered = tcb.rcv_adv;
  ASSERT_TRUE(b.try_grow(0, 40 * 1024));  // others: 56 KiB in all, under pressure
  std::vector<uint8_t> sink(10000);
  ASSERT_EQ(r.read(tcb, sink), 10000u);
  EXPECT_FALSE(r.window_update_due(tcb));  // no update for a window that cannot open
  r.window_field(tcb);
  EXPECT_EQ(tcb.rcv_adv, offered);  // neither opened past the 16 KiB held nor shrunk
  // A peer filling what was offered (the right edge) before pressure: the ring may not grow
  // (16 KiB held, 56 KiB in the budget), so only what fits in the storage is kept; the rest is
  // not acknowledged (RCV.NXT stops there) and comes again.
  const auto more = stream(10000, 30000);
  EXPECT_EQ(r.on_text(tcb, tcb.rcv_nxt, more, false, Instant{}).newly_readable, 16u * 1024);
  r.window_field(tcb);
  EXPECT_EQ(tcb.rcv_adv, offered);
  b.shrink(40 * 1024, 0);  // pressure over: the window opens again as the application reads
  std::vector<uint8_t> out(16 * 1024);
  ASSERT_EQ(r.read(tcb, out), out.size());
  EXPECT_EQ(out, stream(10000, out.size()));
  r.window_field(tcb);
  EXPECT_EQ(tcb.rcv_adv.distance_from(tcb.rcv_nxt), 256u * 1024);
}

TEST(ReceiverBudget, UnderPressureANewConnectionOffersItsGuaranteedRing) {
  MemoryBudget b(64 * 1024);
  ASSERT_TRUE(b.try_grow(0, 60 * 1024));
  Config cfg;
  Receiver r(cfg);
  r.set_memory_budget(&b);
  Tcb tcb;
  EXPECT_EQ(r.syn_window(tcb, false), MemoryBudget::kGuaranteed);
  b.shrink(60 * 1024, 0);
  EXPECT_EQ(r.syn_window(tcb, false), 0xffff);
}

}  // namespace
}  // namespace utcp::tcp
