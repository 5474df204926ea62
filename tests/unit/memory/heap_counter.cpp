// SPDX-License-Identifier: BSD-2-Clause
#include "heap_counter.hpp"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "base/ring_pages.hpp"

namespace {
std::atomic<size_t> g_bytes{0};
std::atomic<size_t> g_blocks{0};

void* counted_alloc(size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  g_bytes.fetch_add(malloc_usable_size(p), std::memory_order_relaxed);
  g_blocks.fetch_add(1, std::memory_order_relaxed);
  return p;
}

void counted_free(void* p) noexcept {
  if (p == nullptr) return;
  g_bytes.fetch_sub(malloc_usable_size(p), std::memory_order_relaxed);
  g_blocks.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}
}  // namespace

namespace utcp::test {
size_t heap_live_bytes() {
  const RingPageStats pages = ring_page_stats();
  return g_bytes.load(std::memory_order_relaxed) + (pages.mapped - pages.free) * kRingPage;
}
size_t heap_live_blocks() {
  return g_blocks.load(std::memory_order_relaxed);
}
}  // namespace utcp::test

void* operator new(size_t n) {
  return counted_alloc(n);
}
void* operator new[](size_t n) {
  return counted_alloc(n);
}
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept {
  counted_free(p);
}
void operator delete[](void* p) noexcept {
  counted_free(p);
}
void operator delete(void* p, size_t) noexcept {
  counted_free(p);
}
void operator delete[](void* p, size_t) noexcept {
  counted_free(p);
}
