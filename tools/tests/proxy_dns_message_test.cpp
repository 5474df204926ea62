// SPDX-License-Identifier: BSD-2-Clause
// The DNS message codec (tools/proxy/dns_message.hpp, RFC 1035 §4): queries parsed field by
// field, compression pointers followed backwards only (loops, self and forward pointers, and
// pointers past the end rejected), label and name length limits, truncation at every length,
// and responses checked byte by byte.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "dns_message.hpp"

namespace utcp::proxy::dns {
namespace {

using Bytes = std::vector<uint8_t>;

// A query header (ID 0x1234, RD, QDCOUNT 1) followed by `name_and_rest`.
Bytes query_with(const Bytes& name_and_rest) {
  Bytes m = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  m.insert(m.end(), name_and_rest.begin(), name_and_rest.end());
  return m;
}

ParseError error_of(const Bytes& m) {
  ParseError e = ParseError::kNone;
  EXPECT_FALSE(parse_query(m, e).has_value());
  return e;
}

TEST(DnsMessage, ParsesAQuery) {
  const auto m = build_query(0xbeef, "www.Example.com", kTypeAaaa);
  ASSERT_TRUE(m);
  ParseError e;
  const auto q = parse_query(*m, e);
  ASSERT_TRUE(q) << to_string(e);
  EXPECT_EQ(q->id, 0xbeef);
  EXPECT_EQ(q->opcode, 0);
  EXPECT_TRUE(q->rd);
  EXPECT_EQ(q->question.name.text, "www.Example.com");
  EXPECT_EQ(q->question.qtype, kTypeAaaa);
  EXPECT_EQ(q->question.qclass, kClassIn);
  EXPECT_EQ(q->question.name.wire,
            (Bytes{3, 'w', 'w', 'w', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0}));
}

TEST(DnsMessage, RootNameAndEscapes) {
  // The root name, then a label with a dot, a backslash and a space in it.
  ParseError e;
  auto q = parse_query(query_with({0, 0, 1, 0, 1}), e);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->question.name.text, "");
  q = parse_query(query_with({4, 'a', '.', '\\', ' ', 0, 0, 1, 0, 1}), e);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->question.name.text, "a\\.\\\\\\032");
}

TEST(DnsMessage, FollowsACompressionPointerToAPriorName) {
  // RFC 1035 §4.1.4: "example.com" at offset 12 inside the (oversized) question section of a
  // message; read_name of a later "www" + pointer to offset 12 yields www.example.com.
  Bytes m = query_with({7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1});
  const size_t second = m.size();
  m.insert(m.end(), {3, 'w', 'w', 'w', 0xc0, 12, 0xaa});
  size_t offset = second;
  ParseError e = ParseError::kNone;
  const auto name = read_name(m, offset, e);
  ASSERT_TRUE(name) << to_string(e);
  EXPECT_EQ(name->text, "www.example.com");
  EXPECT_EQ(offset, second + 6);  // just past the pointer, not past the name it points to
  EXPECT_EQ(name->wire.size(), 17u);
  // A pointer to a pointer (both backwards) is followed too.
  m.insert(m.end(), {0xc0, static_cast<uint8_t>(second)});
  offset = m.size() - 2;
  const auto again = read_name(m, offset, e);
  ASSERT_TRUE(again) << to_string(e);
  EXPECT_EQ(again->text, "www.example.com");
}

TEST(DnsMessage, RejectsPointerLoopsAndForwardPointers) {
  // A pointer to itself (offset 12).
  EXPECT_EQ(error_of(query_with({0xc0, 12, 0, 1, 0, 1})), ParseError::kPointerNotPrior);
  // A label, then a pointer back to that label: a loop "a.a.a..." without the prior rule.
  EXPECT_EQ(error_of(query_with({1, 'a', 0xc0, 12, 0, 1, 0, 1})), ParseError::kPointerNotPrior);
  // Two pointers to each other: the first one points forward.
  EXPECT_EQ(error_of(query_with({0xc0, 14, 0xc0, 12, 0, 1, 0, 1})), ParseError::kPointerNotPrior);
  // A backward pointer into the header, where the flags word (crafted) reads as a pointer
  // back to the name at offset 12: a two-step loop, caught at its second step.
  Bytes m = query_with({0xc0, 2, 0, 1, 0, 1});
  m[2] = 0xc0;
  m[3] = 12;
  size_t offset = 12;
  ParseError e = ParseError::kNone;
  EXPECT_FALSE(read_name(m, offset, e));
  EXPECT_EQ(e, ParseError::kPointerNotPrior);
}

TEST(DnsMessage, RejectsPointersPastTheEnd) {
  EXPECT_EQ(error_of(query_with({0xc0, 0xff, 0, 1, 0, 1})), ParseError::kPointerOutOfBounds);
  EXPECT_EQ(error_of(query_with({1, 'a', 0xff, 0xff})), ParseError::kPointerOutOfBounds);
  // Half a pointer at the end of the message.
  EXPECT_EQ(error_of(query_with({1, 'a', 0xc0})), ParseError::kTruncated);
}

TEST(DnsMessage, RejectsReservedLabelTypes) {
  EXPECT_EQ(error_of(query_with({0x41, 'a', 0, 0, 1, 0, 1})), ParseError::kLabelType);  // 01
  EXPECT_EQ(error_of(query_with({0x80, 'a', 0, 0, 1, 0, 1})), ParseError::kLabelType);  // 10
}

TEST(DnsMessage, LabelLimitIs63Octets) {
  EXPECT_TRUE(build_query(1, std::string(63, 'x') + ".com", kTypeA));
  EXPECT_FALSE(build_query(1, std::string(64, 'x') + ".com", kTypeA));
  // On the wire a length of 64 has the high bits 01: a reserved label type.
  Bytes name = {64};
  name.insert(name.end(), 64, 'x');
  name.insert(name.end(), {0, 0, 1, 0, 1});
  EXPECT_EQ(error_of(query_with(name)), ParseError::kLabelType);
  name = {63};
  name.insert(name.end(), 63, 'x');
  name.insert(name.end(), {0, 0, 1, 0, 1});
  ParseError e;
  EXPECT_TRUE(parse_query(query_with(name), e)) << to_string(e);
}

TEST(DnsMessage, NameLimitIs255Octets) {
  // Four labels of 63 octets with their length octets: 256, and the root makes 257.
  const std::string l63(63, 'y');
  EXPECT_FALSE(build_query(1, l63 + "." + l63 + "." + l63 + "." + l63, kTypeA));
  // 3 x 64 + 62 + 1 (root) = 255: the longest name there is.
  const auto longest =
      build_query(1, l63 + "." + l63 + "." + l63 + "." + std::string(61, 'z'), kTypeA);
  ASSERT_TRUE(longest);
  ParseError e;
  const auto q = parse_query(*longest, e);
  ASSERT_TRUE(q) << to_string(e);
  EXPECT_EQ(q->question.name.wire.size(), 255u);
  // One octet more, on the wire.
  Bytes name;
  for (int i = 0; i < 3; ++i) {
    name.push_back(63);
    name.insert(name.end(), 63, 'y');
  }
  name.push_back(62);
  name.insert(name.end(), 62, 'z');
  name.insert(name.end(), {0, 0, 1, 0, 1});
  EXPECT_EQ(error_of(query_with(name)), ParseError::kNameTooLong);
  // Compression cannot make a name longer than 255 either: a long name pointed to after a
  // further 63-octet label.
  Bytes m = *longest;
  const size_t second = m.size();
  m.push_back(63);
  m.insert(m.end(), 63, 'w');
  m.insert(m.end(), {0xc0, 12});
  size_t offset = second;
  EXPECT_FALSE(read_name(m, offset, e));
  EXPECT_EQ(e, ParseError::kNameTooLong);
}

TEST(DnsMessage, EveryTruncationIsRejected) {
  const auto m = build_query(7, "a.example.net", kTypeA);
  ASSERT_TRUE(m);
  for (size_t n = 0; n < m->size(); ++n) {
    const Bytes cut(m->begin(), m->begin() + static_cast<ptrdiff_t>(n));
    EXPECT_EQ(error_of(cut), ParseError::kTruncated) << "length " << n;
  }
}

TEST(DnsMessage, RejectsResponsesAndQuestionCountsOtherThanOne) {
  auto m = *build_query(7, "a.net", kTypeA);
  m[2] |= 0x80;  // QR
  EXPECT_EQ(error_of(m), ParseError::kNotQuery);
  m[2] &= 0x7f;
  m[5] = 2;  // QDCOUNT 2
  EXPECT_EQ(error_of(m), ParseError::kQuestionCount);
  m[5] = 0;
  EXPECT_EQ(error_of(m), ParseError::kQuestionCount);
}

TEST(DnsMessage, BuildsAnAnswerWithTheQuestionEchoed) {
  const auto m = build_query(0x0a0b, "ab.c", kTypeA);
  ParseError e;
  const auto q = parse_query(*m, e);
  ASSERT_TRUE(q);
  const IpAddr answers[] = {Ipv4Addr(198, 18, 0, 1), *IpAddr::parse("fc00:18::2")};
  const Bytes r = build_response(*q, Rcode::kNoError, answers, 0x01020304);
  const Bytes expected = {
      0x0a, 0x0b, 0x81, 0x80, 0,   1, 0, 2, 0, 0, 0, 0,  // header: QR RD RA, NOERROR, 1 Q, 2 AN
      2,    'a',  'b',  1,    'c', 0, 0, 1, 0, 1,        // the question
      0xc0, 12,   0,    1,    0,   1, 1, 2, 3, 4, 0, 4,  198, 18, 0, 1,  // A
      0xc0, 12,   0,    28,   0,   1, 1, 2, 3, 4, 0, 16,                 // AAAA ...
      0xfc, 0,    0,    0x18, 0,   0, 0, 0, 0, 0, 0, 0,  0,   0,  0, 2};
  EXPECT_EQ(r, expected);
  // The response's question parses back to the same name (with QR cleared it is a query).
  Bytes back = r;
  back[2] &= 0x7f;
  back[7] = 0;
  const auto q2 = parse_query(back, e);
  ASSERT_TRUE(q2);
  EXPECT_EQ(q2->question.name.text, "ab.c");
}

TEST(DnsMessage, ErrorResponses) {
  const auto m = build_query(0x4242, "x.y", 16);
  ParseError e;
  const auto q = parse_query(*m, e);
  ASSERT_TRUE(q);
  for (const Rcode rc : {Rcode::kNxDomain, Rcode::kNotImp, Rcode::kRefused}) {
    const Bytes r = build_response(*q, rc, {}, 60);
    ASSERT_EQ(r.size(), m->size());  // header + the question echoed, nothing else
    EXPECT_EQ(r[3] & 0x0f, static_cast<int>(rc));
    EXPECT_EQ(r[7], 0);  // ANCOUNT
    EXPECT_TRUE(std::equal(r.begin() + 4, r.end(), m->begin() + 4));
  }
  const auto h = parse_header(*m);
  ASSERT_TRUE(h);
  const Bytes formerr = build_header_only(*h, Rcode::kFormErr);
  EXPECT_EQ(formerr, (Bytes{0x42, 0x42, 0x81, 0x81, 0, 0, 0, 0, 0, 0, 0, 0}));
}

}  // namespace
}  // namespace utcp::proxy::dns
