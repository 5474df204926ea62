// SPDX-License-Identifier: BSD-2-Clause
#include "utcp/memory_link.hpp"

#include <poll.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "unit/dev/packet_helpers.hpp"

namespace utcp::dev {
namespace {

using test_util::number_of;
using test_util::numbered_packet;
using test_util::Slots;

TEST(MemoryLink, DeliversInOrderBothWays) {
  MemoryLink link;
  const Instant t0 = instant_from_us(0);
  for (uint32_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(link.a().transmit_one(numbered_packet(i, 40 + i), t0));
    ASSERT_TRUE(link.b().transmit_one(numbered_packet(100 + i), t0));
  }
  Slots s(32);
  ASSERT_EQ(link.b().receive(s.slots, t0), 10u);
  for (uint32_t i = 0; i < 10; ++i) {
    EXPECT_EQ(s.slots[i].len, 40u + i);
    EXPECT_EQ(number_of(s.slots[i].data()), i);
  }
  ASSERT_EQ(link.a().receive(s.slots, t0), 10u);
  for (uint32_t i = 0; i < 10; ++i) EXPECT_EQ(number_of(s.slots[i].data()), 100 + i);
  EXPECT_EQ(link.b().receive(s.slots, t0), 0u);
  EXPECT_EQ(link.a_to_b().delivered, 10u);
  EXPECT_EQ(link.b_to_a().delivered, 10u);
}

TEST(MemoryLink, ReceiveStopsWhenSlotsAreFull) {
  MemoryLink link;
  const Instant t0 = instant_from_us(0);
  for (uint32_t i = 0; i < 5; ++i) link.a().transmit_one(numbered_packet(i), t0);
  Slots s(2);
  ASSERT_EQ(link.b().receive(s.slots, t0), 2u);
  EXPECT_EQ(number_of(s.slots[1].data()), 1u);
  ASSERT_EQ(link.b().receive(s.slots, t0), 2u);
  EXPECT_EQ(number_of(s.slots[0].data()), 2u);
  ASSERT_EQ(link.b().receive(s.slots, t0), 1u);
  EXPECT_EQ(number_of(s.slots[0].data()), 4u);
}

TEST(MemoryLink, BoundedQueueDropsWhenFull) {
  MemoryLink link(MemoryLinkConfig{.queue_packets = 4});
  const Instant t0 = instant_from_us(0);
  for (uint32_t i = 0; i < 6; ++i) link.a().transmit_one(numbered_packet(i), t0);
  EXPECT_EQ(link.a_to_b().sent, 4u);
  EXPECT_EQ(link.a_to_b().dropped_full, 2u);
  Slots s(8);
  ASSERT_EQ(link.b().receive(s.slots, t0), 4u);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(number_of(s.slots[i].data()), i);  // tail drop
  // Room again once drained.
  EXPECT_TRUE(link.a().transmit_one(numbered_packet(7), t0));
  ASSERT_EQ(link.b().receive(s.slots, t0), 1u);
  EXPECT_EQ(number_of(s.slots[0].data()), 7u);
}

TEST(MemoryLink, DelayIsRespectedInVirtualTime) {
  MemoryLink link(MemoryLinkConfig{.delay = Duration(5000)});
  Slots s(4);
  EXPECT_EQ(link.b().next_deadline(), kNever);
  link.a().transmit_one(numbered_packet(1), instant_from_us(1000));
  link.a().transmit_one(numbered_packet(2), instant_from_us(1500));
  EXPECT_EQ(link.b().next_deadline(), instant_from_us(6000));
  EXPECT_EQ(link.b().receive(s.slots, instant_from_us(5999)), 0u);
  ASSERT_EQ(link.b().receive(s.slots, instant_from_us(6000)), 1u);
  EXPECT_EQ(number_of(s.slots[0].data()), 1u);
  EXPECT_EQ(link.b().next_deadline(), instant_from_us(6500));
  ASSERT_EQ(link.b().receive(s.slots, instant_from_us(7000)), 1u);
  EXPECT_EQ(number_of(s.slots[0].data()), 2u);
  EXPECT_EQ(link.b().next_deadline(), kNever);
  // The other direction is unaffected by this one's queue.
  EXPECT_EQ(link.a().next_deadline(), kNever);
}

TEST(MemoryLink, OversizedPacketsAndSmallSlotsAreCountedNotTruncated) {
  MemoryLink link(MemoryLinkConfig{.mtu = 1000});
  const Instant t0 = instant_from_us(0);
  link.a().transmit_one(numbered_packet(1, 1001), t0);
  EXPECT_EQ(link.a_to_b().dropped_too_big, 1u);
  link.a().transmit_one(numbered_packet(2, 1000), t0);
  link.a().transmit_one(numbered_packet(3, 10), t0);
  Slots small(2, 100);
  ASSERT_EQ(link.b().receive(small.slots, t0), 1u);
  EXPECT_EQ(number_of(small.slots[0].data()), 3u);
  EXPECT_EQ(link.a_to_b().dropped_no_room, 1u);
  EXPECT_EQ(link.a().mtu(), 1000u);
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

TEST(MemoryLink, FdIsReadableExactlyWhileAPacketIsDue) {
  MemoryLink link(MemoryLinkConfig{.queue_packets = 8});
  const Instant t0 = instant_from_us(0);
  const int fd = link.b().fd();
  ASSERT_GE(fd, 0);
  EXPECT_NE(fd, link.a().fd());  // one per end
  EXPECT_FALSE(readable(fd));
  ASSERT_TRUE(link.a().transmit_one(numbered_packet(1), t0));
  ASSERT_TRUE(link.a().transmit_one(numbered_packet(2), t0));
  EXPECT_TRUE(readable(fd));
  EXPECT_FALSE(readable(link.a().fd()));  // the sender's own end is not woken
  Slots one(1);
  ASSERT_EQ(link.b().receive(one.slots, t0), 1u);
  EXPECT_TRUE(readable(fd));  // one more is due
  ASSERT_EQ(link.b().receive(one.slots, t0), 1u);
  EXPECT_FALSE(readable(fd));  // drained
  EXPECT_EQ(link.b().fd(), fd);
}

TEST(MemoryLink, FdMadeLateSeesPacketsAlreadyQueued) {
  MemoryLink link;
  const Instant t0 = instant_from_us(0);
  ASSERT_TRUE(link.a().transmit_one(numbered_packet(1), t0));
  EXPECT_TRUE(readable(link.b().fd()));
}

TEST(MemoryLink, DelayedPacketIsAnnouncedByDeadlineNotBySpinningFd) {
  MemoryLink link(MemoryLinkConfig{.delay = Duration(1000)});
  const Instant t0 = instant_from_us(0);
  const int fd = link.b().fd();
  ASSERT_TRUE(link.a().transmit_one(numbered_packet(1), t0));
  Slots s(4);
  EXPECT_EQ(link.b().receive(s.slots, t0), 0u);  // not due yet
  EXPECT_FALSE(readable(fd));  // so a loop sleeps on its timer instead of spinning
  EXPECT_EQ(link.b().next_deadline(), instant_from_us(1000));
  EXPECT_EQ(link.b().receive(s.slots, instant_from_us(1000)), 1u);
}

TEST(MemoryLink, DownLinkLosesAndCountsEverything) {
  MemoryLink link;
  const Instant t0 = instant_from_us(0);
  link.set_down(true);
  EXPECT_TRUE(link.a().transmit_one(numbered_packet(1), t0));  // accepted, as a wire would
  EXPECT_TRUE(link.b().transmit_one(numbered_packet(2), t0));
  EXPECT_FALSE(readable(link.b().fd()));
  Slots s(4);
  EXPECT_EQ(link.b().receive(s.slots, t0), 0u);
  EXPECT_EQ(link.a_to_b().dropped_down, 1u);
  EXPECT_EQ(link.b_to_a().dropped_down, 1u);
  link.set_down(false);
  ASSERT_TRUE(link.a().transmit_one(numbered_packet(3), t0));
  ASSERT_EQ(link.b().receive(s.slots, t0), 1u);
  EXPECT_EQ(number_of(s.slots[0].data()), 3u);
}

}  // namespace
}  // namespace utcp::dev
