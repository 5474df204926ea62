// SPDX-License-Identifier: BSD-2-Clause
#include <algorithm>

#include "wire/endian.hpp"
#include "wire/tcp.hpp"

namespace utcp::wire {
namespace {

// Option kinds and lengths (RFC 9293 §3.2, RFC 7323 §2.2/§3.2, RFC 2018 §2/§3).
constexpr uint8_t kEol = 0;
constexpr uint8_t kNop = 1;
constexpr uint8_t kMss = 2;
constexpr uint8_t kWindowScale = 3;
constexpr uint8_t kSackPermitted = 4;
constexpr uint8_t kSack = 5;
constexpr uint8_t kTimestamps = 8;

constexpr uint8_t kMssLen = 4;
constexpr uint8_t kWindowScaleLen = 3;
constexpr uint8_t kSackPermittedLen = 2;
constexpr uint8_t kTimestampsLen = 10;
constexpr uint8_t kSackBaseLen = 2;
constexpr uint8_t kSackBlockLen = 8;

constexpr size_t kOptionsMax = kTcpHeaderMax - kTcpHeaderMin;  // 40 bytes

// Bytes everything except SACK blocks takes. Timestamps are one 12-byte word group
// either as "sackOK,TS" or "NOP,NOP,TS"; SACK-permitted alone is "NOP,NOP,sackOK".
size_t fixed_len(const TcpOptions& o) {
  size_t n = 0;
  if (o.mss) n += 4;
  if (o.timestamps) n += 12;
  if (o.sack_permitted && !o.timestamps) n += 4;
  if (o.window_scale) n += 4;
  return n;
}

}  // namespace

size_t TcpOptions::emitted_sack_count() const {
  if (sack_count == 0) return 0;
  size_t room = kOptionsMax - fixed_len(*this);
  if (room < 4 + kSackBlockLen) return 0;
  // RFC 2018 §3: at most 3 blocks fit next to timestamps, 4 without.
  return std::min<size_t>({sack_count, kTcpMaxSackBlocks, (room - 4) / kSackBlockLen});
}

size_t TcpOptions::encoded_len() const {
  size_t blocks = emitted_sack_count();
  return fixed_len(*this) + (blocks ? 4 + blocks * kSackBlockLen : 0);
}

// Linux's layout: every 32-bit field starts on a 4-byte boundary so that receivers
// (and header prediction) can read whole words.
size_t TcpOptions::emit(std::span<uint8_t> area) const {
  const size_t len = encoded_len();
  if (area.size() < len) return 0;
  uint8_t* p = area.data();
  auto put4 = [&p](uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    p[0] = a;
    p[1] = b;
    p[2] = c;
    p[3] = d;
    p += 4;
  };
  if (mss) {
    put4(kMss, kMssLen, static_cast<uint8_t>(*mss >> 8), static_cast<uint8_t>(*mss));
  }
  if (timestamps) {
    if (sack_permitted) {
      put4(kSackPermitted, kSackPermittedLen, kTimestamps, kTimestampsLen);
    } else {
      put4(kNop, kNop, kTimestamps, kTimestampsLen);
    }
    store_be32(p, timestamps->tsval);
    store_be32(p + 4, timestamps->tsecr);
    p += 8;
  } else if (sack_permitted) {
    put4(kNop, kNop, kSackPermitted, kSackPermittedLen);
  }
  if (window_scale) put4(kNop, kWindowScale, kWindowScaleLen, *window_scale);
  if (size_t blocks = emitted_sack_count()) {
    put4(kNop, kNop, kSack, static_cast<uint8_t>(kSackBaseLen + blocks * kSackBlockLen));
    for (size_t i = 0; i < blocks; ++i) {
      store_be32(p, sack_blocks[i].left.raw());
      store_be32(p + 4, sack_blocks[i].right.raw());
      p += 8;
    }
  }
  return len;
}

Parsed<TcpOptions> parse_tcp_options(std::span<const uint8_t> area) {
  TcpOptions o;
  size_t i = 0;
  while (i < area.size()) {
    const uint8_t kind = area[i];
    if (kind == kEol) break;  // RFC 9293 §3.2: end of option list
    if (kind == kNop) {
      ++i;
      continue;
    }
    // RFC 9293 §3.2: every other option has a length octet counting kind and length.
    if (i + 1 >= area.size()) return ParseError::kBadOptions;
    const uint8_t len = area[i + 1];
    if (len < 2 || len > area.size() - i) return ParseError::kBadOptions;
    const uint8_t* v = area.data() + i + 2;
    switch (kind) {
      case kMss:
        if (len != kMssLen) return ParseError::kBadOptions;
        o.mss = load_be16(v);
        break;
      case kWindowScale:
        if (len != kWindowScaleLen) return ParseError::kBadOptions;
        o.window_scale = v[0];
        break;
      case kSackPermitted:
        if (len != kSackPermittedLen) return ParseError::kBadOptions;
        o.sack_permitted = true;
        break;
      case kTimestamps:
        if (len != kTimestampsLen) return ParseError::kBadOptions;
        o.timestamps = TcpTimestamps{load_be32(v), load_be32(v + 4)};
        break;
      case kSack: {
        // RFC 2018 §3: 2 + 8n bytes, n = 1..4 blocks.
        const size_t body = len - kSackBaseLen;
        const size_t n = body / kSackBlockLen;
        if (body % kSackBlockLen != 0 || n < 1 || n > kTcpMaxSackBlocks) {
          return ParseError::kBadOptions;
        }
        o.sack_blocks = {};  // a repeated SACK option replaces the earlier one
        o.sack_count = static_cast<uint8_t>(n);
        for (size_t b = 0; b < n; ++b) {
          o.sack_blocks[b] = SackBlock{SeqNum(load_be32(v + b * kSackBlockLen)),
                                       SeqNum(load_be32(v + b * kSackBlockLen + 4))};
        }
        break;
      }
      default:
        break;  // unknown: skipped by its length
    }
    i += len;
  }
  return o;
}

}  // namespace utcp::wire
