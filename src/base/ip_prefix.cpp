// SPDX-License-Identifier: BSD-2-Clause
// The text form of an address prefix: an address, '/', and a decimal length.
#include "utcp/address.hpp"

namespace utcp {

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
  const size_t slash = text.rfind('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto addr = IpAddr::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  const std::string_view digits = text.substr(slash + 1);
  if (digits.empty() || digits.size() > 3) return std::nullopt;
  unsigned length = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    length = length * 10 + static_cast<unsigned>(c - '0');
  }
  if (length > (addr->is_v4() ? 32u : 128u)) return std::nullopt;
  return IpPrefix{*addr, static_cast<uint8_t>(length)};
}

}  // namespace utcp
