#pragma once
// An IPv4 address held in host byte order.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace utcp::wire {

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

}  // namespace utcp::wire
