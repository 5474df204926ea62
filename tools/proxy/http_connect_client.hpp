// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The client side of an HTTP CONNECT tunnel (RFC 9110 §9.3.6), sans-IO like Socks5Handshake:
// one request "CONNECT host:port HTTP/1.1" (with Basic proxy authentication, RFC 7617, when
// credentials are given), then the proxy's response header is read up to its blank line. A 2xx
// final status opens the tunnel; the bytes after the blank line are the tunnel's first bytes and
// are left to the caller. Interim 1xx responses are skipped (RFC 9110 §15.2). The header is
// bounded (kMaxHeader); whatever the proxy sends ends in kDone or kFailed with a one-line error.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "proxy_config.hpp"
#include "upstream_target.hpp"

namespace utcp::proxy {

class HttpConnectHandshake {
 public:
  static constexpr size_t kMaxHeader = 16 * 1024;

  // A name that cannot go into a request line (control characters, spaces, '/', empty after
  // a fake-IP lookup) or a user name with ':' (RFC 7617 §2) leaves it kFailed at once.
  HttpConnectHandshake(Target target, std::optional<Credentials> credentials);

  std::span<const uint8_t> output() const;
  void consume_output(size_t n);
  size_t input(std::span<const uint8_t> bytes);  // returns how many belong to the response
  HandshakeState state() const { return state_; }
  int status() const { return status_; }  // the final status code (0 before it came)
  std::string error() const { return error_; }

  // RFC 4648 §4 base64, as Basic authentication sends "user:pass" (RFC 7617 §2).
  static std::string base64(std::string_view bytes);

 private:
  void fail(std::string why);
  // A whole header (status line, fields, blank line) is in head_: act on its status.
  void handle_header();

  std::string out_;
  size_t out_sent_ = 0;
  std::string head_;  // the response header read so far
  HandshakeState state_ = HandshakeState::kInProgress;
  int status_ = 0;
  std::string error_;
};

}  // namespace utcp::proxy
