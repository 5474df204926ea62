// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A sans-IO DNS message codec (RFC 1035 §4), just what utcp-proxy's fake-IP mode needs:
// parse a query (header, one question with a possibly compressed QNAME) and build its
// response (A / AAAA answers, or an error RCODE with the question echoed). Every length and
// pointer is checked against the message, so hostile input is rejected, never trusted.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "utcp/address.hpp"

namespace utcp::proxy::dns {

inline constexpr size_t kHeaderSize = 12;    // RFC 1035 §4.1.1
inline constexpr size_t kMaxLabel = 63;      // RFC 1035 §2.3.4
inline constexpr size_t kMaxNameWire = 255;  // RFC 1035 §2.3.4: octets of the wire form

inline constexpr uint16_t kTypeA = 1;      // RFC 1035 §3.2.2
inline constexpr uint16_t kTypeAaaa = 28;  // RFC 3596 §2.1
inline constexpr uint16_t kTypePtr = 12;   // RFC 1035 §3.3.12
inline constexpr uint16_t kClassIn = 1;    // RFC 1035 §3.2.4

enum class Opcode : uint8_t { kQuery = 0 };  // RFC 1035 §4.1.1 (others answered NOTIMP)

// RFC 1035 §4.1.1 RCODE.
enum class Rcode : uint8_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
};

enum class ParseError : uint8_t {
  kNone,
  kTruncated,           // the message ends inside the header, a name or the question
  kNotQuery,            // QR = 1: a response, never answered (no loops between resolvers)
  kQuestionCount,       // QDCOUNT != 1 (RFC 9619: a query carries exactly one question)
  kLabelType,           // the reserved label types 01 and 10 (RFC 1035 §4.1.4, RFC 6891 §5)
  kNameTooLong,         // more than 255 octets (RFC 1035 §2.3.4)
  kPointerOutOfBounds,  // a compression pointer past the end of the message
  kPointerNotPrior,     // a pointer to itself or forward: the only way to build a loop
};
const char* to_string(ParseError e);

// A domain name as read from a message.
struct Name {
  // Presentation form (RFC 1035 §5.1): labels joined by '.', no trailing dot ("" is the
  // root); '.' and '\\' escaped with a backslash, other bytes outside 0x21-0x7e as \DDD,
  // so no two names read alike.
  std::string text;
  std::vector<uint8_t> wire;  // uncompressed wire form, ending with the root label
};

struct Question {
  Name name;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
};

struct Query {
  uint16_t id = 0;
  uint8_t opcode = 0;
  bool rd = false;  // recursion desired: copied into the response (RFC 1035 §4.1.1)
  Question question;
};

// Reads the name at `offset` (RFC 1035 §4.1.4 compression allowed), advancing `offset` past
// it in the message (past the first pointer, if any). nullopt with `error` set when bad.
std::optional<Name> read_name(std::span<const uint8_t> message, size_t& offset, ParseError& error);

// A query with one question, or nullopt with `error` set. The header alone (for a FORMERR
// or NOTIMP answer to what cannot be parsed) is read by parse_header.
std::optional<Query> parse_query(std::span<const uint8_t> message, ParseError& error);

struct Header {
  uint16_t id = 0;
  bool qr = false;
  uint8_t opcode = 0;
  bool rd = false;
  uint16_t qdcount = 0;
};
std::optional<Header> parse_header(std::span<const uint8_t> message);

// The response to `query`: its question echoed, `rcode`, and one answer record per address
// (A for IPv4, AAAA for IPv6, the owner name a pointer to the question's name), with `ttl`.
std::vector<uint8_t> build_response(const Query& query, Rcode rcode,
                                    std::span<const IpAddr> answers, uint32_t ttl);
// A response without a question, for a query that could not be parsed (FORMERR) or whose
// opcode is not supported (NOTIMP): the ID and opcode are echoed (RFC 1035 §4.1.1).
std::vector<uint8_t> build_header_only(const Header& header, Rcode rcode);

// The response to a PTR query (RFC 1035 §3.3.12): one record whose RDATA is `target`, a name
// in uncompressed wire form (encode_name), with `ttl`.
std::vector<uint8_t> build_ptr_response(const Query& query, std::span<const uint8_t> target,
                                        uint32_t ttl);

// The wire form of a name written as labels joined by '.' (a trailing dot allowed; no escapes):
// nullopt for an empty label, a label over 63 octets, a name over 255, or a backslash.
std::optional<std::vector<uint8_t>> encode_name(std::string_view name);

// A query (RD set) for `name` of `qtype`: for tests and for seeding the fuzzer. nullopt
// when a label is longer than 63 octets or the name longer than 255.
std::optional<std::vector<uint8_t>> build_query(uint16_t id, std::string_view name, uint16_t qtype);

}  // namespace utcp::proxy::dns
