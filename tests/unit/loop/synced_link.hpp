#pragma once
// A MemoryLink whose two ends may be driven from two threads (two EventLoops), each end
// with an eventfd that becomes readable when the other end has sent it something, so a
// loop sleeps in epoll exactly as it would on a TUN descriptor. Test support only.
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "dev/memory_link.hpp"

namespace utcp::test_util {

class SyncedLink {
 public:
  explicit SyncedLink(dev::MemoryLinkConfig config = {})
      : link_(config), a_(*this, link_.a()), b_(*this, link_.b()) {
    a_.peer_ = &b_;
    b_.peer_ = &a_;
  }

  dev::Device& a() { return a_; }
  dev::Device& b() { return b_; }
  // While set, every packet either end sends is silently lost (a dead path).
  void set_blackhole(bool on) { blackhole_ = on; }
  uint64_t packets_sent() const { return sent_; }

 private:
  class End final : public dev::Device {
   public:
    End(SyncedLink& link, dev::Device& inner)
        : link_(link), inner_(inner), event_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
    ~End() override { ::close(event_fd_); }
    End(const End&) = delete;
    End& operator=(const End&) = delete;

    int fd() const override { return event_fd_; }
    size_t mtu() const override { return inner_.mtu(); }
    dev::DeviceCapabilities capabilities() const override { return inner_.capabilities(); }
    size_t receive(std::span<dev::PacketSlot> slots, Instant now) override {
      std::lock_guard lock(link_.mu_);
      uint64_t count = 0;
      [[maybe_unused]] ssize_t r = ::read(event_fd_, &count, sizeof count);
      const size_t n = inner_.receive(slots, now);
      if (n == slots.size()) signal();  // maybe more queued: stay readable
      return n;
    }
    size_t transmit(std::span<const std::span<const uint8_t>> packets, Instant now) override {
      std::lock_guard lock(link_.mu_);
      link_.sent_ += packets.size();
      if (link_.blackhole_) return packets.size();
      const size_t n = inner_.transmit(packets, now);
      if (n > 0) peer_->signal();
      return n;
    }
    Instant next_deadline() const override {
      std::lock_guard lock(link_.mu_);
      return inner_.next_deadline();
    }
    void signal() {
      const uint64_t one = 1;
      [[maybe_unused]] ssize_t r = ::write(event_fd_, &one, sizeof one);
    }

    End* peer_ = nullptr;

   private:
    SyncedLink& link_;
    dev::Device& inner_;
    int event_fd_;
  };

  mutable std::mutex mu_;
  dev::MemoryLink link_;
  End a_;
  End b_;
  std::atomic<bool> blackhole_ = false;
  std::atomic<uint64_t> sent_ = 0;
};

}  // namespace utcp::test_util
