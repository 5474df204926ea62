// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Why a packet was rejected by a wire parser; the stack counts drops by this reason.
#include <cstdint>
#include <string_view>

namespace utcp::wire {

enum class ParseError : uint8_t {
  kTruncated,        // buffer shorter than the fixed header or a length field says
  kBadVersion,       // IPv4 version != 4
  kBadHeaderLength,  // IPv4 IHL < 5, or TCP data offset < 5 or past the buffer
  kBadTotalLength,   // IPv4 total length < header length or > buffer
  kBadChecksum,      // IPv4 header, ICMP or TCP checksum mismatch
  kBadOptions,       // malformed TCP option (length 0/1, runs past header, bad size)
  kUnsupported,      // well-formed but not a kind this layer handles
};

constexpr std::string_view to_string(ParseError e) {
  switch (e) {
    case ParseError::kTruncated:
      return "truncated";
    case ParseError::kBadVersion:
      return "bad-version";
    case ParseError::kBadHeaderLength:
      return "bad-header-length";
    case ParseError::kBadTotalLength:
      return "bad-total-length";
    case ParseError::kBadChecksum:
      return "bad-checksum";
    case ParseError::kBadOptions:
      return "bad-options";
    case ParseError::kUnsupported:
      return "unsupported";
  }
  return "unknown";
}

// A parse result: a value or the reason it was rejected. (std::expected is C++23.)
template <class T>
class Parsed {
 public:
  Parsed(T value) : value_(value), ok_(true) {}    // NOLINT(google-explicit-constructor)
  Parsed(ParseError e) : error_(e), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const T& value() const { return value_; }
  const T& operator*() const { return value_; }
  const T* operator->() const { return &value_; }
  ParseError error() const { return error_; }

 private:
  T value_{};
  ParseError error_{};
  bool ok_;
};

}  // namespace utcp::wire
