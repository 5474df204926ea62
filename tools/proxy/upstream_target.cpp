// SPDX-License-Identifier: BSD-2-Clause
#include "upstream_target.hpp"

namespace utcp::proxy {

std::string target_text(const Target& target) {
  const std::string port = ":" + std::to_string(target.port);
  if (!target.domain.empty()) return target.domain + port;
  // RFC 3986 §3.2.2: an IPv6 literal in an authority is enclosed in brackets.
  if (target.addr.is_v6()) return "[" + target.addr.to_string() + "]" + port;
  return target.addr.to_string() + port;
}

}  // namespace utcp::proxy
