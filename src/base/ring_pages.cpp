// SPDX-License-Identifier: BSD-2-Clause
#include "base/ring_pages.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <mutex>
#include <vector>

// Under AddressSanitizer every ring comes from operator new, so overflows past a ring are still
// caught (pages of one mapping lie back to back, with no redzones between them).
#if defined(__SANITIZE_ADDRESS__)
#define UTCP_RING_PAGES 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UTCP_RING_PAGES 0
#endif
#endif
#ifndef UTCP_RING_PAGES
#define UTCP_RING_PAGES 1
#endif

namespace utcp {

namespace {

// Pages are mapped 64 at a time (256 KiB: one mapping, so thousands of connections do not make
// thousands of VMAs) and never unmapped; a free page costs no memory, only its address here.
constexpr size_t kPagesPerMapping = 64;

class RingPages {
 public:
  static RingPages& instance() {
    static RingPages pages;
    return pages;
  }

  uint8_t* take() {
    std::lock_guard lock(mutex_);
    if (free_.empty() && !map_more()) return nullptr;
    uint8_t* p = free_.back();
    free_.pop_back();
    return p;
  }

  void give_back(uint8_t* p) {
    // Outside the lock: the syscall is the slow part. The page's memory goes back to the
    // system now; touching it again later faults in a fresh zero page.
    ::madvise(p, kRingPage, MADV_DONTNEED);
    std::lock_guard lock(mutex_);
    free_.push_back(p);
  }

  RingPageStats stats() {
    std::lock_guard lock(mutex_);
    return {mapped_, free_.size()};
  }

  bool usable() const { return usable_; }

 private:
  RingPages()
      : usable_(UTCP_RING_PAGES && ::sysconf(_SC_PAGESIZE) == static_cast<long>(kRingPage)) {}

  bool map_more() {
    void* m = ::mmap(nullptr, kRingPage * kPagesPerMapping, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return false;
    auto* base = static_cast<uint8_t*>(m);
    for (size_t i = kPagesPerMapping; i-- > 0;) free_.push_back(base + i * kRingPage);
    mapped_ += kPagesPerMapping;
    return true;
  }

  const bool usable_;
  std::mutex mutex_;
  std::vector<uint8_t*> free_;
  size_t mapped_ = 0;
};

}  // namespace

void RingDelete::operator()(uint8_t* p) const {
  if (paged) {
    RingPages::instance().give_back(p);
  } else {
    delete[] p;
  }
}

RingStorage allocate_ring(size_t bytes) {
  if (bytes == kRingPage && RingPages::instance().usable()) {
    if (uint8_t* p = RingPages::instance().take()) return RingStorage(p, RingDelete{true});
  }
  return RingStorage(new uint8_t[bytes], RingDelete{false});
}

RingPageStats ring_page_stats() {
  return RingPages::instance().stats();
}

}  // namespace utcp
