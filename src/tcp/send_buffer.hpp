// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The send buffer: bytes the application wrote that are not yet acknowledged. The oldest byte
// sits at SND.UNA; offsets passed to copy_out count from there. A ring whose storage grows with
// use: capacity() is the logical size the protocol sees (free_space() is computed from it), the
// storage starts at kInitialAllocation on the first write and doubles, copying the live bytes
// once, whenever a write needs more, up to capacity(). release_if_empty() frees it when the
// connection goes idle; the next write starts small again, and shrink_to_fit() gives back
// what a quiet connection holds beyond twice its queued bytes. With a MemoryBudget, growth
// is asked for first: refused, write() takes only what fits in the storage held and
// free_space() counts only that storage until the budget is out of pressure again.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace utcp::tcp {

class MemoryBudget;

class SendBuffer {
 public:
  // First allocation (a small write costs this, not the whole capacity); small for the same
  // reason as ReassemblyQueue::kInitialAllocation (an idle connection's freed ring must be a
  // chunk the heap reuses, not a 4 KiB hole between live objects).
  static constexpr size_t kInitialAllocation = 64;

  explicit SendBuffer(size_t capacity);
  ~SendBuffer();
  SendBuffer(const SendBuffer&) = delete;
  SendBuffer& operator=(const SendBuffer&) = delete;

  // The stack-wide budget the storage is charged to (null: none). Set before the first write.
  void set_budget(MemoryBudget* budget) { budget_ = budget; }

  size_t capacity() const { return capacity_; }
  size_t size() const { return size_; }
  // Room for the application: up to the capacity, or only within the storage held while the
  // budget refused to grow it.
  size_t free_space() const { return (limited_ ? alloc_ : capacity_) - size_; }
  bool empty() const { return size_ == 0; }

  // Changes the logical capacity; never below size() (clamped up to it). Reallocates only
  // when the storage already held is larger than the new capacity.
  void set_capacity(size_t c);

  // Appends as much of data as fits; returns the number of bytes taken.
  size_t write(std::span<const uint8_t> data);

  // Copies dst.size() bytes starting `offset` bytes after the oldest byte.
  // Precondition: offset + dst.size() <= size().
  void copy_out(size_t offset, std::span<uint8_t> dst) const;

  // Drops n bytes from the front (they were acknowledged); n is clamped to size().
  void consume(size_t n);

  // Bytes of storage held (0 until the first write and after release_if_empty()); never more
  // than capacity().
  size_t allocated() const { return alloc_; }
  // Frees the storage if nothing is queued (the next write allocates it again), or else
  // shrinks it to the ring size the queued bytes need when that halves it at least.
  // releasable() is what that would free.
  void release_if_empty();
  size_t releasable() const;

 private:
  // Moves the live bytes, oldest first, into fresh storage of `bytes` (>= size()).
  void reallocate(size_t bytes);
  // Doubles the storage until it holds `needed` bytes (capped at capacity()). Rare: at most
  // log2(capacity / kInitialAllocation) times per fill, so kept off the hot path.
  // A budget that refuses leaves the storage as it was (or at its guaranteed first size).
  [[gnu::cold]] void grow(size_t needed);
  // Storage size for `bytes` queued when the connection is quiet.
  size_t fitted_size() const;

  std::unique_ptr<uint8_t[]> storage_;  // uninitialised; only written bytes are ever read
  size_t capacity_ = 0;                 // logical: what the protocol may queue
  size_t alloc_ = 0;                    // physical: the ring's size, <= capacity_
  size_t head_ = 0;                     // ring index of the oldest byte
  size_t size_ = 0;
  MemoryBudget* budget_ = nullptr;
  bool limited_ = false;  // a growth was refused: free_space() counts only the storage held
};

}  // namespace utcp::tcp
