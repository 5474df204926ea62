// SPDX-License-Identifier: BSD-2-Clause
#include "http_connect_client.hpp"

#include <algorithm>

namespace utcp::proxy {

namespace {

// The authority is written into the request line and Host field, so it must be plain
// characters: no controls (CR LF would inject fields), spaces or separators of a request line.
bool safe_host(std::string_view host) {
  if (host.empty()) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != '/' && c != '@' && c != '?' && c != '#';
  });
}

// Where the header ends (the index after its blank line) in `s`, searching from `from`;
// npos if not yet. RFC 9112 §2.2: a recipient may take a bare LF as a line terminator.
size_t header_end(const std::string& s, size_t from) {
  for (size_t i = from; i < s.size(); ++i) {
    if (s[i] != '\n') continue;
    if (i >= 1 && s[i - 1] == '\n') return i + 1;
    if (i >= 2 && s[i - 1] == '\r' && s[i - 2] == '\n') return i + 1;
  }
  return std::string::npos;
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  return out;
}

}  // namespace

HttpConnectHandshake::HttpConnectHandshake(Target target, std::optional<Credentials> credentials) {
  if (!target.domain.empty() && !safe_host(target.domain)) {
    fail("http: the name \"" + printable(target.domain) + "\" cannot be sent in a CONNECT request");
    return;
  }
  if (credentials && credentials->user.find(':') != std::string::npos) {
    fail("http: a Basic user name cannot contain ':' (RFC 7617 §2)");
    return;
  }
  // RFC 9110 §9.3.6: the request target is the authority form host:port (RFC 9112 §3.2.3);
  // Host carries the same (RFC 9112 §3.2).
  const std::string authority = target_text(target);
  out_ = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  if (credentials) {
    // RFC 9110 §11.7.2 Proxy-Authorization with the Basic scheme (RFC 7617 §2).
    out_ += "Proxy-Authorization: Basic " + base64(credentials->user + ":" + credentials->pass) +
            "\r\n";
  }
  out_ += "\r\n";
}

std::span<const uint8_t> HttpConnectHandshake::output() const {
  return {reinterpret_cast<const uint8_t*>(out_.data()) + out_sent_, out_.size() - out_sent_};
}

void HttpConnectHandshake::consume_output(size_t n) {
  out_sent_ = std::min(out_.size(), out_sent_ + n);
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_.shrink_to_fit();
    out_sent_ = 0;
  }
}

size_t HttpConnectHandshake::input(std::span<const uint8_t> bytes) {
  size_t used = 0;
  while (state_ == HandshakeState::kInProgress && used < bytes.size()) {
    const size_t before = head_.size();
    // Never hold more than the limit (plus one byte to tell it was passed).
    const size_t take = std::min(bytes.size() - used, kMaxHeader + 1 - before);
    head_.append(reinterpret_cast<const char*>(bytes.data()) + used, take);
    const size_t end = header_end(head_, before >= 2 ? before - 2 : 0);
    if (end == std::string::npos) {
      used += take;
      if (head_.size() > kMaxHeader) {
        fail("http: the proxy's response header is longer than " +
             std::to_string(kMaxHeader / 1024) + " KiB");
      }
      continue;
    }
    used += end - before;  // what follows the blank line is not the header's
    head_.resize(end);
    handle_header();
  }
  return used;
}

void HttpConnectHandshake::fail(std::string why) {
  state_ = HandshakeState::kFailed;
  error_ = std::move(why);
  out_.clear();
  out_sent_ = 0;
}

void HttpConnectHandshake::handle_header() {
  // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ].
  const std::string line = head_.substr(0, head_.find('\n'));
  const bool shaped = line.size() >= 12 && line.compare(0, 7, "HTTP/1.") == 0 && line[7] >= '0' &&
                      line[7] <= '9' && line[8] == ' ' &&
                      std::all_of(line.begin() + 9, line.begin() + 12,
                                  [](char c) { return c >= '0' && c <= '9'; }) &&
                      (line.size() == 12 || line[12] == ' ' || line[12] == '\r');
  if (!shaped) {
    fail("http: not an HTTP/1.x status line from the proxy: \"" + printable(line) + "\"");
    return;
  }
  const int code = std::stoi(line.substr(9, 3));
  std::string reason = line.size() > 13 ? line.substr(13) : "";
  if (!reason.empty() && reason.back() == '\r') reason.pop_back();
  head_.clear();
  if (code >= 100 && code < 200) {
    // RFC 9110 §15.2: interim responses precede the final one; a 101 would switch protocols,
    // which a CONNECT does not ask for.
    if (code == 101) fail("http: the proxy answered 101 Switching Protocols to CONNECT");
    return;
  }
  status_ = code;
  if (code >= 200 && code < 300) {
    // RFC 9110 §9.3.6: any 2xx means the tunnel is open; its Content-Length and
    // Transfer-Encoding are ignored, and the next byte is the target's.
    head_.shrink_to_fit();
    state_ = HandshakeState::kDone;
    return;
  }
  std::string why = "http: the proxy answered " + std::to_string(code);
  if (!reason.empty()) why += " " + printable(reason);
  if (code == 407) why += " (check --proxy-user and --proxy-pass)";
  fail(why);
}

std::string HttpConnectHandshake::base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = uint32_t{static_cast<uint8_t>(bytes[i])} << 16 |
                       uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8 |
                       static_cast<uint8_t>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  // RFC 4648 §4: a final group of one or two bytes is padded with '='.
  if (const size_t rest = bytes.size() - i; rest > 0) {
    uint32_t v = uint32_t{static_cast<uint8_t>(bytes[i])} << 16;
    if (rest == 2) v |= uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace utcp::proxy
