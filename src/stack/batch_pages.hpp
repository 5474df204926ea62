// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Gives the pages of a packet batch buffer back to the system while it holds nothing. The
// buffers (64 slots of 64 KiB each way) are uninitialised, so a page is resident only once a
// packet reached it; but a burst, or one bulk transfer with 64 KB offload frames, leaves up to
// 4 MiB of each resident for good. After a quiet period the Stack drops them: the next packet
// in a slot faults in a fresh zero page, which costs a little once, never on a busy path.
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

namespace utcp::stack {

// The whole pages inside [p, p + len) become zero-fill-on-demand again (MADV_DONTNEED on
// private anonymous memory); the bytes there are lost, which is fine only for a buffer that
// holds nothing. The buffer's first and last partial pages stay.
inline void release_batch_pages(uint8_t* p, size_t len) {
  constexpr uintptr_t kPage = 4096;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kPage - 1) & ~(kPage - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + len) & ~(kPage - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace utcp::stack
