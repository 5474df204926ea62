// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Walks an iovec array as one byte range: readv/recvmsg and writev/sendmsg move through it
// piece by piece as the stack takes or gives bytes.
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace utcp::posix {

class IovecCursor {
 public:
  IovecCursor(const iovec* iov, int iovcnt) : iov_(iov), count_(iovcnt > 0 ? iovcnt : 0) {
    skip_empty();
  }

  // false when the array is missing or a piece claims bytes without a base pointer: the call
  // fails with EFAULT, as Linux's copy from or to a NULL user pointer does. Check before
  // constructing a cursor over `iov`.
  static bool valid(const iovec* iov, int iovcnt) {
    if (iovcnt > 0 && iov == nullptr) return false;
    for (int i = 0; i < iovcnt; ++i) {
      if (iov[i].iov_base == nullptr && iov[i].iov_len > 0) return false;
    }
    return true;
  }

  // Bytes the whole array holds.
  size_t total() const {
    size_t n = 0;
    for (int i = 0; i < count_; ++i) n += iov_[i].iov_len;
    return n;
  }
  bool done() const { return index_ >= count_; }
  // The rest of the current piece, at most `limit` bytes; empty once done().
  std::span<uint8_t> chunk(size_t limit = SIZE_MAX) const {
    if (done()) return {};
    const iovec& v = iov_[index_];
    const size_t n = v.iov_len - offset_;
    return {static_cast<uint8_t*>(v.iov_base) + offset_, n < limit ? n : limit};
  }
  // `n` bytes of the current piece were used (n <= chunk().size()).
  void advance(size_t n) {
    offset_ += n;
    skip_empty();
  }

 private:
  void skip_empty() {
    while (index_ < count_ && offset_ >= iov_[index_].iov_len) {
      ++index_;
      offset_ = 0;
    }
  }

  const iovec* iov_;
  int count_;
  int index_ = 0;
  size_t offset_ = 0;
};

}  // namespace utcp::posix
