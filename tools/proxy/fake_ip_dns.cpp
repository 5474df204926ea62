// SPDX-License-Identifier: BSD-2-Clause
// Fake-IP DNS answers: see fake_ip_dns.hpp.
#include "fake_ip_dns.hpp"

namespace utcp::proxy {

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
  if (q->question.qtype == dns::kTypeA || q->question.qtype == dns::kTypeAaaa) {
    FakeIpPool& pool = q->question.qtype == dns::kTypeA ? pool4_ : pool6_;
    const IpAddr addr = pool.assign(q->question.name.text);
    return dns::build_response(*q, dns::Rcode::kNoError, std::span(&addr, 1), kTtl);
  }
  return dns::build_response(*q, dns::Rcode::kNoError, {}, kTtl);  // NODATA
}

}  // namespace utcp::proxy
