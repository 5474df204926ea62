// SPDX-License-Identifier: BSD-2-Clause
// Big-endian loads and stores at unaligned addresses.
#include "wire/endian.hpp"

#include <gtest/gtest.h>

#include <array>

namespace utcp::wire {
namespace {

TEST(Endian, LoadsAreBigEndianAtAnyAlignment) {
  const std::array<uint8_t, 7> b{0xaa, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc};
  EXPECT_EQ(load_be16(b.data() + 1), 0x1234);
  EXPECT_EQ(load_be16(b.data() + 2), 0x3456);
  EXPECT_EQ(load_be32(b.data() + 1), 0x12345678u);
  EXPECT_EQ(load_be32(b.data() + 3), 0x56789abcu);
}

TEST(Endian, StoresAreBigEndianAndTouchOnlyTheirBytes) {
  std::array<uint8_t, 8> b{};
  store_be32(b.data() + 1, 0xdeadbeef);
  store_be16(b.data() + 5, 0xcafe);
  const std::array<uint8_t, 8> want{0, 0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe, 0};
  EXPECT_EQ(b, want);
}

TEST(Endian, ByteSwapsAreConstexpr) {
  static_assert(byteswap16(0x1234) == 0x3412);
  static_assert(byteswap32(0x11223344u) == 0x44332211u);
  EXPECT_EQ(load_be32(std::array<uint8_t, 4>{0xff, 0, 0, 1}.data()), 0xff000001u);
}

}  // namespace
}  // namespace utcp::wire
