// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The client side of a SOCKS5 handshake (RFC 1928 §3-6, RFC 1929), sans-IO: the caller writes
// output() to the server, feeds what it reads to input(), and watches state(). Method
// negotiation, then username/password authentication when credentials are given, then one
// request (CONNECT or UDP ASSOCIATE). By default messages are sent one at a time, each after the
// answer to the previous one (some servers drop bytes that arrive before they asked for them);
// Send::kPipelined sends the request right behind the greeting when no credentials are given (see
// the constructor). Whatever the server sends, the result is kDone or kFailed with a one-line
// error(); nothing is trusted.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "proxy_config.hpp"
#include "upstream_target.hpp"
#include "utcp/address.hpp"

namespace utcp::proxy {

class Socks5Handshake {
 public:
  enum class Command : uint8_t { kConnect = 1, kUdpAssociate = 3 };
  // kPipelined: with no credentials the greeting offers only "no authentication", whose
  // sub-negotiation is empty (RFC 1928 §3), so the request is known before the server answers
  // and goes out in the same write: one round trip to the server less per connection. The
  // server's answer is checked as before (X'FF' or an unoffered method still fail). With
  // credentials the server picks the method, so the messages go one at a time regardless.
  enum class Send : uint8_t { kStepByStep, kPipelined };

  // A target or credentials that cannot be encoded (a name or a user name longer than 255
  // bytes, an empty user name) leave the handshake kFailed at once, with nothing to send.
  Socks5Handshake(Command command, Target target, std::optional<Credentials> credentials,
                  Send send = Send::kStepByStep);

  std::span<const uint8_t> output() const;       // bytes to write to the server now
  void consume_output(size_t n);                 // that many were written
  size_t input(std::span<const uint8_t> bytes);  // bytes read; returns how many it used
                                                 // (the rest, after kDone, belong to the relay)
  HandshakeState state() const { return state_; }
  // RFC 1928 §6 REP (valid once kDone or a failed reply came; 0xff before that).
  uint8_t reply_code() const { return reply_; }
  bool got_reply() const { return got_reply_; }
  std::string error() const { return error_; }  // one line when kFailed
  // BND.ADDR:BND.PORT (the UDP relay endpoint for kUdpAssociate). A server that answered with a
  // name (ATYP 3) leaves bound().addr unspecified and the name in bound_domain().
  Endpoint bound() const { return bound_; }
  const std::string& bound_domain() const { return bound_domain_; }

  // RFC 1928 §6's words for a REP value ("connection refused", ...).
  static const char* reply_text(uint8_t rep);

 private:
  enum class Phase : uint8_t { kMethod, kAuth, kReply, kEnd };

  void fail(std::string why);
  void queue_request();
  // How many bytes of the current message are still needed, given what in_ holds; 0 when
  // in_ holds a whole message.
  size_t missing() const;
  void handle_message();

  Command command_;
  Target target_;
  std::optional<Credentials> credentials_;
  Phase phase_ = Phase::kMethod;
  HandshakeState state_ = HandshakeState::kInProgress;
  std::vector<uint8_t> out_;
  size_t out_sent_ = 0;
  std::vector<uint8_t> in_;  // the part of the current message read so far (< 263 bytes)
  uint8_t reply_ = 0xff;
  bool got_reply_ = false;
  bool request_sent_early_ = false;  // kPipelined: the request followed the greeting
  std::string error_;
  Endpoint bound_;
  std::string bound_domain_;
};

}  // namespace utcp::proxy
