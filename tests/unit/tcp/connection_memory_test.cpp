// Buffers allocated on first use and freed when the connection goes idle (issue #7: an idle
// connection holds only its own object). The release changes memory, never the protocol: the
// timers, the data and what is sent stay the same.
#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"

namespace utcp::test {
namespace {

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
  h.app_send("hello");
  auto s = h.pop();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->payload, bytes_of("hello"));
  EXPECT_EQ(h.conn.buffer_bytes(), 64000u);  // the send ring, sized by the send buffer
  // Unacknowledged data is still needed: nothing to free.
  EXPECT_EQ(h.conn.memory_release_deadline(), kNever);

  h.advance(std::chrono::milliseconds(10));
  h.send(seg().at(R(1)).ack(L(6)).win(64000).data("world"));
  EXPECT_EQ(h.conn.buffer_bytes(), 128000u);  // plus the receive ring
  // The send ring is empty: it may go one idle period after the last segment.
  const Instant last = h.now;
  EXPECT_EQ(h.conn.memory_release_deadline(), last + plain_config().idle_release);
  const Instant protocol_deadline = h.conn.next_deadline();  // the delayed ACK
  EXPECT_LT(protocol_deadline, last + plain_config().idle_release);

  h.conn.release_idle_memory();
  // The receive ring still holds unread bytes and stays; the deadline is gone (no re-firing).
  EXPECT_EQ(h.conn.buffer_bytes(), 64000u);
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
  h.send(seg().at(R(6)).ack(L(11)).win(64000).data("more"));
  EXPECT_EQ(h.app_recv(), "more");
  EXPECT_EQ(h.conn.state(), tcp::State::kEstablished);
}

TEST(ConnectionMemory, ZeroIdleReleaseKeepsBuffers) {
  tcp::Config cfg = plain_config();
  cfg.idle_release = Duration(0);
  Harness h(cfg);
  h.establish();
  h.app_send("x");
  h.pop();
  h.send(seg().at(R(1)).ack(L(2)).win(64000));
  EXPECT_EQ(h.conn.buffer_bytes(), 64000u);
  EXPECT_EQ(h.conn.memory_release_deadline(), kNever);
}

}  // namespace
}  // namespace utcp::test
