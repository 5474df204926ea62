// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// IPv4 reassembly (RFC 791 §3.2, RFC 1122 §3.3.2). Fragments are grouped into trains keyed
// by (source, destination, protocol, identification). Resources are bounded: a fixed number
// of trains, a number per source address, a total byte budget, and a per-train timeout.
// When a bound is reached the oldest train (of that source, or of all) is evicted rather
// than the new one refused: otherwise a burst of spoofed first fragments that never
// complete would lock legitimate datagrams out for a whole timeout. Policy is conservative,
// as RFC 5722 requires for IPv6 and Linux applies: an overlapping (or duplicate) fragment, a
// train that would exceed 65535 bytes, or inconsistent ends drop the whole train, and later
// fragments of it are dropped until its timeout.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "utcp/time.hpp"
#include "wire/ipv4.hpp"

namespace utcp::ip {

struct ReassemblyConfig {
  size_t max_trains = 64;
  size_t max_trains_per_source = 16;  // one source cannot take the whole table
  size_t max_bytes = 256 * 1024;      // buffer memory held by all trains together
  Duration timeout = std::chrono::seconds(30);
};

enum class FragmentResult : uint8_t {
  kHeld,           // stored; the datagram is not complete yet
  kComplete,       // `datagram` holds the reassembled IPv4 datagram
  kOverlap,        // overlapped (or duplicated) received data: train dropped
  kOversize,       // would exceed 65535 bytes: train dropped
  kMalformed,      // bad fragment length or ends that contradict each other
  kDeadTrain,      // belongs to a train already dropped
  kTooManyTrains,  // no room for a new train (only when max_trains is 0)
  kNoMemory,       // the byte budget is exhausted: train dropped
};

struct FragmentOutcome {
  FragmentResult result;
  // For kComplete: header (20 bytes, options removed) plus payload; valid until the next add().
  std::span<const uint8_t> datagram;
  // Older trains evicted to make room for this fragment (table full, per-source bound or
  // byte budget); counted by the caller.
  uint32_t evicted = 0;
};

class FragmentReassembler {
 public:
  explicit FragmentReassembler(const ReassemblyConfig& config = {});

  // Adds one fragment (a parsed packet with MF set or a non-zero offset). Trains that timed
  // out are freed first; call expire() before add() to learn how many.
  FragmentOutcome add(const wire::Ipv4Packet& fragment, Instant now);

  // Drops trains older than the timeout; returns how many incomplete trains timed out.
  size_t expire(Instant now);
  Instant next_deadline() const;

  size_t trains() const;  // trains in the table, dropped ones included
  size_t bytes_held() const { return held_bytes_; }
  const ReassemblyConfig& config() const { return config_; }

 private:
  static constexpr size_t kMaxPayload = 65535 - wire::kIpv4HeaderMin;
  static constexpr size_t kBlocks = (65536 + 7) / 8;  // 8-byte fragment units

  struct Train {
    bool in_use = false;
    bool dead = false;  // dropped: swallow its fragments until it expires
    bool have_first = false;
    bool have_last = false;
    wire::Ipv4Addr src, dst;
    uint8_t protocol = 0;
    uint16_t id = 0;
    Instant expires{};
    size_t received = 0;  // payload bytes stored
    size_t max_end = 0;   // highest payload end seen
    size_t total = 0;     // payload length, known once the last fragment came
    wire::Ipv4Repr first_header;
    std::vector<uint8_t> buf;  // header slot + payload; grows by doubling, so O(log n) allocations
    std::array<uint64_t, kBlocks / 64> received_blocks{};
  };

  Train* find(const wire::Ipv4Packet& p);
  Train* start(const wire::Ipv4Packet& p, Instant now, uint32_t& evicted);
  Train* oldest(const Train* except, const wire::Ipv4Addr* of_source);
  void evict(Train& t);
  FragmentResult kill(Train& t, FragmentResult why);
  void release(Train& t);
  bool reserve(Train& t, size_t need);
  bool fits(const Train& t, size_t want) const;
  static bool any_block(const Train& t, size_t first, size_t last);
  static void mark_blocks(Train& t, size_t first, size_t last);

  ReassemblyConfig config_;
  std::vector<Train> trains_;
  size_t held_bytes_ = 0;
  std::vector<uint8_t> completed_;  // the last reassembled datagram
};

}  // namespace utcp::ip
