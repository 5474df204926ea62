// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A compact DSL for driving one sans-IO tcp::Connection against a scripted peer, in the style of
// smoltcp's socket tests: inject segments at virtual times, then assert exactly which segments
// come out (flags, seq, ack, window, options, payload) and which events were raised, and that
// nothing else did. Every segment goes through the real wire emit/parse in both directions.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tcp/connection.hpp"
#include "wire/tcp.hpp"

namespace utcp::test {

using wire::SeqNum;

inline constexpr SeqNum kLocalIss{10000};
inline constexpr SeqNum kRemoteIss{20000};
inline constexpr uint16_t kLocalPort = 49152;
inline constexpr uint16_t kRemotePort = 80;
inline const wire::Ipv4Addr kLocalAddr{10, 77, 0, 2};
inline const wire::Ipv4Addr kRemoteAddr{10, 77, 0, 1};

// A segment as the test writes it: what the peer sends, or what we expect the connection to send.
struct Seg {
  uint8_t flags = 0;
  SeqNum seq;
  SeqNum ack_no;
  uint16_t window = 0;
  uint16_t urgent = 0;
  wire::TcpOptions options;
  std::vector<uint8_t> payload;

  Seg& syn() { return flag(wire::tcp_flag::kSyn); }
  Seg& fin() { return flag(wire::tcp_flag::kFin); }
  Seg& rst() { return flag(wire::tcp_flag::kRst); }
  Seg& psh() { return flag(wire::tcp_flag::kPsh); }
  Seg& flag(uint8_t f) {
    flags |= f;
    return *this;
  }
  Seg& at(SeqNum s) {
    seq = s;
    return *this;
  }
  Seg& ack(SeqNum a) {
    flags |= wire::tcp_flag::kAck;
    ack_no = a;
    return *this;
  }
  Seg& win(uint16_t w) {
    window = w;
    return *this;
  }
  Seg& urg(uint16_t up) {
    flags |= wire::tcp_flag::kUrg;
    urgent = up;
    return *this;
  }
  Seg& data(std::string_view s) {
    payload.assign(s.begin(), s.end());
    return *this;
  }
  Seg& bytes(std::vector<uint8_t> b) {
    payload = std::move(b);
    return *this;
  }
  Seg& mss(uint16_t m) {
    options.mss = m;
    return *this;
  }
  Seg& wscale(uint8_t s) {
    options.window_scale = s;
    return *this;
  }
  Seg& ts(uint32_t tsval, uint32_t tsecr) {
    options.timestamps = wire::TcpTimestamps{tsval, tsecr};
    return *this;
  }
  Seg& sack_permitted() {
    options.sack_permitted = true;
    return *this;
  }

  friend bool operator==(const Seg& a, const Seg& b) {
    return a.flags == b.flags && a.seq == b.seq && a.ack_no == b.ack_no && a.window == b.window &&
           a.urgent == b.urgent && a.options == b.options && a.payload == b.payload;
  }
};

inline std::string flags_string(uint8_t f) {
  std::string s;
  auto add = [&](uint8_t bit, const char* name) {
    if (f & bit) s += s.empty() ? name : std::string("|") + name;
  };
  add(wire::tcp_flag::kSyn, "SYN");
  add(wire::tcp_flag::kAck, "ACK");
  add(wire::tcp_flag::kFin, "FIN");
  add(wire::tcp_flag::kRst, "RST");
  add(wire::tcp_flag::kPsh, "PSH");
  add(wire::tcp_flag::kUrg, "URG");
  return s.empty() ? "-" : s;
}

inline std::ostream& operator<<(std::ostream& os, const Seg& s) {
  os << "[" << flags_string(s.flags) << " seq=" << s.seq.raw();
  if (s.flags & wire::tcp_flag::kAck) os << " ack=" << s.ack_no.raw();
  os << " win=" << s.window;
  if (s.flags & wire::tcp_flag::kUrg) os << " up=" << s.urgent;
  if (s.options.mss) os << " mss=" << *s.options.mss;
  if (s.options.window_scale) os << " ws=" << int{*s.options.window_scale};
  if (s.options.sack_permitted) os << " sackok";
  if (s.options.timestamps) {
    os << " ts=" << s.options.timestamps->tsval << "/" << s.options.timestamps->tsecr;
  }
  os << " len=" << s.payload.size();
  if (!s.payload.empty() && s.payload.size() <= 32) {
    os << " \"" << std::string(s.payload.begin(), s.payload.end()) << "\"";
  }
  return os << "]";
}

inline Seg seg() {
  return Seg{};
}

// The configuration most tests use: no window scaling, timestamps or SACK, so expected segments
// stay short; a 64000-byte receive buffer fits the unscaled window field (no autotuning); Reno
// window arithmetic (RFC 5681) and no RACK-TLP timers, so exact cwnd values and timers can be
// pinned.
inline tcp::Config plain_config() {
  tcp::Config c;
  c.window_scaling = false;
  c.timestamps = false;
  c.sack = false;
  c.rack = false;
  c.recv_buffer_max = 0;
  c.send_buffer_max = 0;  // buffers fixed: no autotuning either way
  c.pacing = false;       // each segment leaves when polled (pacing_test.cpp tests pacing)
  c.congestion_control = "reno";
  c.send_buffer = 64000;
  c.recv_buffer = 64000;
  return c;
}

inline std::ostream& operator<<(std::ostream& os, const tcp::Event& e) {
  os << tcp::to_string(e.kind);
  if (e.reason != tcp::ErrorReason::kNone) os << "(" << tcp::to_string(e.reason) << ")";
  return os;
}

class Harness {
 public:
  explicit Harness(const tcp::Config& cfg = plain_config(), tcp::Env env = {})
      : conn(tcp::Endpoints{kLocalAddr, kLocalPort, kRemoteAddr, kRemotePort}, cfg, env) {}

  tcp::Connection conn;
  Instant now = instant_from_us(1'000'000'000);  // far from zero so time arithmetic is obvious

  // ---- driving the connection ----
  // Delivers a segment from the peer (through emit + parse, checksum verified).
  void send(const Seg& s) {
    wire::TcpRepr r;
    r.src_port = kRemotePort;
    r.dst_port = kLocalPort;
    r.seq = s.seq;
    r.ack = s.ack_no;
    r.flags = s.flags;
    r.window = s.window;
    r.urgent = s.urgent;
    r.options = s.options;
    r.payload = s.payload;
    in_buf_.assign(r.total_len(), 0);
    const size_t n = r.emit(in_buf_, kRemoteAddr, kLocalAddr);
    ASSERT_EQ(n, r.total_len());
    auto parsed = wire::TcpPacket::parse(in_buf_, kRemoteAddr, kLocalAddr);
    ASSERT_TRUE(parsed.ok());
    conn.on_segment(parsed->repr(), now);
    flush();
  }
  // Moves virtual time forward by d, firing every timer that falls due on the way and
  // collecting what the connection sends at each of those instants.
  void advance(Duration d) { advance_to(now + d); }
  void advance_to(Instant target) {
    for (int guard = 0; guard < 1'000'000; ++guard) {
      const Instant dl = conn.next_deadline();
      if (dl > target) break;
      now = std::max(now, dl);
      conn.on_timeout(now);
      flush();
      if (guard == 999'999) ADD_FAILURE() << "timer did not move past " << to_us(dl);
    }
    now = target;
    flush();
  }
  // Advances exactly to the next deadline (which must exist) and fires it.
  Duration advance_to_next_deadline() {
    const Instant dl = conn.next_deadline();
    EXPECT_NE(dl, kNever) << "no timer armed";
    if (dl == kNever) return Duration(0);
    const Duration d = dl - now;
    advance_to(dl);
    return d;
  }

  // Application calls, each followed by collecting output.
  size_t app_send(std::string_view s) {
    const size_t n = conn.send({reinterpret_cast<const uint8_t*>(s.data()), s.size()}, now);
    flush();
    return n;
  }
  size_t app_send_bytes(const std::vector<uint8_t>& b) {
    const size_t n = conn.send(b, now);
    flush();
    return n;
  }
  std::string app_recv(size_t max = 1 << 20) {
    std::vector<uint8_t> b(max);
    const size_t n = conn.recv(b, now);
    flush();
    return std::string(b.begin(), b.begin() + static_cast<long>(n));
  }
  void app_close() {
    conn.close(now);
    flush();
  }
  void app_shutdown() {
    conn.shutdown_write(now);
    flush();
  }
  void app_abort() {
    conn.abort(now);
    flush();
  }

  // Polls everything the connection wants to send right now into the outbox.
  void flush() {
    for (int i = 0; i < 100'000; ++i) {
      const size_t n = conn.poll_transmit(now, out_buf_);
      if (n == 0) return;
      auto parsed = wire::TcpPacket::parse(std::span<const uint8_t>(out_buf_.data(), n), kLocalAddr,
                                           kRemoteAddr);
      if (!parsed.ok()) {
        ADD_FAILURE() << "connection emitted an unparsable segment: "
                      << wire::to_string(parsed.error());
        return;
      }
      const wire::TcpRepr r = parsed->repr();
      EXPECT_EQ(r.src_port, kLocalPort);
      EXPECT_EQ(r.dst_port, kRemotePort);
      Seg s;
      s.flags = r.flags;
      s.seq = r.seq;
      s.ack_no = (r.flags & wire::tcp_flag::kAck) ? r.ack : SeqNum(0);
      s.window = r.window;
      s.urgent = (r.flags & wire::tcp_flag::kUrg) ? r.urgent : 0;
      s.options = r.options;
      s.payload.assign(r.payload.begin(), r.payload.end());
      outbox.push_back(std::move(s));
      times.push_back(now);
    }
    ADD_FAILURE() << "poll_transmit never returned 0";
  }

  // ---- assertions ----
  std::optional<Seg> pop() {
    flush();
    if (outbox.empty()) return std::nullopt;
    Seg s = std::move(outbox.front());
    last_time = times.front();
    outbox.pop_front();
    times.pop_front();
    return s;
  }
  // The next segment sent must be exactly `want`.
  void expect(const Seg& want, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    auto got = pop();
    if (!got) {
      ADD_FAILURE_AT(file, line) << "expected " << want << " but nothing was sent";
      return;
    }
    if (!(*got == want)) {
      ADD_FAILURE_AT(file, line) << "expected " << want << "\n     got " << *got;
    }
  }
  // Nothing (more) was sent.
  void expect_nothing(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    if (auto got = pop()) ADD_FAILURE_AT(file, line) << "expected nothing, got " << *got;
  }
  // The events raised since the last check are exactly these, in order.
  void expect_events(std::initializer_list<tcp::Event> want, const char* file = __builtin_FILE(),
                     int line = __builtin_LINE()) {
    std::vector<tcp::Event> got = events();
    std::vector<tcp::Event> w(want);
    if (got != w) {
      std::ostringstream os;
      os << "events: expected {";
      for (auto& e : w) os << " " << e;
      os << " } got {";
      for (auto& e : got) os << " " << e;
      os << " }";
      ADD_FAILURE_AT(file, line) << os.str();
    }
  }
  std::vector<tcp::Event> events() {
    std::vector<tcp::Event> v;
    while (auto e = conn.poll_event()) v.push_back(*e);
    return v;
  }
  void expect_state(tcp::State s, const char* file = __builtin_FILE(),
                    int line = __builtin_LINE()) {
    if (conn.state() != s) {
      ADD_FAILURE_AT(file, line) << "state: expected " << tcp::to_string(s) << " got "
                                 << tcp::to_string(conn.state());
    }
  }

  // Leaves the receiver's quick-ACK mode (every segment acknowledged at once at the start of
  // a connection, at most 16 times as Linux): the peer sends one byte at a time from
  // R(`from`) until an ACK no longer comes at once; the delayed ACK of that last byte is let
  // fire, and everything is read. Returns the peer's next relative sequence number.
  uint32_t use_up_quick_acks(uint32_t from = 1) {
    uint32_t seq = from;
    for (int i = 0; i < 64; ++i) {
      send(seg().at(kRemoteIss + seq).ack(conn.tcb().snd_nxt).win(64000).data("q"));
      ++seq;
      if (!pop()) break;  // not acknowledged at once: quick ACKs are used up
    }
    EXPECT_FALSE(conn.receiver().quick_ack_mode());
    advance(conn.config().delayed_ack);
    while (pop()) {
    }
    (void)app_recv();
    while (pop()) {
    }
    events();
    return seq;
  }

  // ---- putting the connection into a state ----
  // Active open to ESTABLISHED. The peer announces MSS 1460 and window `peer_win`.
  void establish(uint16_t peer_win = 64000) {
    conn.open_active(now, kLocalIss);
    flush();
    auto syn = pop();
    ASSERT_TRUE(syn && (syn->flags & wire::tcp_flag::kSyn));
    send(seg().syn().at(kRemoteIss).ack(kLocalIss + 1).win(peer_win).mss(1460));
    auto ack = pop();
    ASSERT_TRUE(ack.has_value());
    ASSERT_EQ(conn.state(), tcp::State::kEstablished);
    events();
  }
  // Passive open to ESTABLISHED.
  void establish_passive(uint16_t peer_win = 64000) {
    conn.listen(kLocalIss);
    send(seg().syn().at(kRemoteIss).win(peer_win).mss(1460));
    auto synack = pop();
    ASSERT_TRUE(synack.has_value());
    send(seg().at(kRemoteIss + 1).ack(kLocalIss + 1).win(peer_win));
    ASSERT_EQ(conn.state(), tcp::State::kEstablished);
    events();
  }

  // Drives the connection into any of the eleven states through real exchanges, then clears
  // the outbox and events. Conventions afterwards (peer window 64000, peer MSS 1460):
  //   synchronized states have SND.UNA = L(1) before our FIN, L(2) once it was sent/acked;
  //   RCV.NXT = R(1) before the peer's FIN and R(2) after it.
  void goto_state(tcp::State target) {
    using tcp::State;
    switch (target) {
      case State::kClosed:
        break;
      case State::kListen:
        conn.listen(kLocalIss);
        break;
      case State::kSynSent:
        conn.open_active(now, kLocalIss);
        break;
      case State::kSynReceived:
        conn.listen(kLocalIss);
        send(seg().syn().at(kRemoteIss).win(64000).mss(1460));
        break;
      case State::kEstablished:
        establish();
        break;
      case State::kFinWait1:
        establish();
        conn.shutdown_write(now);
        break;
      case State::kFinWait2:
        goto_state(State::kFinWait1);
        send(seg().at(kRemoteIss + 1).ack(kLocalIss + 2).win(64000));
        break;
      case State::kCloseWait:
        establish();
        send(seg().fin().at(kRemoteIss + 1).ack(kLocalIss + 1).win(64000));
        break;
      case State::kClosing:
        goto_state(State::kFinWait1);
        send(seg().fin().at(kRemoteIss + 1).ack(kLocalIss + 1).win(64000));
        break;
      case State::kLastAck:
        goto_state(State::kCloseWait);
        conn.shutdown_write(now);
        break;
      case State::kTimeWait:
        goto_state(State::kFinWait2);
        send(seg().fin().at(kRemoteIss + 1).ack(kLocalIss + 2).win(64000));
        break;
    }
    flush();
    outbox.clear();
    times.clear();
    events();
    EXPECT_EQ(conn.state(), target) << "goto_state(" << tcp::to_string(target) << ")";
  }

  std::deque<Seg> outbox;
  std::deque<Instant> times;
  Instant last_time{};  // when the segment last returned by pop() was sent

 private:
  std::vector<uint8_t> in_buf_;
  std::vector<uint8_t> out_buf_ = std::vector<uint8_t>(70'000);
};

// Sequence number helpers for readability in tests.
inline SeqNum L(uint32_t off) {
  return kLocalIss + off;
}
inline SeqNum R(uint32_t off) {
  return kRemoteIss + off;
}

inline std::vector<uint8_t> pattern(size_t n, uint32_t seed = 1) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : v) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<uint8_t>(x >> 24);
  }
  return v;
}

}  // namespace utcp::test
