// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Addresses and endpoints as the public API names them.
//
// The API takes addresses through Endpoint and value types, never through raw integers or
// sockaddr. Ipv4Addr and Ipv6Addr are the two families; IpAddr holds either, and is the
// family-neutral type the Stack's signatures and Endpoint take (a dual-stack Stack: issue 12).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace utcp {

// An IPv4 address held in host byte order.
struct Ipv4Addr {
  uint32_t value = 0;  // host order: 10.77.0.2 is 0x0a4d0002

  constexpr Ipv4Addr() = default;
  constexpr explicit Ipv4Addr(uint32_t v) : value(v) {}
  constexpr Ipv4Addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
      : value(uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d) {}

  friend constexpr bool operator==(Ipv4Addr, Ipv4Addr) = default;
  friend constexpr auto operator<=>(Ipv4Addr, Ipv4Addr) = default;

  // Dotted quad; nullopt for anything else (no leading '+', no out-of-range octets).
  static std::optional<Ipv4Addr> parse(std::string_view text);
  std::string to_string() const;
};

// An IPv6 address (RFC 4291): 16 bytes in network order.
struct Ipv6Addr {
  std::array<uint8_t, 16> bytes{};

  constexpr Ipv6Addr() = default;
  constexpr explicit Ipv6Addr(const std::array<uint8_t, 16>& b) : bytes(b) {}
  // From the eight 16-bit groups of the text form: Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 2).
  constexpr Ipv6Addr(uint16_t g0, uint16_t g1, uint16_t g2, uint16_t g3, uint16_t g4, uint16_t g5,
                     uint16_t g6, uint16_t g7) {
    const uint16_t g[8] = {g0, g1, g2, g3, g4, g5, g6, g7};
    for (size_t i = 0; i < 8; ++i) {
      bytes[2 * i] = static_cast<uint8_t>(g[i] >> 8);
      bytes[2 * i + 1] = static_cast<uint8_t>(g[i]);
    }
  }
  // Reads 16 bytes in network order (e.g. from a packet).
  static Ipv6Addr from_bytes(const uint8_t* p) {
    Ipv6Addr a;
    std::memcpy(a.bytes.data(), p, 16);
    return a;
  }

  constexpr uint16_t group(size_t i) const {
    return static_cast<uint16_t>(bytes[2 * i] << 8 | bytes[2 * i + 1]);
  }
  constexpr bool is_unspecified() const { return *this == Ipv6Addr(); }                     // ::
  constexpr bool is_loopback() const { return *this == Ipv6Addr(0, 0, 0, 0, 0, 0, 0, 1); }  // ::1
  constexpr bool is_multicast() const { return bytes[0] == 0xff; }  // ff00::/8 (RFC 4291 §2.7)
  constexpr bool is_link_local() const {                            // fe80::/10
    return bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
  }
  // ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
  constexpr bool is_v4_mapped() const {
    for (size_t i = 0; i < 10; ++i) {
      if (bytes[i] != 0) return false;
    }
    return bytes[10] == 0xff && bytes[11] == 0xff;
  }
  static constexpr Ipv6Addr v4_mapped(Ipv4Addr v4) {
    return Ipv6Addr(0, 0, 0, 0, 0, 0xffff, static_cast<uint16_t>(v4.value >> 16),
                    static_cast<uint16_t>(v4.value));
  }
  // The IPv4 address inside an IPv4-mapped address; nullopt for any other address.
  constexpr std::optional<Ipv4Addr> to_v4_mapped() const {
    if (!is_v4_mapped()) return std::nullopt;
    return Ipv4Addr(bytes[12], bytes[13], bytes[14], bytes[15]);
  }

  friend constexpr bool operator==(const Ipv6Addr&, const Ipv6Addr&) = default;
  friend constexpr auto operator<=>(const Ipv6Addr&, const Ipv6Addr&) = default;

  // RFC 4291 §2.2 text forms (hex groups, one "::", a trailing dotted quad); nullopt for
  // anything else, including zone identifiers ("%eth0") and brackets.
  static std::optional<Ipv6Addr> parse(std::string_view text);
  // The RFC 5952 canonical form: lower case, no leading zeros, the longest run of two or more
  // zero groups (the first of equal runs) as "::", and IPv4-mapped as ::ffff:a.b.c.d (§5).
  std::string to_string() const;
};

// An address of either family. An IPv4 address and its IPv4-mapped IPv6 form are different
// IpAddr values (the family is part of the value); converting is explicit (to_v4_mapped()).
class IpAddr {
 public:
  enum class Family : uint8_t { kV4 = 4, kV6 = 6 };

  constexpr IpAddr() = default;  // 0.0.0.0
  constexpr IpAddr(Ipv4Addr v4)  // NOLINT(google-explicit-constructor): every v4 is an IpAddr
      : family_(Family::kV4), addr_(Ipv6Addr::v4_mapped(v4)) {}
  constexpr IpAddr(const Ipv6Addr& v6)  // NOLINT(google-explicit-constructor)
      : family_(Family::kV6), addr_(v6) {}

  constexpr Family family() const { return family_; }
  constexpr bool is_v4() const { return family_ == Family::kV4; }
  constexpr bool is_v6() const { return family_ == Family::kV6; }
  // The address of the family it holds; v4() of a v6 address is 0.0.0.0, v6() of a v4 one
  // its IPv4-mapped form.
  constexpr Ipv4Addr v4() const {
    return is_v4() ? Ipv4Addr(addr_.bytes[12], addr_.bytes[13], addr_.bytes[14], addr_.bytes[15])
                   : Ipv4Addr();
  }
  constexpr Ipv6Addr v6() const { return addr_; }
  // 16 bytes that identify the address within its family (v4: the IPv4-mapped form), for
  // hashing together with family().
  constexpr const std::array<uint8_t, 16>& bytes16() const { return addr_.bytes; }
  constexpr bool is_unspecified() const {
    return is_v4() ? v4().value == 0 : addr_.is_unspecified();
  }

  friend constexpr bool operator==(const IpAddr&, const IpAddr&) = default;
  // All IPv4 addresses order before all IPv6 addresses.
  friend constexpr auto operator<=>(const IpAddr&, const IpAddr&) = default;

  // A dotted quad or an IPv6 text form (no brackets, no zone).
  static std::optional<IpAddr> parse(std::string_view text);
  std::string to_string() const { return is_v4() ? v4().to_string() : addr_.to_string(); }

 private:
  Family family_ = Family::kV4;
  Ipv6Addr addr_ = Ipv6Addr::v4_mapped(Ipv4Addr());
};

// A transport endpoint: an address of either family and a port (host byte order). An
// Ipv4Addr converts implicitly, so Endpoint{Ipv4Addr(10, 77, 0, 1), 80} still reads as before.
struct Endpoint {
  IpAddr addr;
  uint16_t port = 0;

  friend constexpr bool operator==(const Endpoint&, const Endpoint&) = default;
};

// An address prefix (CIDR, RFC 4632 §3.1; RFC 4291 §2.3): every address of addr's family whose
// first `length` bits equal addr's. 198.18.0.0/15 and 2001:db8::/32 are prefixes; a /0 holds
// every address of its family.
struct IpPrefix {
  IpAddr addr;
  uint8_t length = 0;  // bits; clamped to 32 (IPv4) or 128 (IPv6) when compared

  constexpr bool contains(const IpAddr& a) const {
    if (a.family() != addr.family()) return false;
    // An IPv4 address is the last 4 of its 16 bytes16() (the IPv4-mapped form).
    const size_t first = addr.is_v4() ? 12 : 0;
    const size_t bits = std::min<size_t>(length, addr.is_v4() ? 32 : 128);
    const auto& x = addr.bytes16();
    const auto& y = a.bytes16();
    for (size_t i = 0; i < bits / 8; ++i) {
      if (x[first + i] != y[first + i]) return false;
    }
    if (bits % 8 == 0) return true;
    const auto mask = static_cast<uint8_t>(0xff00u >> (bits % 8));
    return ((x[first + bits / 8] ^ y[first + bits / 8]) & mask) == 0;
  }

  friend constexpr bool operator==(const IpPrefix&, const IpPrefix&) = default;

  // "a.b.c.d/n" (n <= 32) or "ipv6/n" (n <= 128); nullopt for anything else. Bits of addr
  // past the length are kept as written and ignored by contains().
  static std::optional<IpPrefix> parse(std::string_view text);
  std::string to_string() const { return addr.to_string() + "/" + std::to_string(length); }
};

// The name the library's internal layers have always used.
namespace wire {
using utcp::IpAddr;
using utcp::Ipv4Addr;
using utcp::Ipv6Addr;
}  // namespace wire

}  // namespace utcp

// Hashing, so addresses can key unordered containers. Not keyed: tables exposed to peers
// hash with a secret (src/base/siphash.hpp) over bytes16() and the family.
template <>
struct std::hash<utcp::Ipv4Addr> {
  size_t operator()(utcp::Ipv4Addr a) const noexcept { return std::hash<uint32_t>()(a.value); }
};
template <>
struct std::hash<utcp::Ipv6Addr> {
  size_t operator()(const utcp::Ipv6Addr& a) const noexcept {
    uint64_t hi, lo;
    std::memcpy(&hi, a.bytes.data(), 8);
    std::memcpy(&lo, a.bytes.data() + 8, 8);
    // splitmix64 finalizer over the two halves.
    uint64_t x = hi ^ (lo + 0x9e3779b97f4a7c15ull + (hi << 6) + (hi >> 2));
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return static_cast<size_t>(x ^ (x >> 31));
  }
};
template <>
struct std::hash<utcp::IpAddr> {
  size_t operator()(const utcp::IpAddr& a) const noexcept {
    return std::hash<utcp::Ipv6Addr>()(a.v6()) ^ static_cast<size_t>(a.family());
  }
};
