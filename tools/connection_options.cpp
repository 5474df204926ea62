// SPDX-License-Identifier: BSD-2-Clause
#include "connection_options.hpp"

#include <cmath>
#include <cstdlib>
#include <vector>

#include "base/plain_math.hpp"

namespace utcp::tools {

namespace {

Duration seconds(double s) {
  return Duration(round_to_int64(s * 1e6));
}

// A positive decimal number of at most 10^7, or nullopt.
std::optional<double> positive(const std::string& text) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !(v > 0) || v > 1e7) return std::nullopt;
  return v;
}

}  // namespace

std::optional<tcp::KeepaliveConfig> parse_keepalive(const std::string& text) {
  std::vector<std::string> parts;
  size_t pos = 0;
  for (;;) {
    const size_t comma = text.find(',', pos);
    parts.push_back(text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (parts.size() != 3) return std::nullopt;
  const auto idle = positive(parts[0]);
  const auto interval = positive(parts[1]);
  const auto count = positive(parts[2]);
  if (!idle || !interval || !count || *count != std::floor(*count) || *count > 255) {
    return std::nullopt;
  }
  tcp::KeepaliveConfig k;
  k.enabled = true;
  k.idle = seconds(*idle);
  k.interval = seconds(*interval);
  k.count = static_cast<uint32_t>(*count);
  return k;
}

TimeoutConfig ConnectionOptions::timeouts() const {
  return {.idle = seconds(idle_timeout_s), .header = seconds(header_timeout_s)};
}

std::optional<tcp::KeepaliveConfig> ConnectionOptions::keepalive_config() const {
  if (keepalive.empty()) return std::nullopt;
  return parse_keepalive(keepalive);
}

void ConnectionOptions::apply(Stack& stack, SocketId s) const {
  if (const auto k = keepalive_config()) stack.set_keepalive(s, *k);
}

void add_connection_options(CLI::App& app, ConnectionOptions& o, bool http) {
  const auto range = CLI::Range(0.0, 1e7);
  app.add_option("--idle-timeout", o.idle_timeout_s,
                 "close a connection after SECONDS with no data either way (0: never)")
      ->check(range)
      ->type_name("SECONDS");
  if (http) {
    app.add_option("--header-timeout", o.header_timeout_s,
                   "--http: close a connection whose request head is incomplete SECONDS after "
                   "it began (slowloris; 0: never)")
        ->check(range)
        ->type_name("SECONDS");
  }
  app.add_option("--keepalive", o.keepalive,
                 "TCP keepalive on every connection: probe after IDLE seconds without data, "
                 "every INTVL seconds, give up after CNT unanswered probes")
      ->type_name("IDLE,INTVL,CNT")
      ->check(
          [](const std::string& v) {
            return parse_keepalive(v) ? std::string() : "expected IDLE,INTVL,CNT, e.g. 60,10,5";
          },
          "IDLE,INTVL,CNT");
}

}  // namespace utcp::tools
