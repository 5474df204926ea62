// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// TCP segments (RFC 9293 §3.1): a checked zero-copy view (`TcpPacket`) and a plain
// struct (`TcpRepr`) that is what the engine consumes and what gets emitted.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "utcp/address.hpp"
#include "wire/parse_error.hpp"
#include "wire/seq_num.hpp"

namespace utcp::wire {

namespace tcp_flag {
inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kPsh = 0x08;
inline constexpr uint8_t kAck = 0x10;
inline constexpr uint8_t kUrg = 0x20;
inline constexpr uint8_t kEce = 0x40;
inline constexpr uint8_t kCwr = 0x80;
}  // namespace tcp_flag

inline constexpr size_t kTcpHeaderMin = 20;
inline constexpr size_t kTcpHeaderMax = 60;
inline constexpr size_t kTcpMaxSackBlocks = 4;

struct SackBlock {
  SeqNum left;   // first sequence number of the block
  SeqNum right;  // one past the last
  friend constexpr bool operator==(SackBlock, SackBlock) = default;
};

struct TcpTimestamps {
  uint32_t tsval = 0;
  uint32_t tsecr = 0;
  friend constexpr bool operator==(TcpTimestamps, TcpTimestamps) = default;
};

// The options TCP understands (RFC 9293 §3.2, RFC 7323, RFC 2018). Unknown options are
// skipped when parsing and never emitted.
struct TcpOptions {
  std::optional<uint16_t> mss;
  // Shift count as received (clamping to 14 is the engine's job).
  std::optional<uint8_t> window_scale;
  bool sack_permitted = false;
  std::optional<TcpTimestamps> timestamps;
  uint8_t sack_count = 0;  // valid entries in sack_blocks
  std::array<SackBlock, kTcpMaxSackBlocks> sack_blocks{};

  std::span<const SackBlock> sacks() const { return {sack_blocks.data(), sack_count}; }
  // Bytes these options take when emitted, padded to a multiple of 4.
  size_t encoded_len() const;
  // SACK blocks that emit() writes: all of sack_count, or as many as fit in 40 bytes.
  size_t emitted_sack_count() const;
  // Writes the options in Linux's order and alignment into area (at least encoded_len()
  // bytes). Returns encoded_len().
  size_t emit(std::span<uint8_t> area) const;
  friend bool operator==(const TcpOptions&, const TcpOptions&) = default;
};

// Everything in a TCP header plus the payload (a view into the caller's buffer).
struct TcpRepr {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  SeqNum seq;
  SeqNum ack;
  uint8_t flags = 0;    // tcp_flag bits
  uint16_t window = 0;  // as on the wire, unscaled
  uint16_t urgent = 0;
  TcpOptions options;
  std::span<const uint8_t> payload;

  bool has(uint8_t flag) const { return (flags & flag) != 0; }
  // Sequence space the segment occupies: payload plus one for each of SYN and FIN.
  uint32_t seq_len() const {
    return static_cast<uint32_t>(payload.size()) + has(tcp_flag::kSyn) + has(tcp_flag::kFin);
  }
  size_t header_len() const { return kTcpHeaderMin + options.encoded_len(); }
  size_t total_len() const { return header_len() + payload.size(); }

  // Writes header, options (padded) and payload into buf (at least total_len() bytes) and
  // fills in the checksum over the IPv4 pseudo-header. Returns bytes written.
  // checksum false: the field is left zero for a device that computes it (TSO offload).
  size_t emit(std::span<uint8_t> buf, Ipv4Addr src, Ipv4Addr dst, bool checksum = true) const;
  // Same, but writes only header and options and leaves the payload to the caller, whose
  // bytes must already sit right after the header (zero-copy send path). Checksum covers both.
  size_t emit_header(std::span<uint8_t> buf, Ipv4Addr src, Ipv4Addr dst,
                     bool checksum = true) const;
  // The same with the pseudo-header of the addresses' family (RFC 8200 §8.1 for IPv6).
  size_t emit(std::span<uint8_t> buf, const IpAddr& src, const IpAddr& dst,
              bool checksum = true) const;
  size_t emit_header(std::span<uint8_t> buf, const IpAddr& src, const IpAddr& dst,
                     bool checksum = true) const;

 private:
  // Header and options with a zero checksum field; header_len(), or 0 if buf is short.
  size_t write_header(std::span<uint8_t> buf) const;
  size_t copy_payload(std::span<uint8_t> buf) const;  // total_len(), or 0 if it does not fit
};

// A checked view over a TCP segment. parse() validates the data offset, the options and
// (unless disabled, e.g. for checksum-offloaded input) the checksum.
class TcpPacket {
 public:
  static Parsed<TcpPacket> parse(std::span<const uint8_t> segment, Ipv4Addr src, Ipv4Addr dst,
                                 bool verify_checksum = true);
  // The same over either family: the checksum uses the addresses' pseudo-header.
  static Parsed<TcpPacket> parse(std::span<const uint8_t> segment, const IpAddr& src,
                                 const IpAddr& dst, bool verify_checksum = true);
  TcpPacket() = default;

  uint16_t src_port() const;
  uint16_t dst_port() const;
  SeqNum seq() const;
  SeqNum ack() const;
  uint8_t data_offset() const;  // in 32-bit words
  size_t header_len() const { return size_t{data_offset()} * 4; }
  uint8_t flags() const;
  bool fin() const { return flags() & tcp_flag::kFin; }
  bool syn() const { return flags() & tcp_flag::kSyn; }
  bool rst() const { return flags() & tcp_flag::kRst; }
  bool psh() const { return flags() & tcp_flag::kPsh; }
  bool ack_flag() const { return flags() & tcp_flag::kAck; }
  bool urg() const { return flags() & tcp_flag::kUrg; }
  bool ece() const { return flags() & tcp_flag::kEce; }
  bool cwr() const { return flags() & tcp_flag::kCwr; }
  uint16_t window() const;
  uint16_t checksum() const;
  uint16_t urgent_pointer() const;
  std::span<const uint8_t> options_bytes() const;
  const TcpOptions& options() const { return options_; }  // decoded by parse()
  std::span<const uint8_t> payload() const;
  std::span<const uint8_t> bytes() const { return bytes_; }

  TcpRepr repr() const;  // the plain struct; payload still points into the packet

  // True when the segment sums to 0xffff together with its IPv4 pseudo-header.
  static bool checksum_ok_tcp(std::span<const uint8_t> segment, Ipv4Addr src, Ipv4Addr dst);
  static bool checksum_ok_tcp(std::span<const uint8_t> segment, const IpAddr& src,
                              const IpAddr& dst);

 private:
  std::span<const uint8_t> bytes_;
  TcpOptions options_;
};

// Decodes an options area. Unknown kinds are skipped by length; a length of 0 or 1, an
// option running past the area, or a known option of the wrong size is kBadOptions.
Parsed<TcpOptions> parse_tcp_options(std::span<const uint8_t> area);

}  // namespace utcp::wire
