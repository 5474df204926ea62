// SPDX-License-Identifier: BSD-2-Clause
#include "socks5_client.hpp"

#include <algorithm>
#include <array>

namespace utcp::proxy {

namespace {
constexpr uint8_t kVersion = 5;            // RFC 1928 §3 VER
constexpr uint8_t kMethodNone = 0x00;      // RFC 1928 §3 NO AUTHENTICATION REQUIRED
constexpr uint8_t kMethodUserPass = 0x02;  // RFC 1928 §3 USERNAME/PASSWORD (RFC 1929)
constexpr uint8_t kMethodNoneAcceptable = 0xff;
constexpr uint8_t kAuthVersion = 1;  // RFC 1929 §2 VER of the subnegotiation
constexpr uint8_t kAtypV4 = 1;       // RFC 1928 §5
constexpr uint8_t kAtypDomain = 3;
constexpr uint8_t kAtypV6 = 4;
}  // namespace

Socks5Handshake::Socks5Handshake(Command command, Target target,
                                 std::optional<Credentials> credentials, Send send)
    : command_(command), target_(std::move(target)), credentials_(std::move(credentials)) {
  // RFC 1928 §5: a domain name is one length octet and at most 255 octets of name.
  if (target_.domain.size() > 255) {
    fail("socks5: the name " + target_.domain.substr(0, 40) + "... is longer than 255 bytes");
    return;
  }
  if (credentials_) {
    // RFC 1929 §2: UNAME and PASSWD are each 1 to 255 octets.
    if (credentials_->user.empty() || credentials_->user.size() > 255) {
      fail("socks5: the user name must be 1 to 255 bytes (RFC 1929)");
      return;
    }
    if (credentials_->pass.empty() || credentials_->pass.size() > 255) {
      fail("socks5: the password must be 1 to 255 bytes (RFC 1929)");
      return;
    }
  }
  // RFC 1928 §3: VER, NMETHODS, METHODS. With credentials both are offered, so a server that
  // needs no authentication still works; without, only "none" (a server that insists on a
  // password then answers X'FF').
  out_ = {kVersion, 1, kMethodNone};
  if (credentials_) out_ = {kVersion, 2, kMethodNone, kMethodUserPass};
  if (send == Send::kPipelined && !credentials_) {
    // Only "none" offered: its sub-negotiation is empty, so the request comes next whatever
    // the server says (if it refuses the method, the request is never read).
    queue_request();
    phase_ = Phase::kMethod;
    request_sent_early_ = true;
  }
}

std::span<const uint8_t> Socks5Handshake::output() const {
  return std::span<const uint8_t>(out_).subspan(out_sent_);
}

void Socks5Handshake::consume_output(size_t n) {
  out_sent_ = std::min(out_.size(), out_sent_ + n);
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  }
}

size_t Socks5Handshake::input(std::span<const uint8_t> bytes) {
  size_t used = 0;
  while (state_ == HandshakeState::kInProgress && used < bytes.size()) {
    const size_t take = std::min(missing(), bytes.size() - used);
    in_.insert(in_.end(), bytes.begin() + static_cast<ptrdiff_t>(used),
               bytes.begin() + static_cast<ptrdiff_t>(used + take));
    used += take;
    if (missing() == 0) handle_message();
  }
  return used;
}

void Socks5Handshake::fail(std::string why) {
  state_ = HandshakeState::kFailed;
  phase_ = Phase::kEnd;
  error_ = std::move(why);
  out_.clear();
  out_sent_ = 0;
}

size_t Socks5Handshake::missing() const {
  const size_t have = in_.size();
  switch (phase_) {
    case Phase::kMethod:  // RFC 1928 §3: VER, METHOD
    case Phase::kAuth:    // RFC 1929 §2: VER, STATUS
      return 2 - have;
    case Phase::kReply: {  // RFC 1928 §6: VER REP RSV ATYP BND.ADDR BND.PORT
      if (have < 2) return 2 - have;
      // A wrong version or a failure code is final: many servers close right after the two
      // bytes that say so, so do not wait for the rest.
      if (in_[0] != kVersion || in_[1] != 0) return 0;
      if (have < 4) return 4 - have;
      size_t total = 0;
      switch (in_[3]) {
        case kAtypV4:
          total = 4 + 4 + 2;
          break;
        case kAtypV6:
          total = 4 + 16 + 2;
          break;
        case kAtypDomain:
          if (have < 5) return 5 - have;
          total = 5 + size_t{in_[4]} + 2;
          break;
        default:
          return 0;  // an unknown ATYP: handle_message() fails it
      }
      return total - have;
    }
    case Phase::kEnd:
      return 0;
  }
  return 0;
}

void Socks5Handshake::queue_request() {
  // RFC 1928 §4: VER CMD RSV ATYP DST.ADDR DST.PORT.
  // Reserved for the longest request first (a 255-byte name): g++ 12 -O3 otherwise warns
  // falsely (-Wstringop-overflow) on inserts into the 3-byte vector.
  std::vector<uint8_t> m;
  m.reserve(4 + 1 + 255 + 2);
  m.push_back(kVersion);
  m.push_back(static_cast<uint8_t>(command_));
  m.push_back(0);
  if (!target_.domain.empty()) {
    m.push_back(kAtypDomain);
    m.push_back(static_cast<uint8_t>(target_.domain.size()));
    m.insert(m.end(), target_.domain.begin(), target_.domain.end());
  } else if (target_.addr.is_v4()) {
    m.push_back(kAtypV4);
    const auto& b = target_.addr.bytes16();
    m.insert(m.end(), b.begin() + 12, b.end());
  } else {
    m.push_back(kAtypV6);
    const auto& b = target_.addr.bytes16();
    m.insert(m.end(), b.begin(), b.end());
  }
  m.push_back(static_cast<uint8_t>(target_.port >> 8));
  m.push_back(static_cast<uint8_t>(target_.port));
  out_.insert(out_.end(), m.begin(), m.end());
  phase_ = Phase::kReply;
}

void Socks5Handshake::handle_message() {
  const std::vector<uint8_t> m = std::move(in_);
  in_.clear();
  switch (phase_) {
    case Phase::kMethod: {
      if (m[0] != kVersion) {
        fail("socks5: the server answered version " + std::to_string(m[0]) +
             ", not 5 (not a SOCKS5 server?)");
        return;
      }
      if (m[1] == kMethodNone) {
        if (request_sent_early_) {
          phase_ = Phase::kReply;
        } else {
          queue_request();
        }
      } else if (m[1] == kMethodUserPass && credentials_) {
        // RFC 1929 §2: VER ULEN UNAME PLEN PASSWD.
        out_.push_back(kAuthVersion);
        out_.push_back(static_cast<uint8_t>(credentials_->user.size()));
        out_.insert(out_.end(), credentials_->user.begin(), credentials_->user.end());
        out_.push_back(static_cast<uint8_t>(credentials_->pass.size()));
        out_.insert(out_.end(), credentials_->pass.begin(), credentials_->pass.end());
        phase_ = Phase::kAuth;
      } else if (m[1] == kMethodNoneAcceptable) {
        fail(credentials_ ? "socks5: the server accepts none of our authentication methods"
                          : "socks5: the server requires authentication (give --socks-user and "
                            "--socks-pass)");
      } else {
        fail("socks5: the server chose authentication method " + std::to_string(m[1]) +
             ", which was not offered");
      }
      return;
    }
    case Phase::kAuth:
      // RFC 1929 §2: STATUS X'00' is success, anything else failure (the server then closes).
      // The version byte is 1; some servers echo 5, which is accepted as harmless.
      if (m[0] != kAuthVersion && m[0] != kVersion) {
        fail("socks5: bad authentication reply version " + std::to_string(m[0]));
      } else if (m[1] != 0) {
        fail("socks5: authentication failed (bad user name or password)");
      } else {
        queue_request();
      }
      return;
    case Phase::kReply: {
      if (m[0] != kVersion) {
        fail("socks5: the reply has version " + std::to_string(m[0]) + ", not 5");
        return;
      }
      reply_ = m[1];
      got_reply_ = true;
      if (m[1] != 0) {
        fail(std::string("socks5: the server answered: ") + reply_text(m[1]) + " (REP " +
             std::to_string(m[1]) + ")");
        return;
      }
      const uint8_t atyp = m[3];
      if (atyp == kAtypV4) {
        bound_.addr = Ipv4Addr(m[4], m[5], m[6], m[7]);
      } else if (atyp == kAtypV6) {
        bound_.addr = Ipv6Addr::from_bytes(&m[4]);
      } else if (atyp == kAtypDomain) {
        bound_domain_.assign(m.begin() + 5, m.begin() + 5 + m[4]);
      } else {
        fail("socks5: the reply has unknown address type " + std::to_string(atyp));
        return;
      }
      bound_.port = static_cast<uint16_t>(m[m.size() - 2] << 8 | m[m.size() - 1]);
      state_ = HandshakeState::kDone;
      phase_ = Phase::kEnd;
      return;
    }
    case Phase::kEnd:
      return;
  }
}

const char* Socks5Handshake::reply_text(uint8_t rep) {
  // RFC 1928 §6.
  switch (rep) {
    case 0:
      return "succeeded";
    case 1:
      return "general SOCKS server failure";
    case 2:
      return "connection not allowed by ruleset";
    case 3:
      return "network unreachable";
    case 4:
      return "host unreachable";
    case 5:
      return "connection refused";
    case 6:
      return "TTL expired";
    case 7:
      return "command not supported";
    case 8:
      return "address type not supported";
    default:
      return "unassigned reply code";
  }
}

}  // namespace utcp::proxy
