// SPDX-License-Identifier: BSD-2-Clause
#include "ip/ipv6_fragmenter.hpp"

#include <cstring>

#include "wire/endian.hpp"
#include "wire/ipv6.hpp"
#include "wire/ipv6_ext.hpp"

namespace utcp::ip {

namespace next = wire::ipv6_next;

Ipv6Fragmenter::Ipv6Fragmenter(std::span<const uint8_t> packet, size_t mtu, uint32_t identification)
    : mtu_(mtu), id_(identification) {
  auto parsed = wire::Ipv6Packet::parse(packet);
  if (!parsed || mtu < wire::kIpv6MinMtu) return;
  packet_ = parsed->bytes();
  if (packet_.size() <= mtu_) {
    whole_ = true;
    ok_ = true;
    return;
  }
  // RFC 8200 §4.5: the Per-Fragment headers are the IPv6 header and the extension headers
  // nodes on the way process: Hop-by-Hop, and a Routing header with any Destination Options
  // before it. Whatever follows them is the fragmentable part.
  uint8_t nh = packet_[6];
  size_t off = wire::kIpv6HeaderLen;
  unfrag_len_ = off;
  for (size_t i = 0; i < wire::kIpv6MaxExtHeaders; ++i) {
    if (nh == next::kFragment) return;  // already a fragment: not split again
    if (nh != next::kHopByHop && nh != next::kRouting && nh != next::kDestOptions) break;
    if (off + 2 > packet_.size()) return;
    const size_t len = (size_t{packet_[off + 1]} + 1) * 8;
    if (off + len > packet_.size()) return;
    if (nh != next::kDestOptions) {
      unfrag_len_ = off + len;
      nh_field_ = off;
    }
    nh = packet_[off];
    off += len;
  }
  ok_ = chunk() > 0;
}

size_t Ipv6Fragmenter::chunk() const {
  // RFC 8200 §4.5: every fragment but the last carries a multiple of 8 data bytes.
  const size_t header = unfrag_len_ + 8;
  return mtu_ > header ? (mtu_ - header) / 8 * 8 : 0;
}

size_t Ipv6Fragmenter::count() const {
  if (!ok_) return 0;
  if (whole_) return 1;
  return (fragmentable() + chunk() - 1) / chunk();
}

size_t Ipv6Fragmenter::next(std::span<uint8_t> buf) {
  if (done()) return 0;
  if (whole_) {
    if (buf.size() < packet_.size()) return 0;
    std::memcpy(buf.data(), packet_.data(), packet_.size());
    finished_ = true;
    return packet_.size();
  }
  const size_t remaining = fragmentable() - sent_;
  const bool last = remaining <= chunk();
  const size_t data = last ? remaining : chunk();
  const size_t len = unfrag_len_ + 8 + data;
  if (buf.size() < len) return 0;
  uint8_t* b = buf.data();
  // RFC 8200 §4.5: each fragment is the Per-Fragment headers, with the last one's Next
  // Header changed to 44 and the Payload Length to this fragment's, then the Fragment
  // header (the original Next Header value, offset in 8-byte units, M, Identification),
  // then the fragment's share of the fragmentable part.
  std::memcpy(b, packet_.data(), unfrag_len_);
  b[nh_field_] = next::kFragment;
  wire::store_be16(b + 4, static_cast<uint16_t>(len - wire::kIpv6HeaderLen));
  wire::Ipv6FragmentHeader fh;
  fh.next_header = packet_[nh_field_];
  fh.offset = static_cast<uint16_t>(sent_);
  fh.more = !last;
  fh.identification = id_;
  fh.emit(buf.subspan(unfrag_len_));
  std::memcpy(b + unfrag_len_ + 8, packet_.data() + unfrag_len_ + sent_, data);
  sent_ += data;
  finished_ = last;
  return len;
}

}  // namespace utcp::ip
