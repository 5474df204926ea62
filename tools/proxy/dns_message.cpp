// SPDX-License-Identifier: BSD-2-Clause
// DNS message codec (RFC 1035 §4): see dns_message.hpp.
#include "dns_message.hpp"

#include <cstdio>

namespace utcp::proxy::dns {
namespace {

uint16_t get16(std::span<const uint8_t> m, size_t at) {
  return static_cast<uint16_t>(m[at] << 8 | m[at + 1]);
}

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void put32(std::vector<uint8_t>& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v >> 16));
  put16(out, static_cast<uint16_t>(v));
}

// RFC 1035 §5.1 presentation form of one label's octets.
void append_label_text(std::string& text, std::span<const uint8_t> label) {
  if (!text.empty()) text.push_back('.');
  for (const uint8_t c : label) {
    if (c == '.' || c == '\\') {
      text.push_back('\\');
      text.push_back(static_cast<char>(c));
    } else if (c < 0x21 || c > 0x7e) {
      char esc[5];
      std::snprintf(esc, sizeof esc, "\\%03u", c);
      text += esc;
    } else {
      text.push_back(static_cast<char>(c));
    }
  }
}

// Header flags word (RFC 1035 §4.1.1): QR, Opcode, AA, TC, RD, RA, Z, RCODE.
void put_header(std::vector<uint8_t>& out, uint16_t id, uint8_t opcode, bool rd, Rcode rcode,
                uint16_t qdcount, uint16_t ancount) {
  put16(out, id);
  const uint16_t flags = static_cast<uint16_t>(0x8000 | (opcode & 0xf) << 11 | (rd ? 0x0100 : 0) |
                                               0x0080 /* RA */ | static_cast<uint8_t>(rcode));
  put16(out, flags);
  put16(out, qdcount);
  put16(out, ancount);
  put16(out, 0);  // NSCOUNT
  put16(out, 0);  // ARCOUNT
}

}  // namespace

const char* to_string(ParseError e) {
  switch (e) {
    case ParseError::kNone:
      return "none";
    case ParseError::kTruncated:
      return "truncated";
    case ParseError::kNotQuery:
      return "not a query";
    case ParseError::kQuestionCount:
      return "question count not 1";
    case ParseError::kLabelType:
      return "reserved label type";
    case ParseError::kNameTooLong:
      return "name longer than 255 octets";
    case ParseError::kPointerOutOfBounds:
      return "compression pointer out of bounds";
    case ParseError::kPointerNotPrior:
      return "compression pointer not to a prior name";
  }
  return "?";
}

std::optional<Name> read_name(std::span<const uint8_t> message, size_t& offset, ParseError& error) {
  Name name;
  size_t at = offset;
  // RFC 1035 §4.1.4: a pointer names a prior occurrence. Each one must point below every
  // octet this name has read so far, so targets strictly decrease and no loop can form.
  size_t lowest = offset;
  bool jumped = false;
  for (;;) {
    if (at >= message.size()) {
      error = ParseError::kTruncated;
      return std::nullopt;
    }
    const uint8_t len = message[at];
    const uint8_t kind = len & 0xc0;
    if (kind == 0xc0) {  // a compression pointer: 14 bits of offset from the message start
      if (at + 1 >= message.size()) {
        error = ParseError::kTruncated;
        return std::nullopt;
      }
      const size_t target = get16(message, at) & 0x3fff;
      if (target >= message.size()) {
        error = ParseError::kPointerOutOfBounds;
        return std::nullopt;
      }
      if (target >= lowest) {
        error = ParseError::kPointerNotPrior;
        return std::nullopt;
      }
      if (!jumped) offset = at + 2;  // the name ends, in the message, after its first pointer
      jumped = true;
      lowest = target;
      at = target;
      continue;
    }
    if (kind != 0) {  // 01 (RFC 6891 §5: extended labels, deprecated) and 10 are reserved
      error = ParseError::kLabelType;
      return std::nullopt;
    }
    // RFC 1035 §2.3.4: labels of 63 octets or less (the two high bits are zero, so len <= 63),
    // names of 255 octets or less counting the length octets and the root.
    if (name.wire.size() + 1 + len > kMaxNameWire) {
      error = ParseError::kNameTooLong;
      return std::nullopt;
    }
    if (at + 1 + len > message.size()) {
      error = ParseError::kTruncated;
      return std::nullopt;
    }
    name.wire.insert(name.wire.end(), message.begin() + static_cast<ptrdiff_t>(at),
                     message.begin() + static_cast<ptrdiff_t>(at + 1 + len));
    if (len == 0) break;  // the root label ends the name
    append_label_text(name.text, message.subspan(at + 1, len));
    at += 1 + len;
  }
  if (!jumped) offset = at + 1;
  return name;
}

std::optional<Header> parse_header(std::span<const uint8_t> message) {
  if (message.size() < kHeaderSize) return std::nullopt;
  Header h;
  h.id = get16(message, 0);
  const uint16_t flags = get16(message, 2);
  h.qr = (flags & 0x8000) != 0;
  h.opcode = static_cast<uint8_t>(flags >> 11 & 0xf);
  h.rd = (flags & 0x0100) != 0;
  h.qdcount = get16(message, 4);
  return h;
}

std::optional<Query> parse_query(std::span<const uint8_t> message, ParseError& error) {
  error = ParseError::kNone;
  const auto header = parse_header(message);
  if (!header) {
    error = ParseError::kTruncated;
    return std::nullopt;
  }
  if (header->qr) {
    error = ParseError::kNotQuery;
    return std::nullopt;
  }
  if (header->qdcount != 1) {
    error = ParseError::kQuestionCount;
    return std::nullopt;
  }
  Query q;
  q.id = header->id;
  q.opcode = header->opcode;
  q.rd = header->rd;
  size_t offset = kHeaderSize;
  auto name = read_name(message, offset, error);
  if (!name) return std::nullopt;
  if (offset + 4 > message.size()) {  // RFC 1035 §4.1.2: QTYPE and QCLASS follow the name
    error = ParseError::kTruncated;
    return std::nullopt;
  }
  q.question.name = std::move(*name);
  q.question.qtype = get16(message, offset);
  q.question.qclass = get16(message, offset + 2);
  // Answer, authority and additional records (an EDNS OPT, RFC 6891) are not needed here.
  return q;
}

std::vector<uint8_t> build_response(const Query& query, Rcode rcode,
                                    std::span<const IpAddr> answers, uint32_t ttl) {
  std::vector<uint8_t> out;
  out.reserve(kHeaderSize + query.question.name.wire.size() + 4 + answers.size() * 28);
  put_header(out, query.id, query.opcode, query.rd, rcode, 1,
             static_cast<uint16_t>(answers.size()));
  // RFC 1035 §4.1.2: the question, echoed as it was asked.
  out.insert(out.end(), query.question.name.wire.begin(), query.question.name.wire.end());
  put16(out, query.question.qtype);
  put16(out, query.question.qclass);
  for (const IpAddr& a : answers) {
    // RFC 1035 §4.1.3: NAME (a pointer to the question's, at offset 12, §4.1.4), TYPE,
    // CLASS, TTL, RDLENGTH, RDATA (RFC 1035 §3.4.1 A; RFC 3596 §2.2 AAAA).
    put16(out, 0xc000 | kHeaderSize);
    put16(out, a.is_v4() ? kTypeA : kTypeAaaa);
    put16(out, kClassIn);
    put32(out, ttl);
    if (a.is_v4()) {
      put16(out, 4);
      put32(out, a.v4().value);
    } else {
      put16(out, 16);
      const Ipv6Addr v6 = a.v6();
      out.insert(out.end(), v6.bytes.begin(), v6.bytes.end());
    }
  }
  return out;
}

std::vector<uint8_t> build_header_only(const Header& header, Rcode rcode) {
  std::vector<uint8_t> out;
  put_header(out, header.id, header.opcode, header.rd, rcode, 0, 0);
  return out;
}

std::vector<uint8_t> build_ptr_response(const Query& query, std::span<const uint8_t> target,
                                        uint32_t ttl) {
  std::vector<uint8_t> out;
  put_header(out, query.id, query.opcode, query.rd, Rcode::kNoError, 1, 1);
  out.insert(out.end(), query.question.name.wire.begin(), query.question.name.wire.end());
  put16(out, query.question.qtype);
  put16(out, query.question.qclass);
  put16(out, 0xc000 | kHeaderSize);  // the owner: the question's name (RFC 1035 §4.1.4)
  put16(out, kTypePtr);
  put16(out, kClassIn);
  put32(out, ttl);
  put16(out, static_cast<uint16_t>(target.size()));
  out.insert(out.end(), target.begin(), target.end());
  return out;
}

std::optional<std::vector<uint8_t>> encode_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::vector<uint8_t> out;
  while (!name.empty()) {
    const size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    // RFC 1035 §2.3.4: labels of 1-63 octets; escapes (RFC 1035 §5.1) are not decoded here.
    if (label.empty() || label.size() > kMaxLabel || label.find('\\') != label.npos) {
      return std::nullopt;
    }
    out.push_back(static_cast<uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }
  out.push_back(0);
  if (out.size() > kMaxNameWire) return std::nullopt;
  return out;
}

std::optional<std::vector<uint8_t>> build_query(uint16_t id, std::string_view name,
                                                uint16_t qtype) {
  const auto wire = encode_name(name);
  if (!wire) return std::nullopt;
  std::vector<uint8_t> out;
  put16(out, id);
  put16(out, 0x0100);  // a standard query, recursion desired
  put16(out, 1);
  put16(out, 0);
  put16(out, 0);
  put16(out, 0);
  out.insert(out.end(), wire->begin(), wire->end());
  put16(out, qtype);
  put16(out, kClassIn);
  return out;
}

}  // namespace utcp::proxy::dns
