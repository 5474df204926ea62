// SPDX-License-Identifier: BSD-2-Clause
#include "dev/fault_injector.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "unit/dev/packet_helpers.hpp"
#include "utcp/memory_link.hpp"

namespace utcp::dev {
namespace {

using test_util::number_of;
using test_util::numbered_packet;
using test_util::Slots;

// A link whose a-side transmits through a fault injector; the b-side sees the result.
struct Harness {
  explicit Harness(FaultConfig tx, uint64_t seed = 42)
      : link(MemoryLinkConfig{.mtu = 9000, .queue_packets = 4096}),
        faulty(link.a(), FaultInjectorConfig{.tx = tx, .seed = seed}) {
    std::printf("fault injector seed %llu\n", static_cast<unsigned long long>(seed));
  }

  // Sends packet i at time t and returns everything b receives at that time.
  std::vector<uint32_t> send_and_collect(uint32_t i, Instant t, size_t len = 64) {
    faulty.transmit_one(numbered_packet(i, len), t);
    return collect(t);
  }
  std::vector<uint32_t> collect(Instant t) {
    std::vector<uint32_t> got;
    faulty.flush(t);
    for (size_t n; (n = link.b().receive(slots.slots, t)) > 0;) {
      for (size_t k = 0; k < n; ++k) got.push_back(number_of(slots.slots[k].data()));
    }
    return got;
  }

  MemoryLink link;
  FaultInjector faulty;
  Slots slots{64, 9000};
};

std::vector<uint32_t> run_sequence(const FaultConfig& config, uint64_t seed, uint32_t count) {
  Harness h(config, seed);
  std::vector<uint32_t> all;
  for (uint32_t i = 0; i < count; ++i) {
    const auto got = h.send_and_collect(i, instant_from_us(i * 100));
    all.insert(all.end(), got.begin(), got.end());
  }
  const auto rest = h.collect(instant_from_us(count * 100 + 1'000'000));
  all.insert(all.end(), rest.begin(), rest.end());
  return all;
}

TEST(FaultInjector, PassesEverythingWhenNoFaultIsConfigured) {
  Harness h(FaultConfig{});
  for (uint32_t i = 0; i < 100; ++i) {
    EXPECT_EQ(h.send_and_collect(i, instant_from_us(i)), std::vector<uint32_t>{i});
  }
  EXPECT_EQ(h.faulty.tx_counters().delivered, 100u);
  EXPECT_EQ(h.faulty.next_deadline(), kNever);
}

TEST(FaultInjector, DropAndDuplicateRatesMatchConfiguration) {
  constexpr uint32_t kPackets = 100'000;
  Harness h(FaultConfig{.drop = 0.10, .duplicate = 0.05});
  uint64_t received = 0;
  for (uint32_t i = 0; i < kPackets; ++i)
    received += h.send_and_collect(i, instant_from_us(i)).size();
  const auto& c = h.faulty.tx_counters();
  EXPECT_EQ(c.seen, kPackets);
  // Binomial standard deviations are about 95 and 69 packets; allow over 5 of them.
  EXPECT_NEAR(static_cast<double>(c.dropped) / kPackets, 0.10, 0.005);
  // Duplication is decided for survivors of the drop: expect 0.9 * 0.05 of all packets.
  EXPECT_NEAR(static_cast<double>(c.duplicated) / kPackets, 0.045, 0.004);
  EXPECT_EQ(received, kPackets - c.dropped + c.duplicated);
  EXPECT_EQ(c.delivered, received);
}

TEST(FaultInjector, CorruptionAndReorderRatesMatchConfiguration) {
  constexpr uint32_t kPackets = 100'000;
  Harness h(FaultConfig{.corrupt = 0.02, .reorder = 0.03});
  for (uint32_t i = 0; i < kPackets; ++i) h.send_and_collect(i, instant_from_us(i * 10));
  const auto& c = h.faulty.tx_counters();
  EXPECT_NEAR(static_cast<double>(c.corrupted) / kPackets, 0.02, 0.003);
  // A packet can only be held back while no other is held, which happens right after one is.
  EXPECT_NEAR(static_cast<double>(c.reordered) / kPackets, 0.03 * (1 - 0.03), 0.004);
}

TEST(FaultInjector, SameSeedGivesIdenticalSequence) {
  const FaultConfig config{.drop = 0.05,
                           .duplicate = 0.05,
                           .reorder = 0.05,
                           .delay = Duration(200),
                           .jitter = Duration(300)};
  const auto first = run_sequence(config, 7, 5000);
  const auto second = run_sequence(config, 7, 5000);
  const auto other = run_sequence(config, 8, 5000);
  EXPECT_EQ(first, second);
  EXPECT_NE(first, other);
  EXPECT_GT(first.size(), 4000u);
}

TEST(FaultInjector, CorruptFlipsExactlyOneBit) {
  Harness h(FaultConfig{.corrupt = 1.0});
  std::vector<uint8_t> original = numbered_packet(0, 300);
  for (size_t i = 0; i < original.size(); ++i) original[i] = static_cast<uint8_t>(i * 7);
  for (int round = 0; round < 200; ++round) {
    h.faulty.transmit_one(original, instant_from_us(round));
    ASSERT_EQ(h.link.b().receive(h.slots.slots, instant_from_us(round)), 1u);
    const auto got = h.slots.slots[0].data();
    ASSERT_EQ(got.size(), original.size());
    int flipped = 0;
    for (size_t i = 0; i < got.size(); ++i) flipped += std::popcount(uint8_t(got[i] ^ original[i]));
    EXPECT_EQ(flipped, 1);
  }
  EXPECT_EQ(h.faulty.tx_counters().corrupted, 200u);
}

TEST(FaultInjector, ReorderReleasesHeldPacketAfterTheNextOne) {
  Harness h(FaultConfig{.reorder = 1.0});
  std::vector<uint32_t> order;
  for (uint32_t i = 0; i < 6; ++i) {
    const auto got = h.send_and_collect(i, instant_from_us(i));
    order.insert(order.end(), got.begin(), got.end());
  }
  EXPECT_EQ(order, (std::vector<uint32_t>{1, 0, 3, 2, 5, 4}));
}

TEST(FaultInjector, HeldPacketIsReleasedAfterTheHoldTime) {
  Harness h(FaultConfig{.reorder = 1.0, .reorder_hold = Duration(5000)});
  EXPECT_TRUE(h.send_and_collect(9, instant_from_us(100)).empty());
  EXPECT_EQ(h.faulty.next_deadline(), instant_from_us(5100));
  EXPECT_TRUE(h.collect(instant_from_us(5099)).empty());
  EXPECT_EQ(h.collect(instant_from_us(5100)), std::vector<uint32_t>{9});
  EXPECT_EQ(h.faulty.next_deadline(), kNever);
}

TEST(FaultInjector, DelayWithJitterStaysInRange) {
  Harness h(FaultConfig{.delay = Duration(10'000), .jitter = Duration(2'000)});
  for (uint32_t i = 0; i < 500; ++i) h.faulty.transmit_one(numbered_packet(i), instant_from_us(0));
  std::vector<int64_t> arrival(500, -1);
  size_t got = 0;
  bool below_min_jitter_seen = false;
  for (Instant t = h.faulty.next_deadline(); t != kNever; t = h.faulty.next_deadline()) {
    for (uint32_t n : h.collect(t)) {
      arrival[n] = to_us(t);
      ++got;
      below_min_jitter_seen |= to_us(t) < 11'000;
    }
  }
  EXPECT_EQ(got, 500u);
  int64_t lo = INT64_MAX, hi = 0;
  for (int64_t a : arrival) lo = std::min(lo, a), hi = std::max(hi, a);
  EXPECT_GE(lo, 10'000);
  EXPECT_LE(hi, 12'000);
  EXPECT_GT(hi - lo, 1'500);  // the jitter really spreads arrivals
  EXPECT_TRUE(below_min_jitter_seen);
}

TEST(FaultInjector, RateLimitSpacesPacketsBySizeOverRate) {
  // 8 Mbit/s is one byte per microsecond: 1000-byte packets leave 1000 µs apart.
  Harness h(FaultConfig{.rate_mbps = 8, .rate_queue_bytes = 1'000'000});
  for (uint32_t i = 0; i < 10; ++i)
    h.faulty.transmit_one(numbered_packet(i, 1000), instant_from_us(0));
  std::vector<int64_t> times;
  for (Instant t = instant_from_us(0); t != kNever; t = h.faulty.next_deadline()) {
    for (uint32_t n : h.collect(t)) {
      EXPECT_EQ(n, times.size());
      times.push_back(to_us(t));
    }
  }
  ASSERT_EQ(times.size(), 10u);
  for (size_t i = 0; i < times.size(); ++i) EXPECT_EQ(times[i], static_cast<int64_t>(i) * 1000);

  // Smaller packets leave proportionally sooner: 250 bytes take 250 µs.
  Harness small(FaultConfig{.rate_mbps = 8});
  for (uint32_t i = 0; i < 3; ++i)
    small.faulty.transmit_one(numbered_packet(i, 250), instant_from_us(0));
  EXPECT_EQ(small.collect(instant_from_us(0)).size(), 1u);
  EXPECT_EQ(small.faulty.next_deadline(), instant_from_us(250));
}

TEST(FaultInjector, RateLimitBurstAndBoundedBacklog) {
  Harness h(FaultConfig{.rate_mbps = 8, .rate_burst_bytes = 2000, .rate_queue_bytes = 3000});
  for (uint32_t i = 0; i < 10; ++i)
    h.faulty.transmit_one(numbered_packet(i, 1000), instant_from_us(0));
  // The first packet and 2000 bytes of burst leave at once; the backlog then grows by 1000
  // bytes per packet and drops everything beyond 3000 bytes.
  EXPECT_EQ(h.collect(instant_from_us(0)).size(), 3u);
  EXPECT_EQ(h.faulty.tx_counters().rate_dropped, 4u);
  size_t later = 0;
  for (Instant t = h.faulty.next_deadline(); t != kNever; t = h.faulty.next_deadline()) {
    later += h.collect(t).size();
  }
  EXPECT_EQ(later, 3u);
}

TEST(FaultInjector, MtuCapDropsOnlyLargerPackets) {
  Harness h(FaultConfig{.mtu_cap = 1000});
  EXPECT_EQ(h.send_and_collect(1, instant_from_us(0), 999).size(), 1u);
  EXPECT_EQ(h.send_and_collect(2, instant_from_us(0), 1000).size(), 1u);
  EXPECT_TRUE(h.send_and_collect(3, instant_from_us(0), 1001).empty());
  EXPECT_TRUE(h.send_and_collect(4, instant_from_us(0), 8000).empty());
  EXPECT_EQ(h.faulty.tx_counters().mtu_dropped, 2u);
}

TEST(FaultInjector, DuplicateDeliversTheSamePacketTwice) {
  Harness h(FaultConfig{.duplicate = 1.0});
  EXPECT_EQ(h.send_and_collect(5, instant_from_us(0)), (std::vector<uint32_t>{5, 5}));
  EXPECT_EQ(h.send_and_collect(6, instant_from_us(1)), (std::vector<uint32_t>{6, 6}));
  EXPECT_EQ(h.faulty.tx_counters().duplicated, 2u);
  EXPECT_EQ(h.faulty.tx_counters().delivered, 4u);
}

TEST(FaultInjector, DropEverythingDeliversNothing) {
  Harness h(FaultConfig{.drop = 1.0});
  for (uint32_t i = 0; i < 50; ++i) EXPECT_TRUE(h.send_and_collect(i, instant_from_us(i)).empty());
  EXPECT_EQ(h.faulty.tx_counters().dropped, 50u);
  EXPECT_EQ(h.link.a_to_b().sent, 0u);
}

TEST(FaultInjector, ReceiveDirectionFaultsApplyToIncomingPackets) {
  MemoryLink link;
  FaultInjector faulty(link.b(), FaultInjectorConfig{.rx = FaultConfig{.drop = 0.5}, .seed = 3});
  Slots s(64);
  size_t received = 0;
  for (uint32_t i = 0; i < 2000; ++i) {
    link.a().transmit_one(numbered_packet(i), instant_from_us(i));
    received += faulty.receive(s.slots, instant_from_us(i));
  }
  EXPECT_EQ(faulty.rx_counters().seen, 2000u);
  EXPECT_EQ(received, 2000u - faulty.rx_counters().dropped);
  EXPECT_NEAR(static_cast<double>(received) / 2000, 0.5, 0.06);
  EXPECT_EQ(faulty.tx_counters().seen, 0u);
}

TEST(FaultInjector, ReceiveDirectionDelayUsesDeadline) {
  MemoryLink link;
  FaultInjector faulty(link.b(), FaultInjectorConfig{.rx = FaultConfig{.delay = Duration(300)}});
  Slots s(4);
  link.a().transmit_one(numbered_packet(5), instant_from_us(0));
  EXPECT_EQ(faulty.receive(s.slots, instant_from_us(0)), 0u);
  EXPECT_EQ(faulty.next_deadline(), instant_from_us(300));
  ASSERT_EQ(faulty.receive(s.slots, instant_from_us(300)), 1u);
  EXPECT_EQ(number_of(s.slots[0].data()), 5u);
}

// A device that states every offload (as a TUN with offload does), for wrappers to hide.
class OffloadingDevice final : public Device {
 public:
  size_t mtu() const override { return 1500; }
  DeviceCapabilities capabilities() const override {
    return DeviceCapabilities{.mtu = 1500,
                              .rx_checksum_offload = true,
                              .tso_max_bytes = 65535,
                              .tso_checksum_offload = true,
                              .scatter_receive = true};
  }
  size_t receive(std::span<PacketSlot>, Instant) override { return 0; }
  size_t transmit(std::span<const std::span<const uint8_t>> p, Instant) override {
    return p.size();
  }
};

TEST(FaultInjector, StatesOnlyTheMtuOfWhatItWraps) {
  // It copies, delays and corrupts packets: no checksum vouched for, no TSO (a corrupted
  // segment must not get a fresh checksum from the device), no scatter read survives it.
  OffloadingDevice inner;
  FaultInjector faults(inner, FaultInjectorConfig{});
  const DeviceCapabilities c = faults.capabilities();
  EXPECT_EQ(c.mtu, 1500u);
  EXPECT_FALSE(c.rx_checksum_offload);
  EXPECT_EQ(c.tso_max_bytes, 0u);
  EXPECT_FALSE(c.tso_checksum_offload);
  EXPECT_FALSE(c.scatter_receive);
  // The plain default for a device that states nothing: its MTU.
  MemoryLink link(MemoryLinkConfig{.mtu = 9000});
  EXPECT_EQ(link.a().capabilities().mtu, 9000u);
  EXPECT_EQ(link.a().capabilities().tso_max_bytes, 0u);
}

}  // namespace
}  // namespace utcp::dev
