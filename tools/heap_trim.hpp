// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Gives the memory of closed connections back to the system. glibc's malloc keeps freed
// chunks in its arenas and returns pages only from the top of the heap, so after thousands
// of connections close, the rings they held stay resident as long as one live allocation sits
// above them (measured: 1.26 GB still resident after 20,000 closed, bench/memory.sh).
// malloc_trim(0) also returns the whole free pages in the middle of every arena. It walks the
// heap, so a tool calls it rarely: once the connection count, or the bytes the stack's rings
// hold (freed when connections go quiet), fell by half of its peak since the last trim (and by
// at least kMinDrop connections or kMinBytes), kDelay later, when the stack has finished the
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
  static constexpr size_t kMinBytes = 4 << 20;
  static constexpr Duration kDelay{2'000'000};

  explicit HeapTrimmer(EventLoop& loop) : timer_(loop, [this] { trim(); }) {}

  // The tool's live connection count and the bytes the stack's buffers hold (the counter
  // tcp.mem.bytes), after a pass of its loop.
  void note(size_t conns, size_t buffer_bytes) {
    conns_ = follow(conns, conns_, kMinDrop);
    bytes_ = follow(buffer_bytes, bytes_, kMinBytes);
    if (!scheduled_ && (conns_.dropped || bytes_.dropped)) {
      scheduled_ = true;
      timer_.arm(EventLoop::clock_now() + kDelay);
    }
  }

  uint64_t trims() const { return trims_; }

 private:
  struct Level {
    size_t now = 0;
    size_t peak = 0;
    bool dropped = false;  // by half of the peak, and by at least the minimum
  };
  static Level follow(size_t n, Level l, size_t min_drop) {
    l.now = n;
    l.peak = std::max(l.peak, n);
    l.dropped = l.peak - n >= std::max(min_drop, l.peak / 2);
    return l;
  }

  void trim() {
    scheduled_ = false;
    conns_ = Level{conns_.now, conns_.now};
    bytes_ = Level{bytes_.now, bytes_.now};
    ++trims_;
#ifdef __GLIBC__
    ::malloc_trim(0);
#endif
  }

  DeadlineTimer timer_;
  Level conns_;
  Level bytes_;
  bool scheduled_ = false;
  uint64_t trims_ = 0;
};

}  // namespace utcp::tools
