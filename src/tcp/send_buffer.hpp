#pragma once
// The send buffer: bytes the application wrote that are not yet acknowledged. The oldest byte
// sits at SND.UNA; offsets passed to copy_out count from there. A fixed-capacity ring: the
// storage is allocated on the first write (idle connections cost no buffer memory), freed again
// by release_if_empty() when the connection goes idle, and only set_capacity() reallocates.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace utcp::tcp {

class SendBuffer {
 public:
  explicit SendBuffer(size_t capacity);

  size_t capacity() const { return capacity_; }
  size_t size() const { return size_; }
  size_t free_space() const { return capacity() - size_; }
  bool empty() const { return size_ == 0; }

  // Grows or shrinks the ring; never below size() (clamped up to it).
  void set_capacity(size_t c);

  // Appends as much of data as fits; returns the number of bytes taken.
  size_t write(std::span<const uint8_t> data);

  // Copies dst.size() bytes starting `offset` bytes after the oldest byte.
  // Precondition: offset + dst.size() <= size().
  void copy_out(size_t offset, std::span<uint8_t> dst) const;

  // Drops n bytes from the front (they were acknowledged); n is clamped to size().
  void consume(size_t n);

  // Bytes of storage held (0 until the first write and after release_if_empty()).
  size_t allocated() const { return storage_ ? capacity_ : 0; }
  // Frees the storage if nothing is queued; the next write allocates it again. releasable() is
  // what that would free.
  void release_if_empty();
  size_t releasable() const { return size_ == 0 ? allocated() : 0; }

 private:
  std::unique_ptr<uint8_t[]> storage_;  // uninitialised; only written bytes are ever read
  size_t capacity_ = 0;
  size_t head_ = 0;  // ring index of the oldest byte
  size_t size_ = 0;
};

}  // namespace utcp::tcp
