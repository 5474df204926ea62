#pragma once
// Addresses and endpoints as the public API names them.
//
// Only IPv4 exists today. The API takes addresses through Endpoint and the Ipv4Addr value
// type, never through raw integers or sockaddr, so that a later family-neutral address type
// (one type holding an IPv4 or an IPv6 address) can take Ipv4Addr's place in Endpoint and the
// Stack's signatures, with Ipv4Addr kept as the IPv4 case of it.
#include <cstdint>
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

// A transport endpoint: an address and a port (host byte order).
struct Endpoint {
  Ipv4Addr addr;
  uint16_t port = 0;

  friend constexpr bool operator==(const Endpoint&, const Endpoint&) = default;
};

// The name the library's internal layers have always used.
namespace wire {
using utcp::Ipv4Addr;
}  // namespace wire

}  // namespace utcp
