// SPDX-License-Identifier: BSD-2-Clause
// IPv6 and family-neutral address text forms: RFC 4291 §2.2 on input, RFC 5952 on output.
#include <cstdio>

#include "utcp/address.hpp"

namespace utcp {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses "g:g:...:g" (possibly empty) into groups; the last piece may be a dotted quad
// (RFC 4291 §2.2 form 3) when v4_last allows, counting as two groups. False on any
// malformed piece or more than `max` groups.
bool parse_groups(std::string_view s, bool v4_last, uint16_t* out, size_t max, size_t& n) {
  n = 0;
  if (s.empty()) return true;
  while (true) {
    const size_t colon = s.find(':');
    const std::string_view piece = s.substr(0, colon);
    const bool last = colon == std::string_view::npos;
    if (last && v4_last && piece.find('.') != std::string_view::npos) {
      auto v4 = Ipv4Addr::parse(piece);
      if (!v4 || n + 2 > max) return false;
      out[n++] = static_cast<uint16_t>(v4->value >> 16);
      out[n++] = static_cast<uint16_t>(v4->value);
      return true;
    }
    // Each group is one to four hex digits (RFC 4291 §2.2 form 1).
    if (piece.empty() || piece.size() > 4 || n == max) return false;
    unsigned v = 0;
    for (char c : piece) {
      const int d = hex_digit(c);
      if (d < 0) return false;
      v = v << 4 | static_cast<unsigned>(d);
    }
    out[n++] = static_cast<uint16_t>(v);
    if (last) return true;
    s.remove_prefix(colon + 1);
  }
}

}  // namespace

std::optional<Ipv6Addr> Ipv6Addr::parse(std::string_view text) {
  uint16_t head[8], tail[8];
  size_t nhead = 0, ntail = 0;
  const size_t gap = text.find("::");
  if (gap == std::string_view::npos) {
    if (!parse_groups(text, true, head, 8, nhead) || nhead != 8) return std::nullopt;
  } else {
    // At most one "::" (RFC 4291 §2.2 form 2); it stands for at least one zero group.
    const std::string_view before = text.substr(0, gap);
    const std::string_view after = text.substr(gap + 2);
    if (after.find("::") != std::string_view::npos) return std::nullopt;
    if (!parse_groups(before, false, head, 7, nhead)) return std::nullopt;
    if (!parse_groups(after, true, tail, 7, ntail)) return std::nullopt;
    if (nhead + ntail > 7) return std::nullopt;
  }
  uint16_t g[8] = {};
  for (size_t i = 0; i < nhead; ++i) g[i] = head[i];
  for (size_t i = 0; i < ntail; ++i) g[8 - ntail + i] = tail[i];
  return Ipv6Addr(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]);
}

std::string Ipv6Addr::to_string() const {
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  if (auto v4 = to_v4_mapped()) return "::ffff:" + v4->to_string();
  // RFC 5952 §4.2: the longest run of two or more zero groups is shortened (§4.2.2: never a
  // single group; §4.2.3: the first of equally long runs).
  size_t best = 8, best_len = 0;
  for (size_t i = 0; i < 8;) {
    if (group(i) != 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < 8 && group(j) == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best = 8;
  std::string out;
  char buf[8];
  for (size_t i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    // RFC 5952 §4.1 and §4.3: no leading zeros, lower case.
    std::snprintf(buf, sizeof buf, "%x", static_cast<unsigned>(group(i)));
    out += buf;
  }
  return out;
}

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    if (auto v6 = Ipv6Addr::parse(text)) return IpAddr(*v6);
    return std::nullopt;
  }
  if (auto v4 = Ipv4Addr::parse(text)) return IpAddr(*v4);
  return std::nullopt;
}

}  // namespace utcp
