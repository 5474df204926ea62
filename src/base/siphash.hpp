// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012): a keyed
// 64-bit PRF, used as F() for initial sequence numbers (RFC 6528 §3).
#include <array>
#include <cstdint>
#include <span>

namespace utcp {

uint64_t siphash24(const std::array<uint8_t, 16>& key, std::span<const uint8_t> data);

}  // namespace utcp
