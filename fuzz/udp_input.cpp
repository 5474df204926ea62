// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer target for the UDP path of a whole utcp::Stack (push-style, virtual clock, fixed
// secret): IPv4 and IPv6 input, fragment reassembly, demultiplexing to bound and connected
// sockets, bounded receive queues, port unreachable, ICMP/ICMPv6 errors about our datagrams,
// and sending. The input is read as operations: datagrams built from chosen fields (valid
// checksums, optionally fragmented and reordered), raw packets, ICMP errors, application calls
// and clock steps. Invariants: every datagram an application reads carries the bytes its
// sender put in (each payload names itself), readiness agrees with what recv_from finds,
// everything the stack sends parses with valid checksums and is UDP from our sockets or an
// ICMP error/echo reply, and closing everything leaves no socket behind (LeakSanitizer).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include "fuzz_check.hpp"
#include "ip/ipv4_fragmenter.hpp"
#include "utcp/stack.hpp"
#include "wire/checksum.hpp"
#include "wire/icmp.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"

namespace {

using namespace utcp;

const Ipv4Addr kStack4(10, 77, 0, 2);
const Ipv4Addr kPeer4(10, 77, 0, 1);
const Ipv6Addr kStack6(0xfd77, 0, 0, 0, 0, 0, 0, 2);
const Ipv6Addr kPeer6(0xfd77, 0, 0, 0, 0, 0, 0, 1);
// Raw packets come from here, so what they deliver is never taken for the peer's datagrams.
const Ipv4Addr kRaw4(10, 77, 0, 9);
const Ipv6Addr kRaw6(0xfd77, 0, 0, 0, 0, 0, 0, 9);
constexpr size_t kMtu = 1500;
constexpr size_t kSockets = 4;

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}
  bool done() const { return pos_ >= in_.size(); }
  uint8_t u8() { return pos_ < in_.size() ? in_[pos_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }
  std::span<const uint8_t> bytes(size_t n) {
    n = std::min(n, in_.size() - std::min(pos_, in_.size()));
    auto s = in_.subspan(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
};

// A payload that names itself: 4 bytes of id, then bytes derived from the id.
uint8_t body_byte(uint32_t id, size_t i) {
  return static_cast<uint8_t>(id * 7 + i * 13 + 1);
}
std::vector<uint8_t> payload_for(uint32_t id, size_t len) {
  std::vector<uint8_t> p(len);
  for (size_t i = 0; i < len; ++i)
    p[i] = i < 4 ? static_cast<uint8_t>(id >> (8 * i)) : body_byte(id, i);
  return p;
}
// What a reader got (copied of datagram_len) must be a prefix of such a payload.
void check_payload(std::span<const uint8_t> got, size_t datagram_len) {
  check(got.size() <= datagram_len);
  if (datagram_len < 4) return;  // too short to name itself: nothing to compare
  if (got.size() < 4) return;
  const uint32_t id =
      uint32_t{got[0]} | uint32_t{got[1]} << 8 | uint32_t{got[2]} << 16 | uint32_t{got[3]} << 24;
  for (size_t i = 4; i < got.size(); ++i) check(got[i] == body_byte(id, i));
}

struct Harness {
  Harness() : st(caps(), config()) { open_all(); }
  static dev::DeviceCapabilities caps() {
    dev::DeviceCapabilities c;
    c.mtu = kMtu;
    return c;
  }
  static StackConfig config() {
    StackConfig c;
    c.address = kStack4;
    c.address6 = kStack6;
    for (size_t i = 0; i < c.secret.size(); ++i) c.secret[i] = static_cast<uint8_t>(i + 1);
    return c;
  }
  void open(size_t i) {
    std::error_code ec;
    switch (i) {
      case 0:
        sock[i] = st.udp_bind({Ipv4Addr(), 53}, ec);
        if (sock[i] != kNoSocket) st.set_udp_recv_queue(sock[i], 6000, 8);  // overflows easily
        break;
      case 1:
        sock[i] = st.udp_bind({Ipv6Addr(), 53}, ec);
        break;
      case 2:
        sock[i] = st.udp_connect({kPeer4, 7}, ec);
        break;
      default:
        sock[i] = st.udp_connect({kPeer6, 7}, ec);
        break;
    }
    check(!ec && sock[i] != kNoSocket);
  }
  void open_all() {
    for (size_t i = 0; i < kSockets; ++i) open(i);
  }
  uint16_t port_of(size_t i) const { return st.udp_local_endpoint(sock[i]).port; }

  // Feeds a packet and drains what the stack sends, checking each.
  void feed(std::span<const uint8_t> packet) {
    st.input(packet, now);
    drain();
  }
  void drain() {
    st.flush(now);
    while (const size_t n = st.poll_transmit(out)) check_sent(std::span(out).first(n));
  }
  void check_sent(std::span<const uint8_t> p) {
    check(!p.empty() && p.size() <= kMtu);
    if (p[0] >> 4 == 4) {
      auto ip = wire::Ipv4Packet::parse(p);
      check(ip.ok() && ip->src() == kStack4);
      if (ip->is_fragment()) return;  // a piece of a datagram checked as we built it
      if (ip->protocol() == wire::ip_proto::kUdp) {
        auto u = wire::UdpPacket::parse(ip->payload(), ip->src(), ip->dst());
        check(u.ok() && u->has_checksum());
      } else if (ip->protocol() == wire::ip_proto::kTcp) {
        check(wire::TcpPacket::parse(ip->payload(), ip->src(), ip->dst()).ok());  // a RST
      } else {
        check(ip->protocol() == wire::ip_proto::kIcmp);
        auto m = wire::IcmpPacket::parse(ip->payload());
        check(m.ok());
        check(m->type() == wire::icmp_type::kDestUnreachable ||
              m->type() == wire::icmp_type::kEchoReply);
      }
    } else {
      auto ip = wire::Ipv6Packet::parse(p);
      check(ip.ok() && ip->src() == kStack6);
      if (ip->next_header() == wire::ipv6_next::kUdp) {
        auto u = wire::UdpPacket::parse(ip->payload(), IpAddr(ip->src()), IpAddr(ip->dst()));
        check(u.ok());
      } else if (ip->next_header() == wire::ipv6_next::kIcmpv6) {
        auto m = wire::Icmpv6Packet::parse(ip->payload(), ip->src(), ip->dst());
        check(m.ok());
      }
      // Fragment headers (44): pieces of a datagram checked as we built it.
    }
  }

  // Raw bytes as a packet, its source moved to kRaw4 / kRaw6 (the IPv4 header checksum
  // recomputed, so the packet still gets past the header check).
  void raw(std::span<const uint8_t> bytes) {
    std::vector<uint8_t> p(bytes.begin(), bytes.end());
    if (p.size() >= 40 && p[0] >> 4 == 6) {
      std::copy(kRaw6.bytes.begin(), kRaw6.bytes.end(), p.begin() + 8);
    } else if (p.size() >= 20 && p[0] >> 4 == 4) {
      const size_t ihl = size_t{static_cast<uint8_t>(p[0] & 0x0f)} * 4;
      p[12] = 10, p[13] = 77, p[14] = 0, p[15] = 9;
      if (ihl >= 20 && ihl <= p.size()) {
        p[10] = p[11] = 0;
        const uint16_t c = wire::internet_checksum(std::span(p).first(ihl));
        p[10] = static_cast<uint8_t>(c >> 8);
        p[11] = static_cast<uint8_t>(c);
      }
    }
    feed(p);
  }

  // A datagram from the peer, whole or in fragments (IPv4), in the order the input picks.
  void datagram(Reader& r, bool v6) {
    const uint8_t which = r.u8();
    uint16_t dport = which % 4 == 0 ? 53 : which % 4 == 1 ? port_of(v6 ? 3 : 2) : r.u16();
    const uint16_t sport = which & 0x10 ? 7 : r.u16();
    const size_t len = r.u16() % 4000;
    const uint8_t tos = r.u8();
    const auto payload = payload_for(next_id++, len);
    const IpAddr src = v6 ? IpAddr(kPeer6) : IpAddr(kPeer4);
    const IpAddr dst = v6 ? IpAddr(kStack6) : IpAddr(kStack4);
    wire::UdpRepr u{.src_port = sport, .dst_port = dport, .payload = payload};
    std::vector<uint8_t> pkt((v6 ? wire::kIpv6HeaderLen : wire::kIpv4HeaderMin) + u.total_len());
    if (v6) {
      wire::Ipv6Repr h{.src = kPeer6,
                       .dst = kStack6,
                       .next_header = wire::ipv6_next::kUdp,
                       .traffic_class = tos,
                       .payload_len = static_cast<uint16_t>(u.total_len())};
      h.emit(pkt);
      u.emit(std::span(pkt).subspan(wire::kIpv6HeaderLen), src, dst);
      if (pkt.size() <= kMtu) feed(pkt);
      return;
    }
    wire::Ipv4Repr h{.src = kPeer4,
                     .dst = kStack4,
                     .protocol = wire::ip_proto::kUdp,
                     .dscp = static_cast<uint8_t>(tos >> 2),
                     .ecn = static_cast<uint8_t>(tos & 3),
                     .identification = next_ip_id++,
                     .df = false,
                     .payload_len = static_cast<uint16_t>(u.total_len())};
    h.emit(pkt);
    u.emit(std::span(pkt).subspan(wire::kIpv4HeaderMin), src, dst);
    const size_t frag_mtu = 68 + r.u8() * 8;
    if (pkt.size() <= frag_mtu) {
      feed(pkt);
      return;
    }
    ip::Ipv4Fragmenter f(pkt, frag_mtu);
    std::vector<std::vector<uint8_t>> frags;
    while (!f.done()) {
      std::vector<uint8_t> b(frag_mtu);
      const size_t n = f.next(b);
      if (n == 0) break;
      b.resize(n);
      frags.push_back(std::move(b));
    }
    const uint8_t order = r.u8();
    if (order & 1) std::reverse(frags.begin(), frags.end());
    if (order & 2 && frags.size() > 1) frags.pop_back();  // one lost: the train times out
    for (const auto& fr : frags) feed(fr);
  }

  // An ICMP error quoting a datagram we "sent" from one of our sockets.
  void icmp_error(Reader& r, bool v6) {
    const size_t i = r.u8() % kSockets;
    const uint8_t type = r.u8(), code = r.u8();
    const uint16_t remote_port = r.u8() & 1 ? 7 : r.u16();
    std::vector<uint8_t> quoted(v6 ? 48 : 28);
    if (v6) {
      wire::Ipv6Repr h{
          .src = kStack6, .dst = kPeer6, .next_header = wire::ipv6_next::kUdp, .payload_len = 8};
      h.emit(quoted);
    } else {
      wire::Ipv4Repr h{
          .src = kStack4, .dst = kPeer4, .protocol = wire::ip_proto::kUdp, .payload_len = 8};
      h.emit(quoted);
    }
    uint8_t* udp = quoted.data() + (v6 ? 40 : 20);
    udp[0] = static_cast<uint8_t>(port_of(i) >> 8);
    udp[1] = static_cast<uint8_t>(port_of(i));
    udp[2] = static_cast<uint8_t>(remote_port >> 8);
    udp[3] = static_cast<uint8_t>(remote_port);
    std::vector<uint8_t> pkt(1500);
    if (v6) {
      wire::Icmpv6Repr m;
      m.type = type % 5;  // the four error types and one that is not
      m.code = code % 8;
      m.data = quoted;
      const size_t n = m.emit(std::span(pkt).subspan(40), kPeer6, kStack6);
      wire::Ipv6Repr h{.src = kPeer6,
                       .dst = kStack6,
                       .next_header = wire::ipv6_next::kIcmpv6,
                       .payload_len = static_cast<uint16_t>(n)};
      h.emit(pkt);
      pkt.resize(40 + n);
    } else {
      wire::IcmpRepr m;
      m.type = type % 16;
      m.code = code % 16;
      m.data = quoted;
      const size_t n = m.emit(std::span(pkt).subspan(20));
      wire::Ipv4Repr h{.src = kPeer4,
                       .dst = kStack4,
                       .protocol = wire::ip_proto::kIcmp,
                       .payload_len = static_cast<uint16_t>(n)};
      h.emit(pkt);
      pkt.resize(20 + n);
    }
    feed(pkt);
  }

  void recv(Reader& r) {
    const size_t i = r.u8() % kSockets;
    const bool readable = (st.readiness(sock[i]) & ready::kReadable) != 0;
    std::vector<uint8_t> buf(r.u16() % 5000);
    std::error_code ec;
    Endpoint from;
    DatagramInfo info;
    const size_t n = st.recv_from(sock[i], buf, ec, &from, &info);
    if (ec == std::errc::operation_would_block) {
      check(!readable);
      return;
    }
    check(readable);  // a datagram or a pending error was announced
    if (ec) return;   // the pending ICMP error
    check(n == std::min(buf.size(), info.datagram_len));
    check(info.dst.addr == (i % 2 ? IpAddr(kStack6) : IpAddr(kStack4)));
    if (from.addr == IpAddr(kRaw4) || from.addr == IpAddr(kRaw6)) {
      check(i < 2);  // connected sockets hear their peer only
      return;
    }
    check(from.addr == (i % 2 ? IpAddr(kPeer6) : IpAddr(kPeer4)));
    if (i >= 2) check(from.port == 7);
    check_payload(std::span(buf).first(n), info.datagram_len);
  }

  void send(Reader& r) {
    const size_t i = r.u8() % kSockets;
    const size_t len = r.u16() % 9000;
    const auto payload = payload_for(next_id++, len);
    std::error_code ec;
    const Endpoint to{i % 2 ? IpAddr(kPeer6) : IpAddr(kPeer4), r.u16()};
    const bool connected = i >= 2 && (r.u8() & 1);
    const size_t n = st.send_to(sock[i], payload, connected ? nullptr : &to, ec);
    check(ec || n == len);
    drain();
  }

  void step(Reader& r) {
    now += Duration(int64_t{r.u16()} * 10'000);  // up to 655 s: reassembly timeouts
    st.process(now);
    drain();
  }

  void reopen(Reader& r) {
    const size_t i = r.u8() % kSockets;
    st.close(sock[i]);
    check(st.readiness(sock[i]) == ready::kError);  // the handle is gone
    open(i);
  }

  Instant now{};
  Stack st;
  std::array<SocketId, kSockets> sock{};
  std::vector<uint8_t> out = std::vector<uint8_t>(65535);
  uint32_t next_id = 1;
  uint16_t next_ip_id = 1;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Harness h;
  Reader r({data, size});
  for (int ops = 0; !r.done() && ops < 200; ++ops) {
    switch (r.u8() % 10) {
      case 0:
      case 1:
        h.datagram(r, false);
        break;
      case 2:
        h.datagram(r, true);
        break;
      case 3: {
        const size_t n = r.u16() % 2000;
        h.raw(r.bytes(n));
        break;
      }
      case 4:
        h.icmp_error(r, r.u8() & 1);
        break;
      case 5:
      case 6:
        h.recv(r);
        break;
      case 7:
        h.send(r);
        break;
      case 8:
        h.step(r);
        break;
      default:
        h.reopen(r);
        break;
    }
  }
  for (SocketId s : h.sock) h.st.close(s);
  h.now += Duration(120'000'000);
  h.st.process(h.now);
  h.drain();
  return 0;
}
