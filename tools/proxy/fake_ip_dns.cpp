// SPDX-License-Identifier: BSD-2-Clause
// Fake-IP DNS answers: see fake_ip_dns.hpp.
#include "fake_ip_dns.hpp"

#include <array>
#include <string_view>

namespace utcp::proxy {
namespace {

// One label of a reverse name: a decimal octet (in-addr.arpa) or a hex nibble (ip6.arpa).
std::optional<unsigned> number(std::string_view label, unsigned base, size_t max_digits) {
  if (label.empty() || label.size() > max_digits) return std::nullopt;
  unsigned v = 0;
  for (const char c : label) {
    unsigned d;
    if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      d = static_cast<unsigned>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    v = v * base + d;
  }
  return v;
}

}  // namespace

std::optional<IpAddr> FakeIpDns::reverse_address(std::string_view raw) {
  const std::string name = FakeIpPool::normalize(raw);
  std::vector<std::string_view> labels;
  for (std::string_view rest = name; !rest.empty();) {
    const size_t dot = rest.find('.');
    labels.push_back(rest.substr(0, dot));
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  }
  // RFC 1035 §3.5: the four octets in reverse order under in-addr.arpa.
  if (labels.size() == 6 && labels[4] == "in-addr" && labels[5] == "arpa") {
    uint32_t v = 0;
    for (size_t i = 4; i-- > 0;) {
      const auto octet = number(labels[i], 10, 3);
      if (!octet || *octet > 255) return std::nullopt;
      v = v << 8 | *octet;
    }
    return IpAddr(Ipv4Addr(v));
  }
  // RFC 3596 §2.5: the 32 nibbles in reverse order under ip6.arpa.
  if (labels.size() == 34 && labels[32] == "ip6" && labels[33] == "arpa") {
    std::array<uint8_t, 16> b{};
    for (size_t i = 0; i < 32; ++i) {
      const auto nibble = number(labels[31 - i], 16, 1);
      if (!nibble) return std::nullopt;
      b[i / 2] = static_cast<uint8_t>(b[i / 2] | *nibble << (i % 2 == 0 ? 4 : 0));
    }
    return IpAddr(Ipv6Addr(b));
  }
  return std::nullopt;
}

std::vector<uint8_t> FakeIpDns::answer(std::span<const uint8_t> query) {
  const auto header = dns::parse_header(query);
  if (!header || header->qr) return {};  // never answer a response (no loops)
  ++answered_;
  if (header->opcode != static_cast<uint8_t>(dns::Opcode::kQuery)) {
    return dns::build_header_only(*header, dns::Rcode::kNotImp);  // RFC 1035 §4.1.1
  }
  dns::ParseError error;
  const auto q = dns::parse_query(query, error);
  if (!q) {
    ++malformed_;
    return dns::build_header_only(*header, dns::Rcode::kFormErr);
  }
  if (q->question.qclass != dns::kClassIn) {
    return dns::build_response(*q, dns::Rcode::kNotImp, {}, kTtl);
  }
  // The root has no address to stand for (and an empty name could not go upstream as one).
  const bool named = !q->question.name.text.empty();
  if (named && (q->question.qtype == dns::kTypeA || q->question.qtype == dns::kTypeAaaa)) {
    FakeIpPool& pool = q->question.qtype == dns::kTypeA ? pool4_ : pool6_;
    const IpAddr addr = pool.assign(q->question.name.text);
    return dns::build_response(*q, dns::Rcode::kNoError, std::span(&addr, 1), kTtl);
  }
  if (named && q->question.qtype == dns::kTypePtr) {
    // A reverse lookup of a fake address names what it stands for; one in a pool standing
    // for nothing does not exist (NXDOMAIN). Others are not ours: NODATA below.
    if (const auto addr = reverse_address(q->question.name.text); addr && contains(*addr)) {
      const auto target = name_of(*addr);
      if (const auto wire = target ? dns::encode_name(*target) : std::nullopt) {
        return dns::build_ptr_response(*q, *wire, kTtl);
      }
      return dns::build_response(*q, dns::Rcode::kNxDomain, {}, kTtl);
    }
  }
  return dns::build_response(*q, dns::Rcode::kNoError, {}, kTtl);  // NODATA
}

}  // namespace utcp::proxy
