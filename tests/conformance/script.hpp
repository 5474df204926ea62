// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A parsed packetdrill script: option lines and timed events (packets and socket calls).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace utcp::drill {

struct TimeSpec {
  enum class Kind : uint8_t { kAbsolute, kRelative, kAny };
  Kind kind = Kind::kAbsolute;
  int64_t start_usecs = 0;
  // `a~b`: the event may happen anywhere in [a, b]; the end is relative if written `+b`.
  std::optional<int64_t> range_end_usecs;
  bool range_end_relative = false;
  // `a...b`: a blocking call that starts at a and returns at b (b counts from the same base).
  std::optional<int64_t> blocking_end_usecs;
};

struct TcpOptionSpec {
  enum class Kind : uint8_t { kMss, kNop, kEol, kWscale, kSackOk, kSack, kTimestamp };
  Kind kind = Kind::kNop;
  uint32_t a = 0;  // mss, wscale, TS val
  uint32_t b = 0;  // TS ecr
  std::vector<std::pair<uint32_t, uint32_t>> sacks;
};

struct PacketSpec {
  char direction = '<';  // '<' injected, '>' expected
  bool icmp = false;
  // TCP
  uint8_t flags = 0;
  uint32_t seq = 0;
  uint32_t end_seq = 0;
  uint32_t len = 0;
  std::optional<uint32_t> ack;
  std::optional<uint32_t> win;
  std::optional<uint32_t> urg;
  bool any_options = false;  // `<...>`
  std::vector<TcpOptionSpec> options;
  // ICMP: type/code and the quoted TCP segment's seq:end(len) (relative to our ISN). A line
  // names an ICMP message (RFC 792) or an ICMPv6 one (RFC 4443), in packetdrill's words for
  // either; where the other family has the same message, both forms are kept, and the run's
  // IP version picks one.
  bool icmp4 = false;
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;
  bool icmp6 = false;
  uint8_t icmp6_type = 0;
  uint8_t icmp6_code = 0;
  std::optional<uint32_t> icmp_mtu;
};

struct Expr {
  enum class Kind : uint8_t { kInt, kEllipsis, kName, kString, kList, kStruct, kOr };
  Kind kind = Kind::kInt;
  int64_t value = 0;
  std::string text;                // name, string, or field name inside a struct
  std::vector<Expr> items;         // list / struct fields / or-terms
  std::vector<std::string> names;  // struct field names ("" for positional)
};

struct SyscallSpec {
  std::string name;
  std::vector<Expr> args;
  Expr ret;                // kInt or kEllipsis
  std::string errno_name;  // "" when no errno is expected
};

struct Event {
  int line = 0;
  std::string text;  // the script line, for messages
  TimeSpec time;
  bool is_packet = false;
  PacketSpec packet;
  SyscallSpec call;
};

struct Script {
  std::string path;
  std::vector<std::pair<std::string, std::string>> options;  // --name=value lines
  std::vector<Event> events;
  std::string unsupported;  // non-empty: shell/python content, the script is skipped
};

}  // namespace utcp::drill
