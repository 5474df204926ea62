// SPDX-License-Identifier: BSD-2-Clause
#include "ip/ipv4_fragmenter.hpp"

#include <algorithm>
#include <cstring>

#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace utcp::ip {

namespace {
constexpr uint16_t kMf = 0x2000;

uint16_t get16(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint16_t>(b[at] << 8 | b[at + 1]);
}
void put16(std::span<uint8_t> b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
}  // namespace

Ipv4Fragmenter::Ipv4Fragmenter(std::span<const uint8_t> datagram, size_t mtu) : mtu_(mtu) {
  auto parsed = wire::Ipv4Packet::parse(datagram);
  if (!parsed || mtu < kMinMtu) return;
  const wire::Ipv4Packet& ip = *parsed;
  if (ip.df()) return;
  header_ = ip.header();
  payload_ = ip.payload();
  base_offset_ = ip.frag_offset();
  last_mf_ = ip.mf();
  // RFC 791 §3.1 (Options, "copied flag"): only options with the flag set are repeated in
  // every fragment; the rest travel in the first one only.
  const auto opts = ip.options();
  for (size_t i = 0; i < opts.size();) {
    const uint8_t type = opts[i];
    if (type == 0) break;  // End of Option List
    if (type == 1) {       // No Operation: not copied
      ++i;
      continue;
    }
    if (i + 1 >= opts.size() || opts[i + 1] < 2 || i + opts[i + 1] > opts.size()) break;
    const size_t len = opts[i + 1];
    if ((type & 0x80) != 0) {
      std::memcpy(later_options_ + later_options_len_, opts.data() + i, len);
      later_options_len_ += len;
    }
    i += len;
  }
  later_options_len_ = (later_options_len_ + 3) / 4 * 4;  // padded with zeros (End of List)
  ok_ = chunk(header_.size()) > 0 && chunk(wire::kIpv4HeaderMin + later_options_len_) > 0;
}

size_t Ipv4Fragmenter::chunk(size_t header_len) const {
  // RFC 791 §3.2: every fragment but the last carries a multiple of 8 data bytes.
  return mtu_ > header_len ? (mtu_ - header_len) / 8 * 8 : 0;
}

size_t Ipv4Fragmenter::count() const {
  if (!ok_) return 0;
  // The first fragment, then equal later ones; the last takes whatever fits (next()).
  if (header_.size() + payload_.size() <= mtu_) return 1;
  const size_t later_header = wire::kIpv4HeaderMin + later_options_len_;
  size_t left = payload_.size() - chunk(header_.size());
  size_t n = 1;
  for (; later_header + left > mtu_; ++n) left -= chunk(later_header);
  return n + 1;
}

size_t Ipv4Fragmenter::next(std::span<uint8_t> buf) {
  if (done()) return 0;
  const bool first = sent_ == 0;
  const size_t hlen = first ? header_.size() : wire::kIpv4HeaderMin + later_options_len_;
  const size_t remaining = payload_.size() - sent_;
  // The rest fits in one packet: it is the last fragment, its length need not be a multiple
  // of 8 (a datagram that fits the MTU whole goes out as one unchanged packet).
  const bool last = hlen + remaining <= mtu_;
  const size_t data = last ? remaining : chunk(hlen);
  if (buf.size() < hlen + data) return 0;

  // RFC 791 §3.2: the fixed header is copied; total length, MF, offset and checksum are
  // recomputed, options are those chosen above.
  std::memcpy(buf.data(), header_.data(), wire::kIpv4HeaderMin);
  if (first) {
    std::memcpy(buf.data() + wire::kIpv4HeaderMin, header_.data() + wire::kIpv4HeaderMin,
                header_.size() - wire::kIpv4HeaderMin);
  } else if (later_options_len_ > 0) {
    std::memcpy(buf.data() + wire::kIpv4HeaderMin, later_options_, later_options_len_);
  }
  buf[0] = static_cast<uint8_t>(0x40 | (hlen / 4));
  put16(buf, 2, static_cast<uint16_t>(hlen + data));
  const size_t offset = base_offset_ + sent_;
  const bool mf = last ? last_mf_ : true;
  const uint16_t flags_offset = get16(header_, 6) & ~(kMf | 0x1fff);  // keeps the reserved bit
  put16(buf, 6, static_cast<uint16_t>(flags_offset | (mf ? kMf : 0) | (offset / 8)));
  put16(buf, 10, 0);
  put16(buf, 10, wire::internet_checksum(buf.first(hlen)));
  std::memcpy(buf.data() + hlen, payload_.data() + sent_, data);
  sent_ += data;
  return hlen + data;
}

}  // namespace utcp::ip
