// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Two tcp::Connection engines wired back to back through a virtual link on a virtual clock:
// fixed delay, optional random loss and reordering (extra random delay), seeded so a run replays
// exactly. Each side's application writes a deterministic byte stream and the other side checks
// every byte it reads against that stream, so data must arrive exactly once and in order.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <queue>
#include <random>
#include <vector>

#include "tcp/connection.hpp"
#include "wire/tcp.hpp"

namespace utcp::test {

struct LinkConfig {
  Duration delay{1'000};          // one-way propagation
  double loss = 0.0;              // probability a segment is dropped
  double reorder = 0.0;           // probability a segment gets extra delay
  Duration reorder_extra{5'000};  // up to this much extra delay
  uint64_t seed = 1;
};

// Byte i of the stream with a given salt.
inline uint8_t stream_byte(uint64_t i, uint64_t salt) {
  uint64_t x = (i + salt) * 0x9E3779B97F4A7C15ull;
  x ^= x >> 29;
  return static_cast<uint8_t>(x >> 24);
}

// One direction's application data: the writer and the reader's verification.
struct StreamCheck {
  uint64_t total = 0;  // bytes to move
  uint64_t salt = 0;
  uint64_t written = 0;
  uint64_t read = 0;
  uint64_t mismatches = 0;
  uint64_t fnv_sent = 1469598103934665603ull;
  uint64_t fnv_received = 1469598103934665603ull;
  bool eof_seen = false;
  // A slow reader: at most read_chunk bytes every read_period (0 = read everything at once).
  size_t read_chunk = 0;
  Duration read_period{0};
  Instant next_read{};
};

class EnginePair {
 public:
  EnginePair(const tcp::Config& cfg_a, const tcp::Config& cfg_b, const LinkConfig& link)
      : a(tcp::Endpoints{kAddrA, 40000, kAddrB, 80}, cfg_a),
        b(tcp::Endpoints{kAddrB, 80, kAddrA, 40000}, cfg_b),
        link_(link),
        rng_(link.seed) {}

  tcp::Connection a;
  tcp::Connection b;
  Instant now = instant_from_us(0);
  uint64_t segments = 0;
  uint64_t dropped = 0;
  uint64_t bad_parses = 0;
  uint64_t zero_windows_to_a = 0;  // segments B sent advertising a zero window

  // Runs until both directions delivered everything and both engines are CLOSED, or until
  // `limit` of virtual time. Returns false on a stall (no event pending, work left).
  bool run(StreamCheck& ab, StreamCheck& ba, Duration limit) {
    const Instant end = now + limit;
    std::vector<uint8_t> chunk(64 * 1024);
    while (now < end) {
      pump_app(a, b, ab, chunk);
      pump_app(b, a, ba, chunk);
      transmit(a, true);
      transmit(b, false);
      if (a.state() == tcp::State::kClosed && b.state() == tcp::State::kClosed && flight_.empty()) {
        return true;
      }
      Instant next = std::min(a.next_deadline(), b.next_deadline());
      if (!flight_.empty()) next = std::min(next, flight_.top().at);
      if (ab.read_chunk > 0 && b.recv_available() > 0) next = std::min(next, ab.next_read);
      if (ba.read_chunk > 0 && a.recv_available() > 0) next = std::min(next, ba.next_read);
      if (next == kNever) return false;
      now = std::max(now, next);
      while (!flight_.empty() && flight_.top().at <= now) {
        Packet p = flight_.top();
        flight_.pop();
        deliver(p);
      }
      if (a.next_deadline() <= now) a.on_timeout(now);
      if (b.next_deadline() <= now) b.on_timeout(now);
    }
    return false;
  }

  static constexpr wire::Ipv4Addr kAddrA{10, 0, 0, 1};
  static constexpr wire::Ipv4Addr kAddrB{10, 0, 0, 2};

 private:
  struct Packet {
    Instant at;
    uint64_t order;
    bool to_b;
    size_t slot;
    size_t len;
    bool operator>(const Packet& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  // Writes the next bytes of the stream, reads and checks what arrived, closes when done.
  void pump_app(tcp::Connection& writer, tcp::Connection& reader, StreamCheck& s,
                std::vector<uint8_t>& chunk) {
    while (s.written < s.total && writer.send_space() > 0) {
      const size_t n = static_cast<size_t>(
          std::min<uint64_t>({s.total - s.written, chunk.size(), writer.send_space()}));
      for (size_t i = 0; i < n; ++i) chunk[i] = stream_byte(s.written + i, s.salt);
      const size_t took = writer.send(std::span<const uint8_t>(chunk.data(), n), now);
      for (size_t i = 0; i < took; ++i) s.fnv_sent = (s.fnv_sent ^ chunk[i]) * 1099511628211ull;
      s.written += took;
      if (took < n) break;
    }
    if (s.written == s.total && writer.state() != tcp::State::kClosed &&
        (writer.state() == tcp::State::kEstablished || writer.state() == tcp::State::kCloseWait)) {
      writer.shutdown_write(now);
    }
    const bool throttled = s.read_chunk > 0;
    if (throttled && now < s.next_read) return;
    size_t budget = throttled ? s.read_chunk : SIZE_MAX;
    for (;;) {
      const size_t want = std::min(budget, chunk.size());
      if (want == 0) break;
      const size_t n = reader.recv(std::span<uint8_t>(chunk.data(), want), now);
      budget -= n;
      if (n == 0) break;
      for (size_t i = 0; i < n; ++i) {
        if (chunk[i] != stream_byte(s.read + i, s.salt)) ++s.mismatches;
        s.fnv_received = (s.fnv_received ^ chunk[i]) * 1099511628211ull;
      }
      s.read += n;
    }
    if (throttled) s.next_read = now + s.read_period;
    if (reader.peer_finished() && reader.recv_available() == 0) s.eof_seen = true;
  }

  void transmit(tcp::Connection& c, bool to_b) {
    for (;;) {
      const size_t slot = take_slot();
      std::vector<uint8_t>& buf = pool_[slot];
      const size_t n = c.poll_transmit(now, buf);
      if (n == 0) {
        free_.push_back(slot);
        return;
      }
      ++segments;
      std::uniform_real_distribution<double> u(0.0, 1.0);
      if (link_.loss > 0 && u(rng_) < link_.loss) {
        ++dropped;
        free_.push_back(slot);
        continue;
      }
      Duration d = link_.delay;
      if (link_.reorder > 0 && u(rng_) < link_.reorder) {
        d += Duration(
            static_cast<int64_t>(u(rng_) * static_cast<double>(link_.reorder_extra.count())));
      }
      flight_.push(Packet{now + d, order_++, to_b, slot, n});
    }
  }

  void deliver(const Packet& p) {
    tcp::Connection& dst = p.to_b ? b : a;
    const wire::Ipv4Addr src_addr = p.to_b ? kAddrA : kAddrB;
    const wire::Ipv4Addr dst_addr = p.to_b ? kAddrB : kAddrA;
    auto parsed = wire::TcpPacket::parse(std::span<const uint8_t>(pool_[p.slot].data(), p.len),
                                         src_addr, dst_addr);
    if (parsed.ok()) {
      if (!p.to_b && parsed->window() == 0 && !parsed->rst()) ++zero_windows_to_a;
      dst.on_segment(parsed->repr(), now);
    } else {
      ++bad_parses;
    }
    free_.push_back(p.slot);
  }

  size_t take_slot() {
    if (free_.empty()) {
      pool_.emplace_back(2048);
      return pool_.size() - 1;
    }
    const size_t s = free_.back();
    free_.pop_back();
    return s;
  }

  LinkConfig link_;
  std::mt19937_64 rng_;
  std::priority_queue<Packet, std::vector<Packet>, std::greater<Packet>> flight_;
  uint64_t order_ = 0;
  std::vector<std::vector<uint8_t>> pool_;
  std::vector<size_t> free_;
};

}  // namespace utcp::test
