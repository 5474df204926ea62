// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer target for utcp-proxy's DNS codec and fake-IP DNS server (tools/proxy/
// dns_message.hpp, fake_ip_dns.hpp): any bytes as a query. Invariants: a parsed name is at
// most 255 octets on the wire with labels of at most 63, and parses back (uncompressed) to the
// same text; the response to a parsed query echoes its ID and question and parses back; the
// fake-IP server's answer to anything is empty or a response with the query's ID, and any
// address it hands out maps back to the name; read_name from any offset terminates.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dns_message.hpp"
#include "fake_ip_dns.hpp"
#include "fuzz_check.hpp"

namespace {

using namespace utcp;
using namespace utcp::proxy;

// A small pool, so the fuzzer reaches LRU reuse.
FakeIpDns& server() {
  static FakeIpDns dns(*IpPrefix::parse("198.18.0.0/29"), *IpPrefix::parse("fc00:18::/125"));
  return dns;
}

void check_name(const dns::Name& name) {
  check(name.wire.size() <= dns::kMaxNameWire);
  check(!name.wire.empty() && name.wire.back() == 0);
  // The wire form is uncompressed: it reads back alone, to the same text.
  size_t offset = 0;
  dns::ParseError e = dns::ParseError::kNone;
  const auto again = dns::read_name(name.wire, offset, e);
  check(again.has_value());
  check(offset == name.wire.size());
  check(again->text == name.text);
  for (size_t at = 0; name.wire[at] != 0; at += 1 + name.wire[at]) {
    check(name.wire[at] <= dns::kMaxLabel);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  dns::ParseError error = dns::ParseError::kNone;
  const auto q = dns::parse_query(in, error);
  check(q.has_value() == (error == dns::ParseError::kNone));
  if (q) {
    check_name(q->question.name);
    const IpAddr answers[] = {Ipv4Addr(198, 18, 0, 1), *IpAddr::parse("fc00:18::1")};
    std::vector<uint8_t> r = dns::build_response(*q, dns::Rcode::kNoError, answers, 60);
    check(r.size() >= dns::kHeaderSize);
    check((r[0] << 8 | r[1]) == q->id);
    r[2] &= 0x7f;  // as a query again (QR clear): its question is the same
    const auto back = dns::parse_query(r, error);
    check(back.has_value());
    check(back->question.name.wire == q->question.name.wire);
    check(back->question.qtype == q->question.qtype);
  }
  // Names read from every offset: each either fails or obeys the limits.
  for (size_t at = 0; at < size && at < 64; ++at) {
    size_t offset = at;
    if (const auto name = dns::read_name(in, offset, error)) {
      check_name(*name);
      check(offset <= size);
    }
  }
  const std::vector<uint8_t> answer = server().answer(in);
  if (!answer.empty()) {
    check(answer.size() >= dns::kHeaderSize && size >= dns::kHeaderSize);
    check(answer[0] == data[0] && answer[1] == data[1]);
    check((answer[2] & 0x80) != 0);
    const bool address_query =
        q && q->opcode == 0 && !q->question.name.text.empty() &&
        q->question.qclass == dns::kClassIn &&
        (q->question.qtype == dns::kTypeA || q->question.qtype == dns::kTypeAaaa);
    if (address_query) {  // one answer, the last RDATA: an address that maps back to the name
      check(answer[7] == 1);
      const size_t len = q->question.qtype == dns::kTypeA ? 4 : 16;
      check(answer.size() > len);
      const uint8_t* p = answer.data() + answer.size() - len;
      const IpAddr a =
          len == 4 ? IpAddr(Ipv4Addr(p[0], p[1], p[2], p[3])) : IpAddr(Ipv6Addr::from_bytes(p));
      check(server().name_of(a) == FakeIpPool::normalize(q->question.name.text));
    }
  }
  return 0;
}
