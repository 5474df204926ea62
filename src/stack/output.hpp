// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The Stack's output: IPv4 and IPv6 output (the header in front of a transport payload) and
// the transmit batch, a set of packet buffers filled in place (the engine writes each segment
// straight into the next one, after header_len(family) bytes) and handed to the device in one
// call per batch. Owns the tx buffers and the IPv4 identification counter; nothing here
// decides what to send.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "ip/flow_label.hpp"
#include "ip/ipv4_output.hpp"
#include "ip/ipv6_output.hpp"
#include "stack/counters.hpp"
#include "utcp/address.hpp"
#include "utcp/device.hpp"
#include "wire/ipv6.hpp"
#include "wire/packet_format.hpp"
#include "wire/tcp.hpp"

namespace utcp::stack {

class Output {
 public:
  static constexpr size_t kBatch = 64;  // packets per device call
  // The largest IP packet: an IPv6 header and a full 65,535-byte payload (RFC 8200 §3, the
  // Payload Length field), so a 65,527-byte UDP datagram fits; IPv4's stops at 65,535 in all.
  static constexpr size_t kMaxPacket = 65535 + 40;

  // `secret` keys the IPv6 fragment identifications (RFC 7739).
  Output(dev::Device& device, Counters& counters, wire::Ipv4Addr address, uint8_t ttl,
         const wire::Ipv6Addr& address6 = {}, uint8_t hop_limit = 64,
         const std::array<uint8_t, 16>& secret = {});

  // Where a transport payload starts in slot(): after the IPv4 (20) or IPv6 (40) header.
  static constexpr size_t header_len(IpAddr::Family f) {
    return f == IpAddr::Family::kV6 ? wire::kIpv6HeaderLen : wire::kIpv4HeaderMin;
  }

  ip::Ipv4Output& ip() { return ip_out_; }
  const ip::Ipv6Output& ip6() const { return ip6_out_; }

  // The buffer the next packet is written into (valid until it is queued or flushed).
  std::span<uint8_t> slot() {
    return std::span<uint8_t>(storage_.get() + count_ * kMaxPacket, kMaxPacket);
  }

  // Prepends the IP header of dst's family to a transport payload already written at
  // buf[header_len(family)..] of slot(); `tos` is the whole TOS byte or traffic class
  // (Diffserv field and ECN codepoint, RFC 8200 §7), `flow_label` the IPv6 flow label
  // (RFC 6437; ignored over IPv4).
  void queue_ip(std::span<uint8_t> buf, size_t payload_len, uint8_t protocol,
                const wire::IpAddr& dst, uint8_t tos = 0, uint32_t flow_label = 0) {
    queue_ip_from(buf, payload_len, protocol, dst.is_v6() ? wire::IpAddr(address6_) : address_, dst,
                  tos, flow_label);
  }
  // The same from `src` (of dst's family): the stack's own address, or for a forwarded
  // connection (issue 13) the original destination it answers for.
  void queue_ip_from(std::span<uint8_t> buf, size_t payload_len, uint8_t protocol,
                     const wire::IpAddr& src, const wire::IpAddr& dst, uint8_t tos = 0,
                     uint32_t flow_label = 0) {
    if (dst.is_v6()) {
      queue_ipv6(buf, payload_len, protocol, src.v6(), dst.v6(), tos, flow_label);
      return;
    }
    const size_t total = ip_out_.write_header(buf, payload_len, src.v4(), dst.v4(), protocol, tos);
    if (total == 0) return;
    queue_packet(buf.first(total));
  }

  // Queues a whole IPv4 packet that already sits in slot(); a full batch goes out at once.
  void queue_packet(std::span<const uint8_t> packet) {
    // A TSO segment whose checksum the device finishes is not checked in the trace.
    if (trace_) trace_('>', wire::format_ip_packet(packet, packet.size() <= device_sums_above_));
    packets_[count_++] = packet;
    if (count_ == kBatch) flush(now_);
  }

  // Queues a whole IPv4 packet that sits in slot(); one larger than `mtu` is split into
  // fragments (RFC 791 §3.2), or dropped and counted when DF forbids it.
  void queue_packet_within(std::span<const uint8_t> packet, size_t mtu);
  // The same for a whole IPv6 packet: one larger than `mtu` is split with a Fragment header
  // (RFC 8200 §4.5; only the source fragments), IDs per RFC 7739.
  void queue_packet6_within(std::span<const uint8_t> packet, size_t mtu);

  // A segment built outside any connection (a RST for a stray segment, a cookie SYN-ACK);
  // `tos` as for queue_ip().
  void send_tcp(const wire::TcpRepr& seg, const wire::IpAddr& src, const wire::IpAddr& dst,
                uint8_t tos = 0, uint32_t flow_label = 0);

  // Hands the batch to the device; what it refuses is counted as dropped.
  void flush(Instant now);
  // Whether a packet was queued since the last release_pages(), and when the last was sent.
  bool used() const { return used_; }
  Instant last_use() const { return last_use_; }
  // Returns the batch storage's pages to the system (nothing is queued between flushes).
  void release_pages();
  void set_now(Instant now) { now_ = now; }
  // Packets above this size leave their TCP checksum to the device (TSO checksum offload).
  void set_device_sums_above(size_t bytes) { device_sums_above_ = bytes ? bytes : SIZE_MAX; }

  // Called with every packet queued (the tools' -v trace).
  void set_trace(std::function<void(char, std::string_view)> trace) { trace_ = std::move(trace); }

 private:
  void queue_ipv6(std::span<uint8_t> buf, size_t payload_len, uint8_t next_header,
                  const wire::Ipv6Addr& src, const wire::Ipv6Addr& dst, uint8_t traffic_class,
                  uint32_t flow_label);

  dev::Device& device_;
  Counters& counters_;
  wire::Ipv4Addr address_;
  wire::Ipv6Addr address6_;
  ip::Ipv4Output ip_out_;
  ip::Ipv6Output ip6_out_;
  ip::Ipv6FragmentIds fragment_ids_;
  // kBatch slots of kMaxPacket, uninitialised: a page is resident only once a packet reached
  // it (a 1500-byte link touches 1 page of each 64 KiB slot, not the 4 MiB a zeroed vector would).
  std::unique_ptr<uint8_t[]> storage_;
  std::vector<uint8_t> unfragmented_;  // a datagram being split (its slot is reused)
  std::array<std::span<const uint8_t>, kBatch> packets_;
  size_t count_ = 0;
  bool used_ = false;
  Instant last_use_{};
  size_t device_sums_above_ = SIZE_MAX;
  Instant now_{};
  std::function<void(char, std::string_view)> trace_;
};

}  // namespace utcp::stack
