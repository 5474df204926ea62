// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/reassembly_queue.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

#include "base/ring_growth.hpp"
#include "tcp/memory_budget.hpp"

namespace utcp::tcp {

namespace {
// Initial room for out-of-order ranges; growth past it is amortised and bounded by the cap.
constexpr size_t kReservedRanges = 64;
}  // namespace

ReassemblyQueue::ReassemblyQueue(size_t capacity) : capacity_(std::min(capacity, kMaxCapacity)) {}

ReassemblyQueue::~ReassemblyQueue() {
  if (budget_ != nullptr) budget_->shrink(alloc_, 0);
}

size_t ReassemblyQueue::out_of_order_bytes() const {
  size_t n = 0;
  for (const SeqRange& r : ooo_) n += r.end - r.begin;
  return n;
}

void ReassemblyQueue::copy_in(size_t ring_pos, std::span<const uint8_t> data) {
  const size_t cap = alloc_;
  if (ring_pos >= cap) ring_pos -= cap;
  const size_t first = std::min(data.size(), cap - ring_pos);
  if (data.data() == storage_.get() + ring_pos && first == data.size()) return;  // placed
  std::memcpy(storage_.get() + ring_pos, data.data(), first);
  if (data.size() > first) std::memcpy(storage_.get(), data.data() + first, data.size() - first);
}

void ReassemblyQueue::copy_from_ring(size_t ring_pos, std::span<uint8_t> dst) const {
  const size_t cap = alloc_;
  if (ring_pos >= cap) ring_pos -= cap;
  const size_t first = std::min(dst.size(), cap - ring_pos);
  std::memcpy(dst.data(), storage_.get() + ring_pos, first);
  if (dst.size() > first) std::memcpy(dst.data() + first, storage_.get(), dst.size() - first);
}

// Merges [begin, end) into the sorted range list, coalescing overlapping and adjacent ranges.
// Returns false (nothing recorded) when a new range would exceed the cap.
bool ReassemblyQueue::add_range(uint32_t begin, uint32_t end) {
  // First range that ends at or after `begin` (it touches or follows the new one).
  auto first = std::lower_bound(ooo_.begin(), ooo_.end(), begin,
                                [](const SeqRange& r, uint32_t b) { return r.end < b; });
  // One past the last range that starts at or before `end`.
  auto last = std::upper_bound(first, ooo_.end(), end,
                               [](uint32_t e, const SeqRange& r) { return e < r.begin; });
  if (first == last) {
    if (ooo_.size() >= kMaxOutOfOrderRanges) return false;
    if (ooo_.capacity() == 0) {
      ooo_.reserve(kReservedRanges);
      first = ooo_.begin();  // the only position in an empty list
    }
    ooo_.insert(first, SeqRange{begin, end});
    return true;
  }
  first->begin = std::min(first->begin, begin);
  first->end = std::max((last - 1)->end, end);
  ooo_.erase(first + 1, last);
  return true;
}

size_t ReassemblyQueue::insert(size_t offset, std::span<const uint8_t> data) {
  // RFC 9293 §3.10.7.4: only the part of a segment inside the receive window is kept.
  const size_t win = window();
  if (offset >= win || data.empty()) return 0;
  size_t len = std::min(data.size(), win - offset);
  // The one check the insert path pays; readable_ + end <= capacity_ by the window trim above.
  if (readable_ + offset + len > alloc_) {
    // The storage is leased (never moved), or the memory budget refused to grow it: keep what
    // fits and drop the rest as if past the window. None of it was acknowledged, so the peer
    // sends it again (RFC 9293 §3.10.7.4 lets a receiver drop it).
    if (!held_) grow(readable_ + offset + len, offset > 0);
    if (readable_ + offset >= alloc_) return 0;
    len = std::min(len, alloc_ - readable_ - offset);
  }
  const auto b = static_cast<uint32_t>(offset);
  const auto e = static_cast<uint32_t>(offset + len);

  if (b > 0) {
    // Out of order: record the range first so a rejected range leaves nothing behind.
    if (add_range(b, e)) copy_in(head_ + readable_ + offset, data.first(len));
    return 0;
  }

  copy_in(head_ + readable_, data.first(len));
  // The new in-order bytes may close holes: swallow every range they now reach.
  uint32_t advance = e;
  size_t merged = 0;
  while (merged < ooo_.size() && ooo_[merged].begin <= advance) {
    advance = std::max(advance, ooo_[merged].end);
    ++merged;
  }
  ooo_.erase(ooo_.begin(), ooo_.begin() + static_cast<std::ptrdiff_t>(merged));
  for (SeqRange& r : ooo_) {
    r.begin -= advance;
    r.end -= advance;
  }
  readable_ += advance;
  return advance;
}

// The doubling from kInitialAllocation reaches exactly the powers of two above it.
static_assert(std::has_single_bit(ReassemblyQueue::kInitialAllocation));

size_t ReassemblyQueue::fitted_size() const {
  const size_t held = readable_ + (ooo_.empty() ? 0 : ooo_.back().end);
  // What ring_growth_size(0, held, ...) gives, without its loop: asked on every drain.
  return held == 0 ? 0 : std::min(std::max(std::bit_ceil(held), kInitialAllocation), capacity_);
}

size_t ReassemblyQueue::releasable() const {
  if (readable_ == 0 && ooo_.empty()) return allocated();
  // Only a halving is worth the copy: a ring about the right size stays.
  const size_t fit = fitted_size();
  return !held_ && alloc_ >= 2 * fit ? alloc_ - fit : 0;
}

bool ReassemblyQueue::honours_window() const {
  return budget_ == nullptr || !budget_->under_pressure();
}

void ReassemblyQueue::release_if_empty() {
  if (held_ || releasable() == 0) return;
  if (readable_ != 0 || !ooo_.empty()) return reallocate(fitted_size());
  if (budget_ != nullptr) budget_->shrink(alloc_, 0);
  storage_.reset();
  alloc_ = 0;
  std::vector<SeqRange>().swap(ooo_);
  head_ = 0;
}

size_t ReassemblyQueue::peek(std::span<uint8_t> dst) const {
  const size_t n = std::min(dst.size(), readable_);
  if (n > 0) copy_from_ring(head_, dst.first(n));
  return n;
}

size_t ReassemblyQueue::read(std::span<uint8_t> dst) {
  const size_t n = peek(dst);
  readable_ -= n;
  head_ += n;
  if (head_ >= alloc_) head_ -= alloc_;
  // Empty: later data starts near the front again (contiguous), behind room for headers.
  if (readable_ == 0 && ooo_.empty())
    head_ = alloc_ > 4 * kPlacementHeadroom ? kPlacementHeadroom : 0;
  return n;
}

std::span<uint8_t> ReassemblyQueue::placement(size_t headroom, size_t min_room) {
  // Only storage already held: a ring too small for the segment grows on the usual path.
  if (!storage_ || !ooo_.empty()) return {};
  size_t pos = head_ + readable_;
  if (pos >= alloc_) pos -= alloc_;
  if (pos < headroom) return {};
  // Within the storage held and before unread bytes (a wrapped ring has them past `pos`):
  // window() counts the logical capacity, which can exceed what is allocated.
  const size_t room = std::min({alloc_ - pos, alloc_ - readable_, window()});
  if (room < min_room) return {};
  return {storage_.get() + pos - headroom, headroom + room};
}

void ReassemblyQueue::trim_ranges(size_t room) {
  size_t kept = 0;
  for (SeqRange r : ooo_) {
    if (r.begin >= room) break;
    r.end = static_cast<uint32_t>(std::min<size_t>(r.end, room));
    ooo_[kept++] = r;
  }
  ooo_.resize(kept);
}

void ReassemblyQueue::reallocate(size_t bytes) {
  if (budget_ != nullptr && bytes < alloc_) budget_->shrink(alloc_, bytes);
  // Readable bytes first, then each out-of-order range at the same offset from RCV.NXT.
  RingStorage fresh = allocate_ring(bytes);
  if (readable_ > 0) copy_from_ring(head_, std::span<uint8_t>(fresh.get(), readable_));
  for (const SeqRange& r : ooo_) {
    assert(readable_ + r.end <= bytes);
    copy_from_ring(head_ + readable_ + r.begin,
                   std::span<uint8_t>(fresh.get() + readable_ + r.begin, r.end - r.begin));
  }
  storage_ = std::move(fresh);
  alloc_ = bytes;
  head_ = 0;
}

void ReassemblyQueue::grow(size_t needed, bool out_of_order) {
  // Every range ends within readable_ + window() = capacity_, so all of them fit.
  size_t bytes = ring_growth_size(alloc_, needed, capacity_, kInitialAllocation);
  if (budget_ != nullptr && !budget_->try_grow(alloc_, bytes, out_of_order)) {
    // Refused; the first allocation is every connection's by right (MemoryBudget::kGuaranteed).
    const size_t floor = std::min(capacity_, MemoryBudget::kGuaranteed);
    if (alloc_ >= floor || !budget_->try_grow(alloc_, floor)) return;
    bytes = floor;
  }
  reallocate(bytes);
}

void ReassemblyQueue::set_capacity(size_t c) {
  c = std::max(std::min(c, kMaxCapacity), readable_);
  if (c == capacity_) return;
  // Shrinking drops out-of-order bytes past the new window and gives back storage above the
  // new capacity; a larger window is reached by growing on demand.
  if (c < capacity_) trim_ranges(c - readable_);
  if (alloc_ > c) reallocate(c);
  capacity_ = c;
}

}  // namespace utcp::tcp
