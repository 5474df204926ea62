// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Counts the heap bytes this test binary holds, through a replaced global operator new/delete
// (heap_counter.cpp). Only unit_memory links it: the footprint tests measure how many bytes a
// connection keeps on the heap, which no other test should pay for.
#include <cstddef>

namespace utcp::test {

// Bytes currently allocated through operator new (usable size, so allocator rounding counts),
// plus the one-page rings taken from the ring page pool (base/ring_pages.hpp), which bypass it.
size_t heap_live_bytes();
// Allocations currently live.
size_t heap_live_blocks();

}  // namespace utcp::test
