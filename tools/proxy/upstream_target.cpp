// SPDX-License-Identifier: BSD-2-Clause
#include "upstream_target.hpp"

namespace utcp::proxy {

std::string target_text(const Target& target) {
  // Appended piece by piece: g++ 12 -O3 warns falsely (-Wrestrict) on "literal" + std::string.
  std::string text;
  if (!target.domain.empty()) {
    text = target.domain;
  } else if (target.addr.is_v6()) {
    // RFC 3986 §3.2.2: an IPv6 literal in an authority is enclosed in brackets.
    text.push_back('[');
    text += target.addr.to_string();
    text.push_back(']');
  } else {
    text = target.addr.to_string();
  }
  text.push_back(':');
  text += std::to_string(target.port);
  return text;
}

}  // namespace utcp::proxy
