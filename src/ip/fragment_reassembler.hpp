// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// IP reassembly for both families: IPv4 (RFC 791 §3.2, RFC 1122 §3.3.2) and IPv6 (RFC 8200
// §4.5). Fragments are grouped into trains keyed by source, destination and identification
// (and protocol for IPv4). Resources are bounded: a fixed number of trains, a number per
// source address, a total byte budget, and a per-train timeout. When a bound is reached the
// oldest train (of that source, or of all) is evicted rather than the new one refused:
// otherwise a burst of spoofed first fragments that never complete would lock legitimate
// datagrams out for a whole timeout. Policy is conservative, as RFC 5722 requires for IPv6
// and Linux applies to both: an overlapping (or duplicate) fragment, a train that would
// exceed the maximum datagram size, or inconsistent ends drop the whole train, and later
// fragments of it are dropped until its timeout.
//
// One instance holds one family's trains (Ipv4Input and Ipv6Input each own one); the
// family-specific parts are only the key, the header placed in front of the data and its
// fix-up on completion.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "utcp/address.hpp"
#include "utcp/time.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/ipv6_ext.hpp"

namespace utcp::ip {

struct ReassemblyConfig {
  size_t max_trains = 64;
  size_t max_trains_per_source = 16;  // one source cannot take the whole table
  size_t max_bytes = 256 * 1024;      // buffer memory held by all trains together
  Duration timeout = std::chrono::seconds(30);
};

enum class FragmentResult : uint8_t {
  kHeld,           // stored; the datagram is not complete yet
  kComplete,       // `datagram` holds the reassembled datagram
  kOverlap,        // overlapped (or duplicated) received data: train dropped
  kOversize,       // would exceed the maximum datagram size: train dropped
  kMalformed,      // bad fragment length or ends that contradict each other
  kDeadTrain,      // belongs to a train already dropped
  kTooManyTrains,  // no room for a new train (only when max_trains is 0)
  kNoMemory,       // the byte budget is exhausted: train dropped
};

struct FragmentOutcome {
  FragmentResult result;
  // For kComplete, valid until the next add(). IPv4: the header (20 bytes, options removed)
  // plus payload. IPv6: the first fragment's Per-Fragment headers (the fixed header and the
  // extension headers before the Fragment header), the Fragment header removed, the Next
  // Header and Payload Length fixed, then the reassembled data (RFC 8200 §4.5).
  std::span<const uint8_t> datagram;
  // Older trains evicted to make room for this fragment (table full, per-source bound or
  // byte budget); counted by the caller.
  uint32_t evicted = 0;
};

class FragmentReassembler {
 public:
  explicit FragmentReassembler(const ReassemblyConfig& config = {});

  // Adds one IPv4 fragment (a parsed packet with MF set or a non-zero offset). Trains that
  // timed out are freed first; call expire() before add() to learn how many.
  FragmentOutcome add(const wire::Ipv4Packet& fragment, Instant now);
  // Adds one IPv6 fragment: a packet whose extension-header walk met the (non-atomic)
  // Fragment header `frag`; the walk has checked its lengths (RFC 8200 §4.5).
  FragmentOutcome add(const wire::Ipv6Packet& fragment, const wire::Ipv6FragmentHeader& frag,
                      Instant now);

  // Drops trains older than the timeout; returns how many incomplete trains timed out. For
  // each of those whose first fragment had arrived, `first_fragment` (if set) is called with
  // that fragment as received, for an ICMP Time Exceeded quote (RFC 8200 §4.5).
  size_t expire(Instant now,
                const std::function<void(std::span<const uint8_t>)>& first_fragment = {});
  Instant next_deadline() const;

  size_t trains() const;  // trains in the table, dropped ones included
  size_t bytes_held() const { return held_bytes_; }
  const ReassemblyConfig& config() const { return config_; }

 private:
  static constexpr size_t kBlocks = (65536 + 7) / 8;  // 8-byte fragment units

  // RFC 791 §3.2 (source, destination, protocol, id) or RFC 8200 §4.5 (source, destination,
  // id; protocol 0).
  struct Key {
    IpAddr src, dst;
    uint32_t id = 0;
    uint8_t protocol = 0;
    friend bool operator==(const Key&, const Key&) = default;
  };
  // One fragment, family-neutral.
  struct Piece {
    Key key;
    size_t offset = 0;  // bytes
    bool more = false;
    std::span<const uint8_t> data;
    // The bytes that precede the data in the train's buffer: the first fragment's become the
    // reassembled header; every fragment gives its length to size the slot.
    std::span<const uint8_t> header;
    size_t max_total = 0;  // header + data may not exceed this
  };

  struct Train {
    bool in_use = false;
    bool dead = false;  // dropped: swallow its fragments until it expires
    bool have_first = false;
    bool have_last = false;
    Key key;
    Instant expires{};
    size_t slot = 0;           // header bytes in front of the data in buf
    size_t first_len = 0;      // data bytes of the first fragment (for the Time Exceeded quote)
    size_t received = 0;       // payload bytes stored
    size_t max_end = 0;        // highest payload end seen
    size_t total = 0;          // payload length, known once the last fragment came
    std::vector<uint8_t> buf;  // header slot + payload; grows by doubling: O(log n) allocations
    std::array<uint64_t, kBlocks / 64> received_blocks{};
  };

  // On kComplete, slot_out is the header length in front of the data.
  FragmentOutcome add_piece(const Piece& p, Instant now, size_t& slot_out);
  Train* find(const Key& k);
  Train* start(const Piece& p, Instant now, uint32_t& evicted);
  Train* oldest(const Train* except, const IpAddr* of_source);
  void evict(Train& t);
  FragmentResult kill(Train& t, FragmentResult why);
  void release(Train& t);
  bool reserve(Train& t, size_t need, size_t max_total);
  bool fits(const Train& t, size_t want) const;
  bool resize_slot(Train& t, size_t slot, size_t max_total);
  static bool any_block(const Train& t, size_t first, size_t last);
  static void mark_blocks(Train& t, size_t first, size_t last);

  ReassemblyConfig config_;
  std::vector<Train> trains_;  // config_.max_trains entries from the first fragment on
  size_t held_bytes_ = 0;
  std::vector<uint8_t> completed_;  // the last reassembled datagram
};

}  // namespace utcp::ip
