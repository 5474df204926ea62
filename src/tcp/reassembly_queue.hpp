#pragma once
// The receive buffer (RFC 9293 §3.10.7.4 "segment text"): in-order bytes waiting for the
// application, plus out-of-order bytes stored in place in the same fixed ring. It is bounded by
// the receive window, allows any number of holes, and never allocates per segment: the ring is
// allocated on the first insert (idle connections cost no buffer memory) and freed again by
// release_if_empty() when the connection goes idle.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace utcp::tcp {

// [begin, end) offsets relative to RCV.NXT at the time of the call.
struct SeqRange {
  uint32_t begin;
  uint32_t end;
  friend constexpr bool operator==(SeqRange, SeqRange) = default;
};

class ReassemblyQueue {
 public:
  // Cap on distinct out-of-order ranges, so a peer sending many tiny gapped segments cannot make
  // each insert slow; a segment that would open a range past it is dropped (the receiver may
  // always discard out-of-order data, RFC 9293 §3.10.7.4).
  static constexpr size_t kMaxOutOfOrderRanges = 1024;
  // Largest window TCP can advertise (RFC 7323 §2.3: 2^30 with scaling); capacities are clamped.
  static constexpr size_t kMaxCapacity = size_t{1} << 30;

  explicit ReassemblyQueue(size_t capacity);

  size_t capacity() const { return capacity_; }
  // Grows or shrinks the ring; never below readable(). Out-of-order bytes beyond the new
  // window are dropped.
  void set_capacity(size_t c);

  size_t readable() const { return readable_; }             // in-order bytes for the application
  size_t window() const { return capacity() - readable_; }  // room from RCV.NXT on

  // Stores data starting `offset` bytes after RCV.NXT (0 = in order); bytes at or beyond
  // window() are dropped. Duplicate/overlapping bytes are fine. Returns how many bytes became
  // newly in-order (RCV.NXT advances by that).
  size_t insert(size_t offset, std::span<const uint8_t> data);

  size_t read(std::span<uint8_t> dst);        // consumes in-order bytes, returns count
  size_t peek(std::span<uint8_t> dst) const;  // copies without consuming

  // Direct placement: where in-order bytes at RCV.NXT will be stored, as one contiguous span
  // that starts `headroom` bytes early (room for the packet's headers in front of the
  // payload). Empty unless the ring exists, holds nothing out of order (a packet that turns
  // out not to fit would overwrite it) and offers at least `min_room` bytes contiguously. The
  // caller restores the headroom bytes after use: they may be unread data. A later insert(0,
  // data) whose data already sits at that place stores it without copying.
  std::span<uint8_t> placement(size_t headroom, size_t min_room);
  // The ring position reads restart at when the ring empties: headroom for placement().
  static constexpr size_t kPlacementHeadroom = 128;

  bool has_out_of_order() const { return !ooo_.empty(); }
  // Sorted, disjoint, non-adjacent ranges of stored out-of-order bytes, relative to the
  // current RCV.NXT (all begin > 0).
  std::span<const SeqRange> out_of_order() const { return ooo_; }
  // Bytes held out of order (sum of the range lengths).
  size_t out_of_order_bytes() const;

  // Bytes of storage held: the ring (0 until the first insert) and the range list.
  size_t allocated() const {
    return (storage_ ? capacity_ : 0) + ooo_.capacity() * sizeof(SeqRange);
  }
  // Frees the ring and the range list if no byte is held; the next insert allocates again.
  // releasable() is what that would free.
  void release_if_empty();
  size_t releasable() const { return readable_ == 0 && ooo_.empty() ? allocated() : 0; }

 private:
  void copy_in(size_t ring_pos, std::span<const uint8_t> data);
  void copy_from_ring(size_t ring_pos, std::span<uint8_t> dst) const;
  bool add_range(uint32_t begin, uint32_t end);

  std::unique_ptr<uint8_t[]> storage_;  // uninitialised; only stored bytes are ever read
  size_t capacity_ = 0;
  std::vector<SeqRange> ooo_;  // reserved on first use; capped by kMaxOutOfOrderRanges
  size_t head_ = 0;            // ring index of the first readable byte
  size_t readable_ = 0;
};

}  // namespace utcp::tcp
