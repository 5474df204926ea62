// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Storage for the connections' send and receive rings. A ring starts at 4 KiB (one page) on
// its first byte and is freed again once the connection is quiet (tcp::Config::idle_release).
// From malloc, those freed 4 KiB chunks lie between live connection objects, where glibc cannot
// hand them back to the system (it releases only whole pages past a free chunk's first 48
// bytes): 1,000 connections that each exchanged a few bytes and went quiet kept 8 MiB resident
// (utcp-proxy, docs/proxy.md "Memory"). So one-page rings come from whole pages of anonymous
// mappings instead, and a page given back is returned to the system at once (MADV_DONTNEED)
// and kept for reuse. Rings of any other size (grown ones) use operator new as before.
#include <cstddef>
#include <cstdint>
#include <memory>

namespace utcp {

inline constexpr size_t kRingPage = 4096;

struct RingDelete {
  bool paged = false;  // from RingPages, else from new[]
  void operator()(uint8_t* p) const;
};
using RingStorage = std::unique_ptr<uint8_t[], RingDelete>;

// `bytes` of uninitialised storage: one pool page when bytes is a page (on a 4 KiB-page
// system), else new uint8_t[bytes].
RingStorage allocate_ring(size_t bytes);

// The pool's state, for tests: pages mapped so far, pages free for reuse.
struct RingPageStats {
  size_t mapped = 0;
  size_t free = 0;
};
RingPageStats ring_page_stats();

}  // namespace utcp
