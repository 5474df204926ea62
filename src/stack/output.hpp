// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The Stack's output: IPv4 output (the header in front of a transport payload) and the
// transmit batch, a set of packet buffers filled in place (the engine writes each segment
// straight into the next one) and handed to the device in one call per batch. Owns the tx
// buffers and the IP identification counter; nothing here decides what to send.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "ip/ipv4_output.hpp"
#include "stack/counters.hpp"
#include "utcp/address.hpp"
#include "utcp/device.hpp"
#include "wire/packet_format.hpp"
#include "wire/tcp.hpp"

namespace utcp::stack {

class Output {
 public:
  static constexpr size_t kBatch = 64;         // packets per device call
  static constexpr size_t kMaxPacket = 65535;  // the IPv4 total length field

  Output(dev::Device& device, Counters& counters, wire::Ipv4Addr address, uint8_t ttl);

  ip::Ipv4Output& ip() { return ip_out_; }

  // The buffer the next packet is written into (valid until it is queued or flushed).
  std::span<uint8_t> slot() {
    return std::span<uint8_t>(storage_.data() + count_ * kMaxPacket, kMaxPacket);
  }

  // Prepends the IPv4 header to a transport payload already written at buf[20..] of slot();
  // `tos` is the whole TOS byte (Diffserv field and ECN codepoint).
  void queue_ip(std::span<uint8_t> buf, size_t payload_len, uint8_t protocol, wire::Ipv4Addr dst,
                uint8_t tos = 0) {
    const size_t total = ip_out_.write_header(buf, payload_len, address_, dst, protocol, tos);
    if (total == 0) return;
    queue_packet(buf.first(total));
  }

  // Queues a whole IPv4 packet that already sits in slot(); a full batch goes out at once.
  void queue_packet(std::span<const uint8_t> packet) {
    // A TSO segment whose checksum the device finishes is not checked in the trace.
    if (trace_) trace_('>', wire::format_ipv4_packet(packet, packet.size() <= device_sums_above_));
    packets_[count_++] = packet;
    if (count_ == kBatch) flush(now_);
  }

  // Queues a whole IPv4 packet that sits in slot(); one larger than `mtu` is split into
  // fragments (RFC 791 §3.2), or dropped and counted when DF forbids it.
  void queue_packet_within(std::span<const uint8_t> packet, size_t mtu);

  // A segment built outside any connection (a RST for a stray segment, a cookie SYN-ACK);
  // `tos` as for queue_ip().
  void send_tcp(const wire::TcpRepr& seg, wire::Ipv4Addr src, wire::Ipv4Addr dst, uint8_t tos = 0);

  // Hands the batch to the device; what it refuses is counted as dropped.
  void flush(Instant now);
  void set_now(Instant now) { now_ = now; }
  // Packets above this size leave their TCP checksum to the device (TSO checksum offload).
  void set_device_sums_above(size_t bytes) { device_sums_above_ = bytes ? bytes : SIZE_MAX; }

  // Called with every packet queued (the tools' -v trace).
  void set_trace(std::function<void(char, std::string_view)> trace) { trace_ = std::move(trace); }

 private:
  dev::Device& device_;
  Counters& counters_;
  wire::Ipv4Addr address_;
  ip::Ipv4Output ip_out_;
  std::vector<uint8_t> storage_;
  std::vector<uint8_t> unfragmented_;  // a datagram being split (its slot is reused)
  std::array<std::span<const uint8_t>, kBatch> packets_;
  size_t count_ = 0;
  size_t device_sums_above_ = SIZE_MAX;
  Instant now_{};
  std::function<void(char, std::string_view)> trace_;
};

}  // namespace utcp::stack
