// SPDX-License-Identifier: BSD-2-Clause
// Buffers allocated on first use and freed when the connection goes idle (issue #7: an idle
// connection holds only its own object). The release changes memory, never the protocol: the
// timers, the data and what is sent stay the same.
#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"
#include "tcp/memory_budget.hpp"
#include "tcp/reassembly_queue.hpp"
#include "tcp/send_buffer.hpp"

namespace utcp::test {
namespace {

// A few bytes cost the first ring size, the same for both rings.
constexpr size_t kRing = tcp::SendBuffer::kInitialAllocation;
static_assert(kRing == tcp::ReassemblyQueue::kInitialAllocation);

std::vector<uint8_t> bytes_of(std::string_view s) {
  return {s.begin(), s.end()};
}

TEST(ConnectionMemory, NoBufferUntilFirstUse) {
  Harness h;
  h.establish();
  EXPECT_EQ(h.conn.buffer_bytes(), 0u);
  EXPECT_EQ(h.conn.memory_release_deadline(), kNever);
}

TEST(ConnectionMemory, EmptyBuffersAreReleasedAfterIdleAndReallocatedOnUse) {
  Harness h;
  h.establish();
  // Past the quick ACKs at the start, so that "world" below leaves a delayed ACK pending.
  const uint32_t r = h.use_up_quick_acks();
  h.conn.release_idle_memory();
  ASSERT_EQ(h.conn.buffer_bytes(), 0u);
  h.app_send("hello");
  auto s = h.pop();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->payload, bytes_of("hello"));
  // The send ring, at its first size: it grows with use, not to the 64,000-byte send buffer.
  EXPECT_EQ(h.conn.buffer_bytes(), kRing);
  // Unacknowledged data is still needed: nothing to free.
  EXPECT_EQ(h.conn.memory_release_deadline(), kNever);

  h.advance(std::chrono::milliseconds(10));
  h.send(seg().at(R(r)).ack(L(6)).win(64000).data("world"));
  EXPECT_EQ(h.conn.buffer_bytes(), 2 * kRing);  // plus the receive ring
  // The send ring is empty: it may go one idle period after the last segment.
  const Instant last = h.now;
  EXPECT_EQ(h.conn.memory_release_deadline(), last + plain_config().idle_release);
  const Instant protocol_deadline = h.conn.next_deadline();  // the delayed ACK
  EXPECT_LT(protocol_deadline, last + plain_config().idle_release);

  h.conn.release_idle_memory();
  // The receive ring still holds unread bytes and stays; the deadline is gone (no re-firing).
  EXPECT_EQ(h.conn.buffer_bytes(), kRing);
  EXPECT_EQ(h.conn.memory_release_deadline(), kNever);
  EXPECT_EQ(h.conn.next_deadline(), protocol_deadline);  // timers untouched
  EXPECT_EQ(h.app_recv(), "world");
  EXPECT_EQ(h.conn.memory_release_deadline(), last + plain_config().idle_release);
  h.conn.release_idle_memory();
  EXPECT_EQ(h.conn.buffer_bytes(), 0u);
  EXPECT_EQ(h.conn.memory_release_deadline(), kNever);

  // Both directions work again on fresh storage.
  h.advance(std::chrono::milliseconds(50));
  h.outbox.clear();
  h.app_send("again");
  s = h.pop();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->seq, L(6));
  EXPECT_EQ(s->payload, bytes_of("again"));
  h.send(seg().at(R(r + 5)).ack(L(11)).win(64000).data("more"));
  EXPECT_EQ(h.app_recv(), "more");
  EXPECT_EQ(h.conn.state(), tcp::State::kEstablished);
}

TEST(ConnectionMemory, UnderMemoryPressureIdleStorageGoesSooner) {
  tcp::MemoryBudget budget(1 << 20);
  Harness h(plain_config(), tcp::Env{.memory = &budget});
  h.establish();
  const uint32_t r = h.use_up_quick_acks();
  h.send(seg().at(R(r)).ack(L(1)).win(64000).data("world"));
  EXPECT_EQ(h.app_recv(), "world");
  EXPECT_EQ(budget.used(), kRing);  // the receive ring, charged to the budget
  const Instant last = h.now;
  EXPECT_EQ(h.conn.memory_release_deadline(), last + plain_config().idle_release);
  ASSERT_TRUE(budget.try_grow(0, 800 * 1024));  // others: past 3/4 of the budget
  ASSERT_TRUE(budget.under_pressure());
  EXPECT_EQ(h.conn.memory_release_deadline(), last + plain_config().idle_release / 8);
  h.conn.release_idle_memory();
  EXPECT_EQ(h.conn.buffer_bytes(), 0u);
  EXPECT_EQ(budget.used(), 800u * 1024);  // the ring given back
}

TEST(ConnectionMemory, ZeroIdleReleaseKeepsBuffers) {
  tcp::Config cfg = plain_config();
  cfg.idle_release = Duration(0);
  Harness h(cfg);
  h.establish();
  h.app_send("x");
  h.pop();
  h.send(seg().at(R(1)).ack(L(2)).win(64000));
  EXPECT_EQ(h.conn.buffer_bytes(), kRing);
  EXPECT_EQ(h.conn.memory_release_deadline(), kNever);
}

// The rings grow with use, but the protocol sees only the configured buffers: every ACK offers
// the 64,000-byte receive buffer minus what is held, the application may queue the whole send
// buffer at once, and storage never exceeds either buffer.
TEST(ConnectionMemory, RingGrowthIsInvisibleOnTheWire) {
  Harness h;
  h.establish();
  constexpr size_t kSeg = 1460;
  size_t received = 0;
  size_t last_bytes = 0;
  for (int i = 0; i < 43; ++i) {  // 62,780 bytes, unread: the ring grows 4 KiB -> 64,000 B
    std::vector<uint8_t> payload(kSeg, static_cast<uint8_t>(i));
    h.send(seg().at(R(1 + received)).ack(L(1)).win(64000).bytes(payload));
    received += kSeg;
    h.advance(std::chrono::milliseconds(200));  // the delayed ACK, if one is pending
    while (auto a = h.pop()) {
      EXPECT_EQ(a->ack_no, R(1 + received));
      EXPECT_EQ(a->window, 64000 - received) << "after " << received << " bytes";
    }
    const size_t bytes = h.conn.buffer_bytes();
    EXPECT_GE(bytes, received);
    EXPECT_GE(bytes, last_bytes);  // grows, never shrinks while bytes are held
    EXPECT_LE(bytes, 64000u);
    last_bytes = bytes;
  }
  EXPECT_EQ(last_bytes, 64000u);  // full capacity reached
  for (int i = 0; i < 43; ++i) {
    const std::string got = h.app_recv(kSeg);
    ASSERT_EQ(got, std::string(kSeg, static_cast<char>(i))) << "segment " << i;
  }

  // The send side: the whole 64,000-byte send buffer is accepted at once, from a 4 KiB ring.
  const size_t before = h.conn.buffer_bytes();
  const std::vector<uint8_t> big(70000, 0x42);
  EXPECT_EQ(h.app_send_bytes(big), 64000u);
  const size_t grown = h.conn.buffer_bytes() - before;
  EXPECT_GE(grown, 64000u);
  EXPECT_LT(grown, 64000u + 4096);  // the send ring at its capacity, plus the RACK log
}

}  // namespace
}  // namespace utcp::test
