// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// IPv6 extension headers (RFC 8200 §4): a bounded walk from the fixed header to the
// upper-layer header, with the verdict RFC 8200 §4 asks for when a header cannot be
// processed (discard silently, or discard and answer ICMPv6 Parameter Problem).
//
// Walked: Hop-by-Hop Options (§4.3), Routing (§4.4), Fragment (§4.5), Destination Options
// (§4.6), No Next Header (§4.7). Anything else ends the walk as the upper-layer protocol; if
// the caller does not handle it, that is an unrecognized Next Header (§4, code 1).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "wire/ipv6.hpp"

namespace utcp::wire {

// ICMPv6 Parameter Problem codes (RFC 4443 §3.4).
namespace icmpv6_param {
inline constexpr uint8_t kErroneousHeaderField = 0;
inline constexpr uint8_t kUnrecognizedNextHeader = 1;
inline constexpr uint8_t kUnrecognizedOption = 2;
}  // namespace icmpv6_param

// Bound on extension headers walked: a legitimate packet has at most one of each (two
// Destination Options), RFC 8200 §4.1; more is an attack on the walk, discarded.
inline constexpr size_t kIpv6MaxExtHeaders = 8;

// The upper-layer protocols utcp's IP layer handles by default.
inline constexpr std::array<uint8_t, 3> kIpv6DefaultUpper = {6, 17, 58};  // TCP, UDP, ICMPv6

enum class Ipv6ExtVerdict : uint8_t {
  kAccept,            // the walk reached the upper layer (or a fragment to reassemble)
  kDiscard,           // drop silently (see drop)
  kParameterProblem,  // drop and answer ICMPv6 Parameter Problem with code and pointer
};

enum class Ipv6ExtDrop : uint8_t {
  kNone,
  kTruncated,       // a header or option runs past the packet
  kOptionDiscard,   // an unknown option whose type says "discard" (§4.2 action 01, or 11 to
                    // a multicast destination)
  kTooManyHeaders,  // more than kIpv6MaxExtHeaders
};
std::string_view to_string(Ipv6ExtDrop d);

// RFC 8200 §4.5: the fields of a Fragment header.
struct Ipv6FragmentHeader {
  uint8_t next_header = 0;
  uint16_t offset = 0;  // in bytes (the field counts 8-byte units)
  bool more = false;    // the M flag
  uint32_t identification = 0;
  size_t header_offset = 0;  // where the Fragment header starts in the packet

  bool is_atomic() const { return offset == 0 && !more; }  // RFC 6946
  // Writes the 8-byte header (reserved fields zero). Returns 8, or 0 if buf is shorter.
  size_t emit(std::span<uint8_t> buf) const;
};

struct Ipv6ExtWalk {
  Ipv6ExtVerdict verdict = Ipv6ExtVerdict::kAccept;
  Ipv6ExtDrop drop = Ipv6ExtDrop::kNone;
  // The Next Header value that ended the walk, the offset of what it names (from the start
  // of the IPv6 packet) and the offset of the Next Header field that holds it (6 when there
  // are no extension headers): the IP layer's pointer if it turns the protocol down.
  uint8_t upper_protocol = 0;
  size_t upper_offset = kIpv6HeaderLen;
  size_t next_header_offset = 6;
  size_t headers = 0;  // extension headers walked
  // Present when a Fragment header was met. A non-atomic fragment ends the walk: what
  // follows it is fragment data until reassembly, and upper_* then name the Fragment
  // header's Next Header and the fragment data.
  std::optional<Ipv6FragmentHeader> fragment;
  // For kParameterProblem (RFC 4443 §3.4): the code and the offset of the offending byte.
  uint8_t problem_code = 0;
  uint32_t problem_pointer = 0;

  bool accepted() const { return verdict == Ipv6ExtVerdict::kAccept; }
};

// Walks the extension headers of a parsed packet. An upper-layer protocol not in `upper`
// is answered as an unrecognized Next Header (code 1). Never reads past packet.bytes(), and
// stops after kIpv6MaxExtHeaders.
Ipv6ExtWalk walk_ipv6_ext(const Ipv6Packet& packet,
                          std::span<const uint8_t> upper = kIpv6DefaultUpper);

}  // namespace utcp::wire
