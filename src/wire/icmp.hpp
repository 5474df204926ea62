// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// ICMPv4 messages (RFC 792): a checked zero-copy view (`IcmpPacket`) and a plain struct
// (`IcmpRepr`) for what utcp emits: echo, destination unreachable, time exceeded.
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/ipv4.hpp"
#include "wire/parse_error.hpp"
#include "wire/seq_num.hpp"

namespace utcp::wire {

namespace icmp_type {
inline constexpr uint8_t kEchoReply = 0;
inline constexpr uint8_t kDestUnreachable = 3;
inline constexpr uint8_t kSourceQuench = 4;
inline constexpr uint8_t kEchoRequest = 8;
inline constexpr uint8_t kTimeExceeded = 11;
inline constexpr uint8_t kParameterProblem = 12;
}  // namespace icmp_type

// Destination-unreachable codes (RFC 792, RFC 1191 for code 4).
namespace icmp_unreach {
inline constexpr uint8_t kNet = 0;
inline constexpr uint8_t kHost = 1;
inline constexpr uint8_t kProtocol = 2;
inline constexpr uint8_t kPort = 3;
inline constexpr uint8_t kFragmentationNeeded = 4;
inline constexpr uint8_t kSourceRouteFailed = 5;
}  // namespace icmp_unreach

inline constexpr size_t kIcmpHeaderLen = 8;

// What an ICMP error quotes: the original IP header and (at least) the first 8 bytes of
// its payload, which for TCP hold the ports and the sequence number (RFC 792).
struct IcmpQuote {
  Ipv4Packet ip;                       // lenient view: no checksum check
  std::span<const uint8_t> transport;  // the quoted bytes after the IP header

  bool has_ports() const { return transport.size() >= 4; }
  uint16_t src_port() const;  // requires has_ports()
  uint16_t dst_port() const;  // requires has_ports()
  bool has_tcp_seq() const { return transport.size() >= 8; }
  SeqNum tcp_seq() const;  // requires has_tcp_seq()
};

struct IcmpRepr;

class IcmpPacket {
 public:
  // Validates the length (8-byte header) and the checksum over the whole message.
  static Parsed<IcmpPacket> parse(std::span<const uint8_t> bytes);
  IcmpPacket() = default;

  uint8_t type() const { return bytes_[0]; }
  uint8_t code() const { return bytes_[1]; }
  uint16_t checksum() const;
  uint32_t rest_of_header() const;  // bytes 4..7
  uint16_t identifier() const;      // echo request/reply
  uint16_t sequence() const;        // echo request/reply
  // RFC 1191 §4: the next-hop MTU in the low 16 bits of a "fragmentation needed".
  uint16_t next_hop_mtu() const;
  std::span<const uint8_t> data() const { return bytes_.subspan(kIcmpHeaderLen); }
  std::span<const uint8_t> bytes() const { return bytes_; }

  // Error messages (dest unreachable, source quench, time exceeded, parameter problem).
  bool is_error() const;
  // The quoted datagram of an error; kUnsupported for other types, or the reason the
  // quoted header could not be read.
  Parsed<IcmpQuote> quote() const;

  IcmpRepr repr() const;

 private:
  std::span<const uint8_t> bytes_;
};

struct IcmpRepr {
  uint8_t type = icmp_type::kEchoRequest;
  uint8_t code = 0;
  uint16_t identifier = 0;    // echo
  uint16_t sequence = 0;      // echo
  uint16_t next_hop_mtu = 0;  // dest unreachable, code 4
  // Echo data, or for errors the quoted IP header + leading payload bytes.
  std::span<const uint8_t> data;

  static IcmpRepr echo_request(uint16_t id, uint16_t seq, std::span<const uint8_t> data);
  static IcmpRepr echo_reply(uint16_t id, uint16_t seq, std::span<const uint8_t> data);
  static IcmpRepr dest_unreachable(uint8_t code, uint16_t mtu, std::span<const uint8_t> quoted);
  static IcmpRepr time_exceeded(uint8_t code, std::span<const uint8_t> quoted);

  uint32_t rest_of_header() const;
  size_t total_len() const { return kIcmpHeaderLen + data.size(); }
  // Writes header, data and checksum into buf (at least total_len() bytes). Returns
  // bytes written, or 0 if buf is too short.
  size_t emit(std::span<uint8_t> buf) const;
};

}  // namespace utcp::wire
