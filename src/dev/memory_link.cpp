// SPDX-License-Identifier: BSD-2-Clause
#include "utcp/memory_link.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <system_error>

#include "dev/timed_packet_queue.hpp"

namespace utcp::dev {
namespace {

// One direction: the queue and its counters, and the eventfd of the end that receives from it.
struct Direction {
  explicit Direction(const MemoryLinkConfig& config) : queue(config.queue_packets, config.mtu) {}
  TimedPacketQueue queue;
  MemoryLinkCounters counters;
  int event_fd = -1;       // made by the receiving end's fd(); -1 until then
  bool signalled = false;  // the eventfd counter is non-zero
};

}  // namespace

struct MemoryLink::Shared {
  explicit Shared(const MemoryLinkConfig& c) : config(c), ab(c), ba(c) {}
  ~Shared() {
    for (Direction* d : {&ab, &ba}) {
      if (d->event_fd >= 0) ::close(d->event_fd);
    }
  }
  MemoryLinkConfig config;
  std::mutex mu;
  bool down = false;
  Direction ab;
  Direction ba;
};

namespace {

// Makes the eventfd readable (one write), unless it already is.
void signal(Direction& d) {
  if (d.event_fd < 0 || d.signalled) return;
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(d.event_fd, &one, sizeof one);
  d.signalled = true;
}

// Clears the eventfd (one read), unless it already is clear.
void unsignal(Direction& d) {
  if (d.event_fd < 0 || !d.signalled) return;
  uint64_t count = 0;
  [[maybe_unused]] ssize_t r = ::read(d.event_fd, &count, sizeof count);
  d.signalled = false;
}

}  // namespace

class MemoryLink::End final : public Device {
 public:
  End(Shared& shared, Direction& in, Direction& out) : shared_(shared), in_(in), out_(out) {}

  int fd() const override {
    std::lock_guard lock(shared_.mu);
    if (in_.event_fd < 0) {
      in_.event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (in_.event_fd < 0) {
        throw std::system_error(errno, std::generic_category(), "MemoryLink: eventfd");
      }
      if (!in_.queue.empty()) signal(in_);  // packets sent before anyone asked
    }
    return in_.event_fd;
  }

  size_t mtu() const override { return shared_.config.mtu; }

  size_t receive(std::span<PacketSlot> slots, Instant now) override {
    std::lock_guard lock(shared_.mu);
    size_t filled = 0;
    while (filled < slots.size() && in_.queue.due(now)) {
      const auto packet = in_.queue.front();
      PacketSlot& slot = slots[filled];
      if (packet.size() > slot.buf.size()) {
        ++in_.counters.dropped_no_room;
      } else {
        std::memcpy(slot.buf.data(), packet.data(), packet.size());
        slot.len = packet.size();
        ++in_.counters.delivered;
        ++filled;
      }
      in_.queue.pop();
    }
    // Readable only while a packet is due: one held back for delay is announced by
    // next_deadline() instead, so a loop sleeps on its timer rather than spinning on the fd.
    if (!in_.queue.due(now)) unsignal(in_);
    return filled;
  }

  size_t transmit(std::span<const std::span<const uint8_t>> packets, Instant now) override {
    std::lock_guard lock(shared_.mu);
    bool queued = false;
    for (const auto& packet : packets) {
      if (shared_.down) {
        ++out_.counters.dropped_down;
      } else if (packet.size() > shared_.config.mtu) {
        ++out_.counters.dropped_too_big;
      } else if (!out_.queue.push(packet, now + shared_.config.delay)) {
        ++out_.counters.dropped_full;
      } else {
        ++out_.counters.sent;
        queued = true;
      }
    }
    if (queued) signal(out_);  // wake the other end (early if delayed: it re-arms its timer)
    return packets.size();     // a full queue drops, it does not push back
  }

  Instant next_deadline() const override {
    std::lock_guard lock(shared_.mu);
    return in_.queue.next_release();
  }

 private:
  Shared& shared_;
  Direction& in_;
  Direction& out_;
};

MemoryLink::MemoryLink(MemoryLinkConfig config)
    : shared_(std::make_unique<Shared>(config)),
      a_(std::make_unique<End>(*shared_, shared_->ba, shared_->ab)),
      b_(std::make_unique<End>(*shared_, shared_->ab, shared_->ba)) {}

MemoryLink::~MemoryLink() = default;

Device& MemoryLink::a() {
  return *a_;
}
Device& MemoryLink::b() {
  return *b_;
}

MemoryLinkCounters MemoryLink::a_to_b() const {
  std::lock_guard lock(shared_->mu);
  return shared_->ab.counters;
}
MemoryLinkCounters MemoryLink::b_to_a() const {
  std::lock_guard lock(shared_->mu);
  return shared_->ba.counters;
}

void MemoryLink::set_down(bool down) {
  std::lock_guard lock(shared_->mu);
  shared_->down = down;
}

}  // namespace utcp::dev
