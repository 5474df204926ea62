// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Big-endian (network order) loads and stores at any alignment. memcpy plus a swap
// compiles to a single load/store + bswap, and never reinterprets packed structs.
#include <bit>
#include <cstdint>
#include <cstring>

namespace utcp::wire {

constexpr uint16_t byteswap16(uint16_t v) {
  return static_cast<uint16_t>((v >> 8) | (v << 8));
}
constexpr uint32_t byteswap32(uint32_t v) {
  return (v >> 24) | ((v >> 8) & 0x0000ff00u) | ((v << 8) & 0x00ff0000u) | (v << 24);
}

inline uint16_t load_be16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = byteswap16(v);
  return v;
}

inline uint32_t load_be32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = byteswap32(v);
  return v;
}

inline void store_be16(uint8_t* p, uint16_t v) {
  if constexpr (std::endian::native == std::endian::little) v = byteswap16(v);
  std::memcpy(p, &v, sizeof v);
}

inline void store_be32(uint8_t* p, uint32_t v) {
  if constexpr (std::endian::native == std::endian::little) v = byteswap32(v);
  std::memcpy(p, &v, sizeof v);
}

}  // namespace utcp::wire
