// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Gives the memory of closed connections back to the system. glibc's malloc keeps freed
// chunks in its arenas and returns pages only from the top of the heap, so after thousands
// of connections close, the rings they held stay resident as long as one live allocation sits
// above them (measured: 1.26 GB still resident after 20,000 closed, bench/memory.sh).
// malloc_trim(0) also returns the whole free pages in the middle of every arena. It walks the
// heap, so a tool calls it rarely: once the connection count fell by half of its peak since
// the last trim (and by at least kMinDrop), kDelay later, when the stack has finished the
// closing handshakes and freed them. Tool-level and glibc-only by design: the core library
// never calls the allocator's private interfaces.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "deadline_timer.hpp"

namespace utcp::tools {

class HeapTrimmer {
 public:
  static constexpr size_t kMinDrop = 256;
  static constexpr Duration kDelay{2'000'000};

  explicit HeapTrimmer(EventLoop& loop) : timer_(loop, [this] { trim(); }) {}

  // The tool's live connection count, after each pass of its loop.
  void note_count(size_t n) {
    count_ = n;
    peak_ = std::max(peak_, n);
    if (!scheduled_ && peak_ - n >= std::max(kMinDrop, peak_ / 2)) {
      scheduled_ = true;
      timer_.arm(EventLoop::clock_now() + kDelay);
    }
  }

  uint64_t trims() const { return trims_; }

 private:
  void trim() {
    scheduled_ = false;
    peak_ = count_;
    ++trims_;
#ifdef __GLIBC__
    ::malloc_trim(0);
#endif
  }

  DeadlineTimer timer_;
  size_t count_ = 0;
  size_t peak_ = 0;
  bool scheduled_ = false;
  uint64_t trims_ = 0;
};

}  // namespace utcp::tools
