// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer target for forwarded input (issue 13): a push-style utcp::Stack that terminates
// TCP, UDP and ICMP echo for 198.18.0.0/15 and 2001:db8::/32, its UDP flows keyed by 4-tuple
// or endpoint-independent (RFC 4787 §4.1; the first input byte picks, with the limits). The
// rest of the input is read as operations: SYNs and later segments from a few clients to a few
// forwarded destinations (sequence numbers near the client's own, acknowledgments near what
// the stack last sent on that 4-tuple), UDP datagrams (checksums right, wrong or zero), ICMP
// and ICMPv6 errors quoting a packet the stack sent (sent to its source as the client's host
// would, or bent), echo requests, raw packets, the application's decisions on connection
// requests (accept, reset, reject, or none: the timeout), calls on flows (recv_from, send_to,
// send_from from any address, close) and connections (send, recv, shutdown, close, abort), and
// clock jumps. Checked: every packet the stack sends parses and leaves from one of its own or
// a forwarded address; calls never fail but with an error code; at the end, everything closed
// and the clock run past every timeout, no connection, request or flow is left (no leak).
// Deterministic: fixed secret, virtual time.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <span>
#include <tuple>
#include <vector>

#include "fuzz_check.hpp"
#include "stack_input_packets.hpp"
#include "utcp/stack.hpp"
#include "wire/icmp.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"

namespace {

using namespace utcp;
using stack_input::Input;
namespace flag = wire::tcp_flag;

const Ipv4Addr kOwn4(10, 77, 0, 2);
const Ipv6Addr kOwn6(0xfd77, 0, 0, 0, 0, 0, 0, 2);
const IpPrefix kNet4 = *IpPrefix::parse("198.18.0.0/15");
const IpPrefix kNet6 = *IpPrefix::parse("2001:db8::/32");
constexpr size_t kMtu = 1500;

// Who the input speaks for: two clients per family, four destinations per family (three
// forwarded, one the stack's own), four ports.
IpAddr client(bool v6, uint8_t i) {
  return v6 ? IpAddr(Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 0x10 + (i & 1)))
            : IpAddr(Ipv4Addr(10, 77, 0, static_cast<uint8_t>(0x10 + (i & 1))));
}
IpAddr destination(bool v6, uint8_t i) {
  switch (i & 3) {
    case 0:
      return v6 ? IpAddr(*IpAddr::parse("2001:db8::1")) : IpAddr(Ipv4Addr(198, 18, 0, 1));
    case 1:
      return v6 ? IpAddr(*IpAddr::parse("2001:db8:ffff::2")) : IpAddr(Ipv4Addr(198, 19, 255, 254));
    case 2:
      return v6 ? IpAddr(*IpAddr::parse("2001:db8:0:1::3")) : IpAddr(Ipv4Addr(198, 18, 7, 7));
    default:
      return v6 ? IpAddr(kOwn6) : IpAddr(kOwn4);
  }
}
uint16_t port(uint8_t i) {
  static constexpr std::array<uint16_t, 4> kPorts{80, 443, 53, 40000};
  return kPorts[i & 3];
}

using Key = std::tuple<IpAddr, uint16_t, IpAddr, uint16_t>;  // client, its port, dst, port
struct KeyLess {
  bool operator()(const Key& a, const Key& b) const {
    return std::tuple(std::get<0>(a).bytes16(), std::get<0>(a).family(), std::get<1>(a),
                      std::get<2>(a).bytes16(), std::get<3>(a)) <
           std::tuple(std::get<0>(b).bytes16(), std::get<0>(b).family(), std::get<1>(b),
                      std::get<2>(b).bytes16(), std::get<3>(b));
  }
};

StackConfig config_from(uint8_t b) {
  StackConfig c;
  c.address = kOwn4;
  c.address6 = kOwn6;
  c.secret = {2, 7, 1, 8, 2, 8, 1, 8, 2, 8, 4, 5, 9, 0, 4, 5};
  c.forward = {kNet4, kNet6};
  c.forward_udp = true;
  c.forward_echo = b & 1;
  c.udp_endpoint_independent = b & 2;
  c.max_pending_requests = (b & 4) ? 2 : 64;
  c.max_udp_flows = (b & 8) ? 2 : 64;
  c.buffer_memory_limit = (b & 16) ? 16384 : size_t{1} << 24;
  c.tcp.send_buffer = 8192;
  c.tcp.recv_buffer = 8192;
  return c;
}

class Harness {
 public:
  explicit Harness(uint8_t config_byte) : stack_(caps(), config_from(config_byte)) {}

  void run(Input& in) {
    for (int ops = 0; !in.empty() && ops < 4096; ++ops) {
      const uint8_t op = in.u8();
      switch (op % 11) {
        case 0:
          raw(in);
          break;
        case 1:
          syn(in);
          break;
        case 2:
          segment(in);
          break;
        case 3:
          datagram(in);
          break;
        case 4:
          icmp_error(in);
          break;
        case 5:
          echo(in);
          break;
        case 6:
          decide(in);
          break;
        case 7:
          flow_call(in);
          break;
        case 8:
          connection_call(in);
          break;
        case 9:
          advance(Duration(int64_t{in.u16()} * 1000));
          break;
        default:
          advance(Duration(int64_t{in.u8()} * 10));
          break;
      }
      drain();
    }
    finish();
  }

 private:
  static dev::DeviceCapabilities caps() {
    dev::DeviceCapabilities c;
    c.mtu = kMtu;
    return c;
  }

  Key pick_key(Input& in) {
    const uint8_t b = in.u8();
    const bool v6 = b & 1;
    return Key{client(v6, b >> 1), static_cast<uint16_t>(50000 + (b >> 2 & 1)),
               destination(v6, b >> 3), port(b >> 5)};
  }

  void input(std::span<const uint8_t> packet) {
    stack_.input(packet, now_);
    drain();
  }

  // An IP packet of `proto` carrying `payload` from src to dst.
  std::vector<uint8_t> ip_packet(const IpAddr& src, const IpAddr& dst, uint8_t proto,
                                 std::span<const uint8_t> payload) {
    const size_t hlen = src.is_v6() ? wire::kIpv6HeaderLen : wire::kIpv4HeaderMin;
    std::vector<uint8_t> p(hlen + payload.size());
    if (src.is_v6()) {
      wire::Ipv6Repr r{.src = src.v6(), .dst = dst.v6(), .next_header = proto};
      r.payload_len = static_cast<uint16_t>(payload.size());
      check(r.emit(p) == hlen);
    } else {
      wire::Ipv4Repr r{.src = src.v4(), .dst = dst.v4(), .protocol = proto};
      r.df = false;
      r.payload_len = static_cast<uint16_t>(payload.size());
      check(r.emit(p) == hlen);
    }
    std::copy(payload.begin(), payload.end(), p.begin() + static_cast<ptrdiff_t>(hlen));
    return p;
  }

  void send_tcp(const Key& k, const wire::TcpRepr& r) {
    const auto& [c, cport, d, dport] = k;
    if (c.family() != d.family()) return;
    std::vector<uint8_t> seg(r.total_len());
    check(r.emit(seg, c, d) == seg.size());
    input(ip_packet(c, d, wire::ip_proto::kTcp, seg));
  }

  void raw(Input& in) {
    const auto bytes = in.bytes(in.u8() * 4u);
    input(bytes);
  }

  void syn(Input& in) {
    const Key k = pick_key(in);
    wire::TcpRepr r;
    r.src_port = std::get<1>(k);
    r.dst_port = std::get<3>(k);
    r.seq = wire::SeqNum(in.u32());
    r.flags = flag::kSyn | ((in.u8() & 7) == 0 ? flag::kAck : 0);
    r.window = in.u16();
    const uint8_t o = in.u8();
    if (o & 1) r.options.mss = in.u16();
    if (o & 2) r.options.window_scale = in.u8();
    r.options.sack_permitted = o & 4;
    if (o & 8) r.options.timestamps = wire::TcpTimestamps{in.u32(), 0};
    const auto data = in.bytes((o & 16) ? in.u8() : 0);
    r.payload = data;
    client_seq_[k] = r.seq.raw() + 1;
    send_tcp(k, r);
  }

  void segment(Input& in) {
    const Key k = pick_key(in);
    wire::TcpRepr r;
    r.src_port = std::get<1>(k);
    r.dst_port = std::get<3>(k);
    const auto cs = client_seq_.find(k);
    const auto ss = stack_next_.find(k);
    r.seq = wire::SeqNum((cs != client_seq_.end() ? cs->second : in.u32()) +
                         static_cast<int8_t>(in.u8()));
    r.ack = wire::SeqNum((ss != stack_next_.end() ? ss->second : in.u32()) +
                         static_cast<int8_t>(in.u8()));
    r.flags = in.u8() & (flag::kAck | flag::kRst | flag::kFin | flag::kPsh | flag::kSyn);
    r.window = in.u16();
    const auto data = in.bytes(in.u8() * 8u);
    r.payload = data;
    if (cs != client_seq_.end() && r.seq.raw() == cs->second) cs->second += r.seq_len();
    send_tcp(k, r);
  }

  void datagram(Input& in) {
    const Key k = pick_key(in);
    const auto& [c, cport, d, dport] = k;
    const uint8_t how = in.u8();
    const auto data = in.bytes(how & 0x80 ? in.u16() % 3000 : in.u8());
    wire::UdpRepr u{
        .src_port = static_cast<uint16_t>(how & 1 ? 0 : cport), .dst_port = dport, .payload = data};
    std::vector<uint8_t> seg(u.total_len());
    check(u.emit(seg, c, d, !(how & 2)) == seg.size());
    if (how & 4) seg[6] ^= 0x5a;  // a wrong checksum
    if (how & 8) seg[4] ^= 0x01;  // a wrong length
    auto p = ip_packet(c, d, wire::ip_proto::kUdp, seg);
    if (p.size() <= kMtu) input(p);
  }

  // An error quoting one of the packets the stack sent, sent to that packet's source (a
  // forwarded address or the stack's own) by its destination's host -- or bent.
  void icmp_error(Input& in) {
    if (sent_.empty()) return;
    const std::vector<uint8_t>& quoted_full = sent_[in.u8() % sent_.size()];
    const uint8_t how = in.u8();
    const size_t quote_len = std::min<size_t>(quoted_full.size(), 28 + (how >> 4) * 8);
    const std::span<const uint8_t> quoted(quoted_full.data(), quote_len);
    IpAddr from, to;
    if (!addresses_of(quoted_full, from, to)) return;
    IpAddr src = to, dst = from;  // the error goes back to where the packet came from
    if (how & 1) dst = destination(dst.is_v6(), in.u8());  // bent: to another address
    const uint8_t code = in.u8();
    const uint16_t mtu = in.u16();
    std::vector<uint8_t> msg;
    if (src.is_v6()) {
      const uint8_t type = static_cast<uint8_t>(1 + (how >> 1 & 3));  // 1..4
      wire::Icmpv6Repr r = type == wire::icmpv6_type::kPacketTooBig
                               ? wire::Icmpv6Repr::packet_too_big(mtu, quoted)
                               : wire::Icmpv6Repr::dest_unreachable(code % 8, quoted);
      if (type == wire::icmpv6_type::kTimeExceeded) {
        r = wire::Icmpv6Repr::time_exceeded(code & 1, quoted);
      }
      msg.resize(r.total_len());
      check(r.emit(msg, src.v6(), dst.v6()) > 0);
      input(ip_packet(src, dst, wire::ipv6_next::kIcmpv6, msg));
    } else {
      const wire::IcmpRepr r = (how & 2) ? wire::IcmpRepr::time_exceeded(code & 1, quoted)
                                         : wire::IcmpRepr::dest_unreachable(code % 16, mtu, quoted);
      msg.resize(r.total_len());
      check(r.emit(msg) > 0);
      input(ip_packet(src, dst, wire::ip_proto::kIcmp, msg));
    }
  }

  void echo(Input& in) {
    const Key k = pick_key(in);
    const auto& [c, cport, d, dport] = k;
    const auto data = in.bytes(in.u8());
    std::vector<uint8_t> msg;
    if (c.is_v6()) {
      const auto r = wire::Icmpv6Repr::echo_request(cport, dport, data);
      msg.resize(r.total_len());
      check(r.emit(msg, c.v6(), d.v6()) > 0);
      input(ip_packet(c, d, wire::ipv6_next::kIcmpv6, msg));
    } else {
      const auto r = wire::IcmpRepr::echo_request(cport, dport, data);
      msg.resize(r.total_len());
      check(r.emit(msg) > 0);
      input(ip_packet(c, d, wire::ip_proto::kIcmp, msg));
    }
  }

  void decide(Input& in) {
    while (auto r = stack_.next_request()) {
      check(kNet4.contains(r->local.addr) || kNet6.contains(r->local.addr));
      requests_.push_back(r->id);
    }
    const uint8_t b = in.u8();
    // An id that was never handed out, or one already decided: refused, nothing else.
    const RequestId id =
        requests_.empty() || (b & 0x80) ? RequestId{in.u32()} : requests_[b % requests_.size()];
    std::error_code ec;
    switch (b >> 4 & 3) {
      case 0: {
        const SocketId s = stack_.accept_request(id, ec);
        check((s == kNoSocket) == bool(ec));
        if (s != kNoSocket) connections_.push_back(s);
        break;
      }
      case 1:
        stack_.reset_request(id, ec);
        break;
      case 2:
        stack_.reject_request(id, static_cast<RejectReason>(b % 3), ec);
        break;
      default:
        break;  // left to the timeout
    }
  }

  void flow_call(Input& in) {
    while (auto f = stack_.next_udp_flow()) {
      check(kNet4.contains(f->local.addr) || kNet6.contains(f->local.addr));
      flows_.push_back(f->socket);
    }
    if (flows_.empty()) return;
    const uint8_t b = in.u8();
    const size_t i = b % flows_.size();
    const SocketId s = flows_[i];
    std::error_code ec;
    uint8_t buf[2048];
    switch (b >> 4 & 3) {
      case 0: {
        DatagramInfo info;
        const size_t n = stack_.recv_from(s, buf, ec, nullptr, &info);
        check(n <= sizeof(buf));
        if (!ec) check(kNet4.contains(info.dst.addr) || kNet6.contains(info.dst.addr));
        break;
      }
      case 1: {
        const auto data = in.bytes(in.u8() * 8u);
        stack_.send_to(s, data, nullptr, ec);
        break;
      }
      case 2: {
        const uint8_t d = in.u8();
        const Endpoint from{destination(d & 1, d >> 1), port(d >> 3)};
        const auto data = in.bytes(in.u8() * 8u);
        const size_t n = stack_.send_from(s, data, from, ec);
        check(n == 0 || n == data.size());
        break;
      }
      default:
        stack_.close(s);
        flows_.erase(flows_.begin() + static_cast<ptrdiff_t>(i));
        break;
    }
  }

  void connection_call(Input& in) {
    if (connections_.empty()) return;
    const uint8_t b = in.u8();
    const size_t i = b % connections_.size();
    const SocketId s = connections_[i];
    std::error_code ec;
    uint8_t buf[4096];
    switch (b >> 4 & 7) {
      case 0:
      case 1: {
        const auto data = in.bytes(in.u8() * 8u);
        stack_.send(s, data, ec);
        break;
      }
      case 2:
      case 3:
        stack_.recv(s, buf, ec);
        break;
      case 4:
        stack_.shutdown_write(s, ec);
        break;
      case 5:
        stack_.abort(s);
        connections_.erase(connections_.begin() + static_cast<ptrdiff_t>(i));
        break;
      default:
        stack_.close(s);
        connections_.erase(connections_.begin() + static_cast<ptrdiff_t>(i));
        break;
    }
  }

  void advance(Duration d) {
    now_ += d;
    stack_.process(now_);
    drain();
  }

  static bool addresses_of(std::span<const uint8_t> p, IpAddr& src, IpAddr& dst) {
    if (p.empty()) return false;
    if (p[0] >> 4 == 6) {
      auto ip = wire::Ipv6Packet::parse(p);
      if (!ip) return false;
      src = IpAddr(ip->src());
      dst = IpAddr(ip->dst());
      return true;
    }
    auto ip = wire::Ipv4Packet::parse(p);
    if (!ip) return false;
    src = IpAddr(ip->src());
    dst = IpAddr(ip->dst());
    return true;
  }

  // Everything the stack sends: well-formed, from its own or a forwarded address; TCP
  // segments teach the harness where the stack's sequence space is.
  void drain() {
    std::vector<uint8_t>& buf = tx_;
    for (int guard = 0; guard < 100000; ++guard) {
      const size_t n = stack_.poll_transmit(buf);
      if (n == 0) return;
      check(n <= kMtu);
      const std::span<const uint8_t> p(buf.data(), n);
      IpAddr src, dst;
      check(addresses_of(p, src, dst));
      check(src == IpAddr(kOwn4) || src == IpAddr(kOwn6) || kNet4.contains(src) ||
            kNet6.contains(src));
      learn(p, src, dst);
      sent_.emplace_back(p.begin(), p.end());
      if (sent_.size() > 8) sent_.pop_front();
    }
    check(false);  // the stack never stops sending
  }

  void learn(std::span<const uint8_t> p, const IpAddr& src, const IpAddr& dst) {
    std::span<const uint8_t> payload;
    if (src.is_v6()) {
      auto ip = wire::Ipv6Packet::parse(p);
      if (!ip || ip->next_header() != wire::ip_proto::kTcp) return;
      payload = ip->payload();
    } else {
      auto ip = wire::Ipv4Packet::parse(p);
      if (!ip || ip->protocol() != wire::ip_proto::kTcp || ip->is_fragment()) return;
      payload = ip->payload();
    }
    auto tcp = wire::TcpPacket::parse(payload, src, dst, true);
    check(tcp.ok());  // the stack's own segments always parse, checksum included
    const wire::TcpRepr r = tcp->repr();
    stack_next_[Key{dst, r.dst_port, src, r.src_port}] = r.seq.raw() + r.seq_len();
  }

  // Every socket closed, the clock run past every timeout (requests, flows, orphans,
  // TIME-WAIT): nothing may be left.
  void finish() {
    if (std::getenv("UTCP_FUZZ_VERBOSE")) {
      for (auto [name, value] : stack_.counters()) {
        if (value)
          std::fprintf(stderr, "%.*s %llu\n", int(name.size()), name.data(),
                       static_cast<unsigned long long>(value));
      }
    }
    for (SocketId s : flows_) stack_.close(s);
    for (SocketId s : connections_) stack_.close(s);
    for (int i = 0; i < 40; ++i) advance(Duration(30'000'000));
    check(stack_.pending_requests() == 0);
    check(stack_.connection_count() == 0);
    check(!stack_.next_udp_flow().has_value());
  }

  Stack stack_;
  Instant now_{};
  std::vector<RequestId> requests_;
  std::vector<SocketId> flows_;
  std::vector<SocketId> connections_;
  std::map<Key, uint32_t, KeyLess> client_seq_;
  std::map<Key, uint32_t, KeyLess> stack_next_;
  std::deque<std::vector<uint8_t>> sent_;
  std::vector<uint8_t> tx_ = std::vector<uint8_t>(65536);
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Input in(std::span<const uint8_t>(data + 1, size - 1));
  Harness h(data[0]);
  h.run(in);
  return 0;
}
