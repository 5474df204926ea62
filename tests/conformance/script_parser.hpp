// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Parses the packetdrill script language into a Script. Errors carry the line number.
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "script.hpp"

namespace utcp::drill {

struct ParseResult {
  std::optional<Script> script;
  std::string error;  // "file:line: message" when script is empty
};

// `defines` are -D NAME=VALUE pairs; $NAME and ${NAME} in the text are replaced by VALUE.
ParseResult parse_script(std::string_view text, const std::string& path,
                         const std::map<std::string, std::string>& defines = {});

// Named constants understood in socket-call arguments (SOCK_STREAM, POLLIN, ...).
std::optional<int64_t> lookup_constant(std::string_view name);
// errno names (EAGAIN, ...) to values, and back.
std::optional<int> errno_value(std::string_view name);
std::string errno_name(int value);

}  // namespace utcp::drill
