// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer target for what a hostile peer really reaches: a whole utcp::Stack (IPv4 input,
// connection table, listener, TCP engine, timers) over the in-memory link on a virtual clock.
// The harness plays the peer at 10.77.0.1: it opens one connection to the stack's listener
// with a real handshake, then reads the input as operations — segments built from chosen
// header fields with seq/ack near the connection's real edges and correct checksums, raw
// packets, ICMP errors, SYNs from other ports, clock jumps and application calls. Everything
// the stack sends is parsed and checked against a model of both byte streams; any broken
// invariant aborts. At the end every socket is closed and time runs on: no connection may
// outlive its timers (no leak). Deterministic: fixed secret, virtual time.
// One operation completes a SYN-cookie handshake (RFC 4987 §3.6): the SYN queue filled, a SYN
// answered with a cookie, and the ACK that returns it, exact or bent, so that the cookie check
// and the connection rebuilt from it are fuzzed too.
// The stack reads through a ScatterDevice, as from TUN: bulk segments (16 KiB payload and more,
// the "bulk" operation) are read straight into the connection's receive ring, headers over the
// unread bytes before RCV.NXT; the stream checks catch any byte that comes back wrong.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "fuzz_check.hpp"
#include "stack_input_calls.hpp"
#include "stack_input_packets.hpp"
#include "support/scatter_device.hpp"
#include "utcp/memory_link.hpp"
#include "utcp/stack.hpp"
#include "wire/checksum.hpp"
#include "wire/endian.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/seq_num.hpp"
#include "wire/tcp.hpp"

namespace {

using namespace utcp;
using namespace stack_input;
using wire::SeqNum;
namespace flag = wire::tcp_flag;

class Harness {
 public:
  Harness() : link_(link_config()), scatter_(link_.a()), stack_(scatter_, stack_config()) {
    if (std::getenv("UTCP_FUZZ_VERBOSE")) {
      stack_.set_trace([this](char dir, std::string_view line) {
        std::fprintf(stderr, "%8lld %c %.*s\n", static_cast<long long>(to_us(now_)), dir,
                     int(line.size()), line.data());
      });
    }
  }

  bool setup() {
    std::error_code ec;
    listener_ = stack_.listen(kListenPort, ec);
    check(!ec);
    wire::TcpRepr syn = base(kPeerPort);
    syn.seq = SeqNum(kPeerIss);
    syn.flags = flag::kSyn;
    syn.window = 65535;
    syn.options.mss = 1000;
    syn.options.window_scale = kPeerWscale;
    syn.options.sack_permitted = true;
    syn.options.timestamps = wire::TcpTimestamps{1, 0};
    inject_tcp(syn);
    pump();
    if (!synced_) return false;
    wire::TcpRepr ack = base(kPeerPort);
    ack.seq = SeqNum(kPeerIss + 1);
    ack.ack = a_iss_ + 1;
    ack.flags = flag::kAck;
    ack.window = 65535;
    ack.options.timestamps = wire::TcpTimestamps{2, a_tsval_};
    inject_tcp(ack);
    pump();
    conn_ = stack_.accept(listener_, ec);
    return conn_ != kNoSocket && stack_.state(conn_) == tcp::State::kEstablished;
  }

  void run(Input& in) {
    int ops = 0;
    while (!in.empty() && ops++ < 256) {
      step(in);
      pump();
      invariants();
    }
    if (std::getenv("UTCP_FUZZ_STATS")) {
      const auto c = [this](std::string_view n) {
        return static_cast<unsigned long long>(counter(n));
      };
      std::fprintf(stderr,
                   "stats: ops %d read %llu sent %llu stack-sent %u dead %d trusted %d bulk %llu "
                   "scattered %zu rx-placed %llu rx-place-missed %llu cookies sent %llu valid "
                   "%llu invalid %llu\n",
                   ops, static_cast<unsigned long long>(app_read_),
                   static_cast<unsigned long long>(app_sent_), a_max_.distance_from(a_iss_),
                   model_dead_, data_trusted_, static_cast<unsigned long long>(bulk_sent_),
                   scatter_.scattered, c("dev.rx-placed"), c("dev.rx-place-missed"),
                   c("tcp.syncookies.sent"), c("tcp.syncookies.valid"),
                   c("tcp.syncookies.invalid"));
    }
    drain_to_zero();
  }

 private:
  wire::TcpRepr base(uint16_t peer_port) const {
    wire::TcpRepr r;
    r.src_port = peer_port;
    r.dst_port = kListenPort;
    return r;
  }

  void inject_ip(uint8_t proto, std::span<const uint8_t> l4, uint8_t tos = 0) {
    std::array<uint8_t, 70000> buf{};
    wire::Ipv4Repr ip;
    ip.src = kPeerAddr;
    ip.dst = kStackAddr;
    ip.protocol = proto;
    ip.dscp = tos >> 2;
    ip.ecn = tos & 3;
    ip.payload_len = static_cast<uint16_t>(l4.size());
    if (l4.size() + wire::kIpv4HeaderMin > kLinkMtu) return;
    check(ip.emit(buf) == wire::kIpv4HeaderMin);
    std::copy(l4.begin(), l4.end(), buf.begin() + wire::kIpv4HeaderMin);
    link_.b().transmit_one(std::span<const uint8_t>(buf.data(), ip.total_len()), now_);
    ++injected_;
  }

  void inject_tcp(const wire::TcpRepr& r, uint8_t tos = 0) {
    std::vector<uint8_t> seg(r.total_len());
    check(r.emit(seg, kPeerAddr, kStackAddr) == seg.size());
    inject_ip(wire::ip_proto::kTcp, seg, tos);
  }

  // The peer's data for a segment at `seq` (after its SYN, if any): the pattern at its offset.
  std::span<const uint8_t> peer_payload(SeqNum seq, size_t len) {
    payload_.resize(len);
    const int64_t start = static_cast<int32_t>(seq.raw() - (kPeerIss + 1));
    for (size_t i = 0; i < len; ++i) payload_[i] = peer_byte(static_cast<uint64_t>(start + i));
    return payload_;
  }

  SeqNum pick_seq(Input& in) {
    const uint8_t sel = in.u8();
    const auto delta = static_cast<int16_t>(in.u16());
    SeqNum b;
    switch (sel % 4) {
      case 0:
        b = peer_nxt_;
        break;
      case 1:
        b = a_ack_;
        break;
      case 2:
        b = a_ack_ + a_wnd_;
        break;
      default:
        return SeqNum(in.u32());
    }
    return b + static_cast<uint32_t>(static_cast<int32_t>(delta));
  }
  SeqNum pick_ack(Input& in, SeqNum iss) {
    const uint8_t sel = in.u8();
    const auto delta = static_cast<int16_t>(in.u16());
    SeqNum b;
    switch (sel % 4) {
      case 0:
        b = a_max_;
        break;
      case 1:
        b = peer_acked_;
        break;
      case 2:
        b = iss;
        break;
      default:
        return SeqNum(in.u32());
    }
    return b + static_cast<uint32_t>(static_cast<int32_t>(delta));
  }

  void pick_options(Input& in, wire::TcpRepr& r, SeqNum iss) {
    const uint8_t opts = in.u8();
    if (opts & 1) r.options.mss = in.u16();
    if (opts & 2) r.options.window_scale = in.u8();
    if (opts & 4) r.options.sack_permitted = true;
    if (opts & 8) r.options.timestamps = wire::TcpTimestamps{tsval_ += in.u8(), a_tsval_ - in.u8()};
    r.options.sack_count = static_cast<uint8_t>((opts >> 4) % 5);
    for (size_t i = 0; i < r.options.sack_count; ++i) {
      const SeqNum left = pick_ack(in, iss);
      r.options.sack_blocks[i] = {left, left + in.u16()};
    }
  }

  // The peer's side of the connection: records what it sent (its SND.NXT, its highest ACK).
  void note_peer_sent(const wire::TcpRepr& r, SeqNum data_seq, size_t len) {
    if (r.has(flag::kRst)) return;
    const SeqNum end = data_seq + static_cast<uint32_t>(len) + (r.has(flag::kFin) ? 1 : 0);
    // A segment far ahead is trimmed to the window and may become in order later, so it counts
    // as sent up to the largest window the stack can offer plus one segment; beyond that it
    // could only be a wrapped sequence number.
    if (end > peer_nxt_ && end.distance_from(peer_nxt_) < kRecvBufferMax + 70000) peer_nxt_ = end;
    if (r.has(flag::kAck) && r.ack > peer_acked_ && r.ack <= a_max_) peer_acked_ = r.ack;
  }

  // One bulk segment of the main connection (what direct placement is for): 16 KiB to ~64 KiB
  // of the peer's stream at a seq near RCV.NXT, with chosen flags and options, and header
  // lengths varied further by NOP words in the TCP options and in the IPv4 header (RFC 791
  // §3.1: option type 1). Mostly in order, so that the stack predicts and places the next one.
  void inject_bulk(Input& in) {
    wire::TcpRepr r = base(kPeerPort);
    const uint8_t f = in.u8();
    r.flags = f & 0x80
                  ? f
                  : static_cast<uint8_t>((f & (flag::kFin | flag::kPsh | flag::kUrg)) | flag::kAck);
    const uint8_t sel = in.u8();
    switch (sel % 4) {
      case 0:
        r.seq = a_ack_;  // the stack's RCV.NXT: placed if predicted
        break;
      case 1:
        r.seq = peer_nxt_;
        break;
      case 2:
        r.seq = a_ack_ + static_cast<uint32_t>(static_cast<int32_t>(static_cast<int8_t>(in.u8())));
        break;
      default:
        r.seq = pick_seq(in);
        break;
    }
    r.ack = sel & 4 ? pick_ack(in, a_iss_ + 1) : a_max_;
    r.window = 65535;
    r.urgent = r.has(flag::kUrg) ? in.u16() : 0;
    if (sel & 8) pick_options(in, r, a_iss_);
    // RFC 7323 §3.2: without timestamps the stack drops it (both sides negotiated them).
    if (!(sel & 16)) r.options.timestamps = wire::TcpTimestamps{++tsval_, a_tsval_};
    const uint8_t pad = in.u8();
    const size_t tcp_nops = pad % 16 * 4, ip_nops = pad / 16 % 11 * 4;
    const size_t room = kLinkMtu - wire::kIpv4HeaderMin - ip_nops - r.total_len() - tcp_nops;
    const size_t len = std::min<size_t>(16 * 1024 - 256 + in.u16(), room);
    const SeqNum data_seq = r.seq + (r.has(flag::kSyn) ? 1 : 0);
    r.payload = peer_payload(data_seq, len);
    const size_t total = emit_padded(bulk_buf_, r, tcp_nops, ip_nops);
    link_.b().transmit_one(std::span<const uint8_t>(bulk_buf_.data(), total), now_);
    ++injected_;
    ++bulk_sent_;
    note_peer_sent(r, data_seq, len);
  }

  // The application reads up to n bytes; all of them must be the peer's, in order.
  void app_recv(size_t n) {
    std::error_code ec;
    std::vector<uint8_t> out(n);
    const size_t got = stack_.recv(conn_, out, ec);
    check(got <= out.size());
    if (data_trusted_) {
      for (size_t i = 0; i < got; ++i) check(out[i] == peer_byte(app_read_ + i));
    }
    app_read_ += got;
  }

  void inject_crafted(Input& in, uint16_t peer_port, uint16_t local_port = kListenPort) {
    SeqNum iss = peer_port == kPeerPort ? a_iss_ : other_iss_[peer_port % other_iss_.size()];
    if (local_port != kListenPort) iss = active_iss_;
    wire::TcpRepr r = base(peer_port);
    r.dst_port = local_port;
    r.flags = in.u8();
    r.seq = pick_seq(in);
    r.ack = pick_ack(in, iss + 1);
    r.window = in.u16();
    r.urgent = in.u16();
    pick_options(in, r, iss);
    const size_t len = std::min<size_t>(in.u16() % 2048, 1400);
    const SeqNum data_seq = r.seq + (r.has(flag::kSyn) ? 1 : 0);
    r.payload = peer_payload(data_seq, len);
    inject_tcp(r, in.u8());
    if (peer_port == kPeerPort && local_port == kListenPort) note_peer_sent(r, data_seq, len);
  }

  void inject_icmp(Input& in) {
    // An error quoting one of our segments, the sequence number near what the stack sent.
    const uint16_t sport = in.u8() & 1 ? kListenPort : in.u16();
    const uint16_t dport = in.u8() & 1 ? kPeerPort : in.u16();
    const auto quote = quote_of_our_segment(sport, dport, pick_ack(in, a_iss_).raw());
    const uint8_t type = in.u8();
    const uint8_t code = in.u8();
    wire::IcmpRepr r = wire::IcmpRepr::dest_unreachable(code, in.u16(), quote);
    if (type & 1) r = wire::IcmpRepr::time_exceeded(code, quote);
    if (type & 2) r.type = type >> 2;
    std::array<uint8_t, 64> buf{};
    const size_t n = r.emit(buf);
    if (n > 0) inject_ip(wire::ip_proto::kIcmp, std::span<const uint8_t>(buf.data(), n));
  }

  void step(Input& in) {
    std::error_code ec;
    const uint8_t op = in.u8();
    // 0xf0 and up: the bulk operations (the 16 below keep their encoding for the seeds).
    switch (op < 0xf0 ? op % 16 : 16 + op % 4) {
      case 0:
      case 1:
      case 2:
      case 3:
        inject_crafted(in, kPeerPort);
        break;
      case 4: {  // raw IPv4 packet, as it comes
        auto raw = in.bytes(in.u16() % 1500);
        link_.b().transmit_one(raw, now_);
        ++injected_;
        data_trusted_ = false;
        break;
      }
      case 5: {  // raw TCP bytes behind a valid IPv4 header, checksum fixed up
        auto raw = in.bytes(in.u16() % 1400);
        std::vector<uint8_t> seg(raw.begin(), raw.end());
        if (seg.size() >= 20) {
          auto p = wire::TcpPacket::parse(seg, kPeerAddr, kStackAddr, false);
          if (p) {
            // Recompute the checksum through the repr when the header decodes.
            wire::TcpRepr r = p->repr();
            std::vector<uint8_t> out(r.total_len());
            if (r.total_len() <= 1400 && r.emit(out, kPeerAddr, kStackAddr) == out.size())
              seg = out;
          }
        }
        inject_ip(wire::ip_proto::kTcp, seg);
        data_trusted_ = false;
        break;
      }
      case 6:
        inject_icmp(in);
        break;
      case 7: {  // another peer port (a new SYN, or a segment on that tuple), or our active open
        const uint8_t which = in.u8() % 5;
        if (which == 4 && active_port_ != 0) {
          inject_crafted(in, kActivePeerPort, active_port_);
        } else {
          inject_crafted(in, static_cast<uint16_t>(kPeerPort + 1 + which % 4));
        }
        break;
      }
      case 8: {  // time passes
        static constexpr int64_t kSteps[] = {0,         1'000,      40'000,      200'000,
                                             1'000'000, 30'000'000, 120'000'000, 600'000'000};
        advance(Duration(kSteps[in.u8() % 8] + in.u8() * 997));
        break;
      }
      case 9: {
        const size_t n = in.u16() % 20000;
        std::vector<uint8_t> data(n);
        for (size_t i = 0; i < n; ++i) data[i] = app_byte(app_sent_ + i);
        const size_t took =
            (in.u8() & 1) ? stack_.send_urgent(conn_, data, ec) : stack_.send(conn_, data, ec);
        check(took <= n);
        app_sent_ += took;
        break;
      }
      case 10:
        app_recv(in.u16() % 20000);
        break;
      case 16:
      case 17:
        inject_bulk(in);
        break;
      case 18:  // a slow reader: a few bytes, so that most stay unread under the headroom
        app_recv(1 + in.u8());
        break;
      case 19:
        cookie_handshake(in);
        break;
      case 11:
        stack_.shutdown_write(conn_, ec);
        break;
      case 12:
        if (in.u8() & 1) {
          stack_.close(conn_);
        } else {
          stack_.abort(conn_);
        }
        conn_gone_ = true;
        break;
      case 13: {
        if (in.u8() & 1) {  // an active open to the peer (once)
          if (active_ == kNoSocket) active_ = stack_.connect(kPeerAddr, kActivePeerPort, ec);
          break;
        }
        const SocketId s = stack_.accept(listener_, ec);
        if (s != kNoSocket) accepted_.push_back(s);
        break;
      }
      case 14: {
        const uint8_t which = in.u8();
        SocketId s = (which & 0x80) && !accepted_.empty() ? accepted_.back() : conn_;
        if ((which & 0x40) && active_ != kNoSocket) s = active_;
        if (set_socket_option(stack_, s, which, in)) buffers_changed_ = true;
        break;
      }
      default:  // readers that must never fail on any socket id
        read_everything(stack_, in.u8() % 8);
        break;
    }
  }

  uint64_t counter(std::string_view name) const {
    for (auto [n, v] : stack_.counters()) {
      if (n == name) return v;
    }
    return 0;
  }

  // RFC 4987 §3.6. The SYN queue is (re)filled by SYNs nobody completes (a repeat lands on its
  // half-open entry), so a SYN from a cookie port gets a cookie SYN-ACK; the peer returns it
  // in an ACK, exact or bent (ACK number, sequence number or TSecr changed), maybe late.
  void cookie_handshake(Input& in) {
    for (uint32_t i = 0; i < kSynBacklog; ++i) {
      wire::TcpRepr fill = base(static_cast<uint16_t>(kFillPeerPort + i));
      fill.seq = SeqNum(0x10000 * (i + 1));
      fill.flags = flag::kSyn;
      fill.window = 65535;
      fill.options.mss = 1000;
      inject_tcp(fill);
    }
    pump();
    const uint8_t k = in.u8() % 4;
    const auto port = static_cast<uint16_t>(kCookiePeerPort + k);
    const wire::TcpRepr syn = fuzzed_syn(in, port, kListenPort, tsval_);
    cookie_[k] = {};
    const uint64_t sent = counter("tcp.syncookies.sent");
    inject_tcp(syn);
    pump();
    // A SYN the queue had room for, or one that met a connection on this port, is no cookie.
    if (counter("tcp.syncookies.sent") != sent + 1 || !cookie_[k].seen) return;
    const uint8_t bend = in.u8();
    wire::TcpRepr ack = base(port);
    ack.flags = static_cast<uint8_t>(flag::kAck | (bend & 0x10 ? flag::kPsh : 0) |
                                     (bend & 0x20 ? flag::kFin : 0));
    ack.seq = syn.seq + 1;
    ack.ack = cookie_[k].iss + 1;
    ack.window = in.u16();
    uint32_t tsecr = cookie_[k].tsval;
    switch (bend % 4) {
      case 1:
        ack.ack = ack.ack + (1u + in.u16());
        break;
      case 2:
        ack.seq = ack.seq + (1u + in.u8());
        break;
      case 3:
        tsecr ^= 1u << (in.u8() % 32);  // the options the cookie's timestamp carries
        break;
      default:
        break;
    }
    const bool late = bend & 0x08;
    if (late) advance(Duration(int64_t{1'000'000} * in.u8()));  // cookies age
    if (syn.options.timestamps && !(bend & 0x40)) {
      ack.options.timestamps = wire::TcpTimestamps{tsval_ += 1, tsecr};
    }
    ack.payload = peer_payload(ack.seq, bend & 0x80 ? in.u16() % 1400 : 0);
    const uint64_t valid = counter("tcp.syncookies.valid");
    inject_tcp(ack);
    pump();
    // A cookie returned exactly and at once is valid, whatever the SYN offered.
    if (bend % 4 == 0 && !late) check(counter("tcp.syncookies.valid") == valid + 1);
  }

  void advance(Duration d) {
    const Instant limit = now_ + d;
    for (int i = 0; i < 10000; ++i) {
      stack_.process(now_);
      drain();
      Instant next = std::min(stack_.next_deadline(), limit);
      if (next <= now_) {
        if (now_ >= limit) break;
        next = limit;
      }
      now_ = next;
    }
    pump();
  }

  void pump() {
    stack_.process(now_);
    drain();
  }

  // Reads and checks everything the stack sent.
  void drain() {
    for (;;) {
      dev::PacketSlot slot{std::span<uint8_t>(out_buf_)};
      if (link_.b().receive(std::span<dev::PacketSlot>(&slot, 1), now_) == 0) break;
      ++sent_by_stack_;
      auto ip = wire::Ipv4Packet::parse(slot.data());
      check(ip.ok());  // the stack only emits valid IPv4
      check(ip->src() == kStackAddr && ip->dst() == kPeerAddr);
      if (ip->protocol() != wire::ip_proto::kTcp) continue;
      auto seg = wire::TcpPacket::parse(ip->payload(), ip->src(), ip->dst());
      check(seg.ok());
      if (seg->dst_port() == kActivePeerPort && seg->syn() && !seg->ack_flag()) {
        active_port_ = seg->src_port();
        active_iss_ = seg->seq();
      }
      if (seg->src_port() != kListenPort) continue;
      const uint16_t port = seg->dst_port();
      if (port == kPeerPort) {
        on_main(*seg);
      } else if (seg->syn() && port >= kCookiePeerPort && port < kCookiePeerPort + 4) {
        CookieSynAck& c = cookie_[port - kCookiePeerPort];
        c = {true, seg->seq(), 0};
        if (seg->options().timestamps) c.tsval = seg->options().timestamps->tsval;
      } else if (seg->syn() && port > kPeerPort && port <= kPeerPort + 4) {
        other_iss_[port % other_iss_.size()] = seg->seq();
      }
    }
  }

  void on_main(const wire::TcpPacket& s) {
    if (s.options().timestamps) a_tsval_ = s.options().timestamps->tsval;
    if (s.syn() && !synced_) {
      check(s.ack_flag() && s.ack() == SeqNum(kPeerIss + 1));
      synced_ = true;
      a_iss_ = s.seq();
      a_max_ = a_iss_ + 1;
      peer_acked_ = a_iss_ + 1;
      a_ack_ = s.ack();
      peer_nxt_ = s.ack();
      a_wscale_ = s.options().window_scale.value_or(0);
      a_wnd_ = s.window();  // RFC 7323 §2.2: never scaled on a SYN
      a_right_ = s.ack() + a_wnd_;
      return;
    }
    if (!synced_ || model_dead_) return;
    if (s.rst() || (s.syn() && (s.seq() != a_iss_ || s.ack() != SeqNum(kPeerIss + 1)))) {
      model_dead_ = true;  // the connection ended, or a new incarnation took the 4-tuple
      return;
    }
    if (s.syn()) return;  // a SYN-ACK retransmission
    // RFC 9293 §3.4: everything sent lies in what the application handed over (+ FIN).
    const int64_t off = static_cast<int32_t>(s.seq().raw() - (a_iss_.raw() + 1));
    const auto payload = s.payload();
    for (size_t i = 0; i < payload.size(); ++i) {
      const int64_t k = off + static_cast<int64_t>(i);
      if (k < 0) continue;  // a keepalive's garbage byte below SND.UNA
      check(static_cast<uint64_t>(k) < app_sent_);
      check(payload[i] == app_byte(static_cast<uint64_t>(k)));
    }
    const SeqNum end = s.seq() + static_cast<uint32_t>(payload.size()) + (s.fin() ? 1 : 0);
    if (end > a_max_) a_max_ = end;
    check(a_max_.distance_from(a_iss_) <= app_sent_ + 2);
    if (!s.ack_flag()) return;
    // The stack never acknowledges what the peer did not send, and RCV.NXT never moves back.
    check(s.ack() <= peer_nxt_);
    check(s.ack() >= a_ack_);
    a_ack_ = s.ack();
    // RFC 9293 §3.8.6.2.2 / RFC 7323 §2.4: the right edge of the offered window does not
    // move left (the application shrinking its buffer may, so that case is exempt).
    const SeqNum right = s.ack() + (uint32_t{s.window()} << a_wscale_);
    if (!buffers_changed_) check(right + ((1u << a_wscale_) - 1) >= a_right_);
    a_right_ = SeqNum::max(a_right_, right);
    a_wnd_ = uint32_t{s.window()} << a_wscale_;
  }

  void invariants() {
    check(stack_.connection_count() <= injected_ + 2);
    if (conn_gone_) return;
    if (auto info = stack_.tcp_info(conn_)) {
      check(info->unacked <= app_sent_ + 2);
      check(info->bytes_acked <= app_sent_ + 2);  // data_acked may count SYN/FIN octets
      check(info->sacked <= info->unacked && info->lost <= info->unacked);
      check(info->cwnd > 0);
      check(info->rcv_wnd <= (1u << 30));
      if (data_trusted_) check(info->bytes_received <= peer_nxt_.distance_from(SeqNum(kPeerIss)));
    }
    check(stack_.recv_available(conn_) <= 1u << 26);
  }

  // No leaks: with every socket closed and nobody answering, every connection must end.
  void drain_to_zero() {
    if (!conn_gone_) stack_.close(conn_);
    for (SocketId s : accepted_) stack_.close(s);
    if (active_ != kNoSocket) stack_.close(active_);
    stack_.close(listener_);
    for (int i = 0; i < 12 && stack_.connection_count() > 0; ++i) advance(Duration(600'000'000));
    if (stack_.connection_count() != 0 && std::getenv("UTCP_FUZZ_VERBOSE")) {
      for (auto [name, v] : stack_.counters())
        std::fprintf(stderr, "%.*s=%llu\n", int(name.size()), name.data(), (unsigned long long)v);
    }
    check(stack_.connection_count() == 0);
  }

  dev::MemoryLink link_;
  test_support::ScatterDevice scatter_;
  Stack stack_;
  Instant now_{};
  SocketId listener_ = kNoSocket;
  SocketId conn_ = kNoSocket;
  std::vector<SocketId> accepted_;
  uint64_t injected_ = 0;
  uint64_t sent_by_stack_ = 0;
  bool synced_ = false;
  bool model_dead_ = false;
  bool conn_gone_ = false;
  bool data_trusted_ = true;
  bool buffers_changed_ = false;
  SeqNum a_iss_;
  SeqNum a_max_;        // highest sequence number the stack sent, plus one
  SeqNum a_ack_;        // the stack's latest ACK (its RCV.NXT)
  SeqNum a_right_;      // the furthest right window edge it offered
  uint32_t a_wnd_ = 0;  // its latest window, scaled
  uint8_t a_wscale_ = 0;
  uint32_t a_tsval_ = 0;
  uint32_t tsval_ = 100;
  SeqNum peer_nxt_;                    // the peer's SND.NXT
  SeqNum peer_acked_;                  // the highest ACK the peer sent
  std::array<SeqNum, 8> other_iss_{};  // the stack's ISS towards the other peer ports
  struct CookieSynAck {                // the stack's SYN-ACK towards a cookie port
    bool seen = false;
    SeqNum iss;
    uint32_t tsval = 0;
  };
  std::array<CookieSynAck, 4> cookie_{};
  SocketId active_ = kNoSocket;  // the application's active open, if it made one
  uint16_t active_port_ = 0;     // its local port, once its SYN was seen
  SeqNum active_iss_;
  uint64_t app_sent_ = 0;
  uint64_t app_read_ = 0;
  std::vector<uint8_t> payload_;
  uint64_t bulk_sent_ = 0;
  std::array<uint8_t, kLinkMtu> out_buf_{};
  std::array<uint8_t, kLinkMtu> bulk_buf_{};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Harness h;
  check(h.setup());
  Input in(std::span<const uint8_t>(data, size));
  h.run(in);
  return 0;
}
