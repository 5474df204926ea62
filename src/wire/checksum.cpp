// SPDX-License-Identifier: BSD-2-Clause
#include "wire/checksum.hpp"

#include <bit>
#include <cstring>

namespace utcp::wire {
namespace {

// Ones'-complement addition in 64 bits: the carry out wraps around (RFC 1071 §2(C)).
inline uint64_t add_carry(uint64_t a, uint64_t b) {
  uint64_t s = a + b;
  return s + (s < a);
}

inline uint16_t fold(uint64_t acc) {
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffu) + (acc >> 16);
  acc = (acc & 0xffffu) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}

#if defined(__x86_64__)
// 128-byte blocks summed with one add-with-carry chain straight from memory (the carry flag
// is the end-around carry; DEC and LEA leave it alone): 19 instructions per 128 bytes, against
// about 80 for the portable loop below. `blocks` must be at least 1.
inline uint64_t sum_blocks128(const uint8_t*& p, size_t blocks, uint64_t acc) {
  asm("clc\n"
      "1:\n\t"
      "adcq 0(%[p]), %[acc]\n\t"
      "adcq 8(%[p]), %[acc]\n\t"
      "adcq 16(%[p]), %[acc]\n\t"
      "adcq 24(%[p]), %[acc]\n\t"
      "adcq 32(%[p]), %[acc]\n\t"
      "adcq 40(%[p]), %[acc]\n\t"
      "adcq 48(%[p]), %[acc]\n\t"
      "adcq 56(%[p]), %[acc]\n\t"
      "adcq 64(%[p]), %[acc]\n\t"
      "adcq 72(%[p]), %[acc]\n\t"
      "adcq 80(%[p]), %[acc]\n\t"
      "adcq 88(%[p]), %[acc]\n\t"
      "adcq 96(%[p]), %[acc]\n\t"
      "adcq 104(%[p]), %[acc]\n\t"
      "adcq 112(%[p]), %[acc]\n\t"
      "adcq 120(%[p]), %[acc]\n\t"
      "leaq 128(%[p]), %[p]\n\t"
      "decq %[n]\n\t"
      "jnz 1b\n\t"
      "adcq $0, %[acc]"
      : [acc] "+r"(acc), [p] "+r"(p), [n] "+r"(blocks)
      :
      : "memory", "cc");
  return acc;
}
#endif

// Sum of the range read as native-order words; byte order is fixed up once at the end
// (RFC 1071 §2(B): the sum is independent of byte order up to a final swap).
uint64_t sum_native(const uint8_t* p, size_t n) {
  uint64_t a0 = 0, a1 = 0;
#if defined(__x86_64__)
  if (n >= 128) {
    a0 = sum_blocks128(p, n / 128, 0);
    n %= 128;
  }
#endif
  while (n >= 16) {
    uint64_t w0, w1;
    std::memcpy(&w0, p, 8);
    std::memcpy(&w1, p + 8, 8);
    a0 = add_carry(a0, w0);
    a1 = add_carry(a1, w1);
    p += 16;
    n -= 16;
  }
  uint64_t acc = add_carry(a0, a1);
  if (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    acc = add_carry(acc, w);
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    acc = add_carry(acc, w);
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    acc = add_carry(acc, w);
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    // A trailing byte is the high (first) half of a big-endian word padded with zero.
    uint8_t pad[2] = {p[0], 0};
    uint16_t w;
    std::memcpy(&w, pad, 2);
    acc = add_carry(acc, w);
  }
  return acc;
}

inline uint16_t native_to_host(uint16_t v) {
  if constexpr (std::endian::native == std::endian::little)
    return static_cast<uint16_t>((v >> 8) | (v << 8));
  return v;
}

inline uint16_t swap16(uint16_t v) {
  return static_cast<uint16_t>((v >> 8) | (v << 8));
}

}  // namespace

Checksum& Checksum::add(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return *this;
  uint16_t s = fold(sum_native(bytes.data(), bytes.size()));
  // A range starting mid-word has every byte in the other half of its word: swap its sum.
  if (odd_) s = swap16(s);
  acc_ = add_carry(acc_, s);
  if (bytes.size() % 2 == 1) odd_ = !odd_;
  return *this;
}

// Words added by value sit at an even offset whatever the parity of the bytes added so
// far (the header said so; going through add() would shift them into the other half).
Checksum& Checksum::add16(uint16_t value) {
  acc_ = add_carry(acc_, native_to_host(value));  // host->native is the same swap
  return *this;
}

Checksum& Checksum::add32(uint32_t value) {
  add16(static_cast<uint16_t>(value >> 16));
  return add16(static_cast<uint16_t>(value));
}

uint16_t Checksum::sum() const {
  return native_to_host(fold(acc_));
}

uint16_t internet_checksum(std::span<const uint8_t> bytes) {
  return Checksum().add(bytes).finish();
}

uint16_t checksum_update16(uint16_t old_checksum, uint16_t old_word, uint16_t new_word) {
  uint32_t s = static_cast<uint16_t>(~old_checksum);
  s += static_cast<uint16_t>(~old_word);
  s += new_word;
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

uint16_t checksum_update32(uint16_t old_checksum, uint32_t old_value, uint32_t new_value) {
  uint16_t c = checksum_update16(old_checksum, static_cast<uint16_t>(old_value >> 16),
                                 static_cast<uint16_t>(new_value >> 16));
  return checksum_update16(c, static_cast<uint16_t>(old_value), static_cast<uint16_t>(new_value));
}

Checksum ipv4_pseudo_header(uint32_t src, uint32_t dst, uint8_t protocol, uint16_t length) {
  Checksum c;
  c.add32(src).add32(dst).add16(protocol).add16(length);
  return c;
}

Checksum ipv6_pseudo_header(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t next_header,
                            uint32_t length) {
  // RFC 8200 §8.1: source, destination, upper-layer length (32 bits), 3 zero bytes, next header.
  Checksum c;
  c.add(src.bytes).add(dst.bytes).add32(length).add16(next_header);
  return c;
}

Checksum pseudo_header(const IpAddr& src, const IpAddr& dst, uint8_t protocol, uint32_t length) {
  if (src.is_v4() && dst.is_v4()) {
    return ipv4_pseudo_header(src.v4().value, dst.v4().value, protocol,
                              static_cast<uint16_t>(length));
  }
  return ipv6_pseudo_header(src.v6(), dst.v6(), protocol, length);
}

}  // namespace utcp::wire
