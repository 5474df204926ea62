// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A socket's receive queue: whole datagrams, first in first out, bounded in bytes and in
// datagrams (RFC 8085 §3.1 / Linux's SO_RCVBUF: a receiver that falls behind loses datagrams,
// it does not make the host run out of memory). A full queue refuses the datagram and the
// caller counts the drop.
//
// Storage is one byte ring plus a ring of fixed-size records (length, addressing). Each
// datagram's bytes sit contiguously: one that does not fit before the end of the ring starts
// again at its beginning, so a datagram is read as one span. Both rings start small and grow
// (doubling) up to their limits the first times they fill, so an idle socket costs little and
// a busy one stops allocating once grown: no allocation per datagram in steady state.
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "tcp/memory_budget.hpp"
#include "udp/udp_endpoint.hpp"

namespace utcp::udp {

enum class PushResult : uint8_t {
  kQueued,
  kFull,      // a limit of this queue, or no contiguous room until readers drain
  kNoMemory,  // the ring would have to grow and the memory budget refused it
};

struct DatagramQueueLimits {
  size_t bytes = 212992;      // payload bytes queued (Linux's net.core.rmem_default)
  uint32_t datagrams = 1024;  // datagrams queued, zero-length ones included
};

class DatagramQueue {
 public:
  DatagramQueue() = default;
  explicit DatagramQueue(DatagramQueueLimits limits) : limits_(limits) {}
  // The ring's storage is charged to the budget (if any) while the queue holds it.
  DatagramQueue(DatagramQueue&& other) noexcept { *this = std::move(other); }
  DatagramQueue& operator=(DatagramQueue&& other) noexcept;
  DatagramQueue(const DatagramQueue&) = delete;
  DatagramQueue& operator=(const DatagramQueue&) = delete;
  ~DatagramQueue() { release_storage(); }

  // Appends a datagram; kFull (nothing stored) when it would pass either limit, or when the
  // ring has no contiguous room for it even at full size (then the queue must drain first);
  // kNoMemory when the ring would have to grow and the budget refused it.
  PushResult try_push(const DatagramInfo& info, std::span<const uint8_t> payload);
  bool push(const DatagramInfo& info, std::span<const uint8_t> payload) {
    return try_push(info, payload) == PushResult::kQueued;
  }

  bool empty() const { return count_ == 0; }
  uint32_t datagrams() const { return count_; }
  size_t bytes() const { return bytes_; }  // payload bytes queued
  // The oldest datagram; requires !empty(). The span is valid until the next push or pop.
  const DatagramInfo& front_info() const { return records_[head_].info; }
  std::span<const uint8_t> front() const;
  void pop();
  void clear();

  // New limits; datagrams already queued stay even if they now exceed them.
  void set_limits(DatagramQueueLimits limits) { limits_ = limits; }
  DatagramQueueLimits limits() const { return limits_; }
  size_t storage_bytes() const { return ring_.size(); }  // allocated so far
  // The stack-wide budget (StackConfig::buffer_memory_limit) the ring's growth asks first,
  // as the TCP rings do (tcp::MemoryBudget); set while the queue is empty. nullptr: none.
  void set_budget(tcp::MemoryBudget* budget) { budget_ = budget; }

 private:
  struct Record {
    DatagramInfo info;
    uint32_t offset = 0;  // into ring_
    uint32_t len = 0;
  };
  // Where len contiguous bytes can go in the ring as it is, or SIZE_MAX.
  size_t place(size_t len) const;
  bool grow_ring(size_t needed);  // false: the budget refused
  void release_storage();
  void grow_records();

  DatagramQueueLimits limits_;
  tcp::MemoryBudget* budget_ = nullptr;
  std::vector<uint8_t> ring_;
  std::vector<Record> records_;
  uint32_t head_ = 0;   // index of the oldest record
  uint32_t count_ = 0;  // records in use
  size_t bytes_ = 0;
  size_t tail_ = 0;  // ring offset just past the newest datagram's bytes
};

}  // namespace utcp::udp
