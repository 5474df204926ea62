// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What the connection tells the application. Events are queued in a small fixed ring that
// coalesces repeats of a kind still waiting, so it never allocates and never overflows.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace utcp::tcp {

enum class ErrorReason : uint8_t {
  kNone,
  kRefused,   // RST in answer to our SYN (RFC 9293 §3.10.7.3)
  kReset,     // RST in a synchronized state (RFC 9293 §3.10.7.4)
  kTimedOut,  // retransmissions, SYN retries, user timeout or keepalive exhausted
  kAborted,   // the application called abort()
};

enum class EventKind : uint8_t {
  kConnected,     // reached ESTABLISHED
  kReadable,      // new in-order bytes for recv()
  kWritable,      // acknowledged data freed send-buffer space
  kPeerFinished,  // the peer's FIN arrived in order: recv() will reach end of stream
  kUrgent,        // the peer moved the urgent mark (see Connection::urgent_mark())
  kSoftError,     // a problem that does not close the connection (Connection::soft_error())
  kError,         // carries a reason; always followed by kClosed
  kClosed,        // the connection reached CLOSED
};

struct Event {
  EventKind kind;
  ErrorReason reason = ErrorReason::kNone;
  friend constexpr bool operator==(Event, Event) = default;
};

constexpr std::string_view to_string(EventKind k) {
  switch (k) {
    case EventKind::kConnected:
      return "connected";
    case EventKind::kReadable:
      return "readable";
    case EventKind::kWritable:
      return "writable";
    case EventKind::kPeerFinished:
      return "peer-finished";
    case EventKind::kUrgent:
      return "urgent";
    case EventKind::kSoftError:
      return "soft-error";
    case EventKind::kError:
      return "error";
    case EventKind::kClosed:
      return "closed";
  }
  return "?";
}

constexpr std::string_view to_string(ErrorReason r) {
  switch (r) {
    case ErrorReason::kNone:
      return "none";
    case ErrorReason::kRefused:
      return "refused";
    case ErrorReason::kReset:
      return "reset";
    case ErrorReason::kTimedOut:
      return "timed-out";
    case ErrorReason::kAborted:
      return "aborted";
  }
  return "?";
}

class EventQueue {
 public:
  void push(Event e) {
    for (unsigned i = 0; i < size_; ++i) {
      if (ring_[(head_ + i) % kCap] == e) return;  // already waiting: coalesce
    }
    if (size_ == kCap) return;  // cannot happen: at most one per distinct event
    ring_[(head_ + size_) % kCap] = e;
    ++size_;
  }
  std::optional<Event> pop() {
    if (size_ == 0) return std::nullopt;
    Event e = ring_[head_];
    head_ = (head_ + 1) % kCap;
    --size_;
    return e;
  }
  bool empty() const { return size_ == 0; }

 private:
  static constexpr size_t kCap = 16;  // > number of distinct (kind, reason) pairs ever queued
  std::array<Event, kCap> ring_{};
  uint32_t head_ = 0;  // one per connection: 32 bits, not size_t (kCap is 16)
  uint32_t size_ = 0;
};

}  // namespace utcp::tcp
