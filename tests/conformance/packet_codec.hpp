// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Turns script packets into wire bytes (inbound) and checks wire bytes against script packets
// (outbound), translating sequence numbers and timestamps between script and live values.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "script.hpp"
#include "utcp/address.hpp"
#include "wire/tcp.hpp"

namespace utcp::drill {

// The one connection a script talks about, as the runner has learnt it.
struct Flow {
  // The addresses on the wire (IPv4 or IPv6; IPv4 in ipv4-mapped-ipv6 mode).
  IpAddr local_ip;   // the stack under test
  IpAddr remote_ip;  // the script's side
  uint16_t local_port = 0;
  uint16_t remote_port = 0;
  bool known = false;                 // ports are set
  std::optional<uint32_t> local_isn;  // the stack's ISN, from its first SYN
  std::optional<int64_t> ts_offset;   // live TS val minus script TS val, from the first seen
};

// The IPv4 or IPv6 packet (the flow's family) for an injected line. Script sequence numbers
// of the remote side are used as they are; acknowledgment numbers and SACK blocks about our
// data add the stack's ISN. Empty with `error` for an ICMP line the family has no form of.
std::vector<uint8_t> build_inbound(const PacketSpec& p, const Flow& flow, std::string& error);

// The TCP segment inside an IPv4 or IPv6 packet (checksum verified), or nullopt.
std::optional<wire::TcpPacket> tcp_of(std::span<const uint8_t> bytes);
// One line describing a packet of either family, for traces.
std::string format_packet(std::span<const uint8_t> bytes);

// One outbound TCP segment in script terms.
struct Outbound {
  uint8_t flags = 0;
  uint32_t rel_seq = 0;  // minus the stack's ISN
  uint32_t len = 0;
  uint32_t ack = 0;
  uint16_t win = 0;
  uint16_t urg = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  IpAddr src;
  IpAddr dst;
  std::string text;  // packetdrill-style decode, in script terms
};

// Parses an outbound packet; nullopt with `error` for anything that is not a valid TCP
// segment over IPv4 or IPv6 (bad checksum included). Learns the flow's ISN and TS offset from what
// it sees.
std::optional<Outbound> decode_outbound(std::span<const uint8_t> bytes, Flow& flow,
                                        std::string& error);

// Compares one outbound segment with the script's expectation. `partial` accepts a segment
// that carries only the first part of the expected payload (merging is the caller's job).
// Returns "" on a match, else what differs.
std::string match_outbound(const PacketSpec& want, const Outbound& got,
                           std::span<const uint8_t> bytes, const Flow& flow, uint32_t want_seq,
                           uint32_t want_len, bool final_piece);

std::string describe_spec(const PacketSpec& p);

}  // namespace utcp::drill
