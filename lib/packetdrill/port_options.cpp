// SPDX-License-Identifier: BSD-2-Clause
#include "port_options.hpp"

#include <charconv>
#include <vector>

namespace utcp::packetdrill {

PortOptions::PortOptions() {
  stack.address = Ipv4Addr(192, 168, 0, 1);  // packetdrill's default local address
  // ... and with --ip_version=ipv6 (fd3d:fa7b:d17d::0, a unique local address of RFC 4193).
  stack.address6 = Ipv6Addr(0xfd3d, 0xfa7b, 0xd17d, 0, 0, 0, 0, 0);
  stack.secret = {0x75, 0x74, 0x63, 0x70, 0x2d, 0x64, 0x72, 0x69,
                  0x6c, 0x6c, 0x2d, 0x73, 0x65, 0x65, 0x64, 0x21};
}

namespace {

std::optional<int64_t> to_int(std::string_view v) {
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || out < 0) return std::nullopt;
  return out;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == ',' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != ',' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool is_numeric_key(std::string_view k) {
  for (std::string_view known :
       {"receive_wait_usecs", "mtu", "mss", "seed", "rto_min_usecs", "rto_initial_usecs",
        "delayed_ack_usecs", "msl_usecs", "window_scaling", "timestamps", "recv_buffer",
        "send_buffer", "recv_buffer_max", "syn_backlog", "syn_cookies", "synack_retries"}) {
    if (k == known) return true;
  }
  return false;
}

}  // namespace

std::optional<PortOptions> parse_port_flags(std::string_view flags, std::string& error) {
  PortOptions o;
  for (std::string_view w : words(flags)) {
    if (w.starts_with("--")) w.remove_prefix(2);
    const size_t eq = w.find('=');
    const std::string_view key = w.substr(0, eq);
    const std::string_view val = eq == std::string_view::npos ? "" : w.substr(eq + 1);
    auto number = [&](int64_t& out) {
      auto n = to_int(val);
      if (!n) {
        error = "bad value for " + std::string(key) + ": '" + std::string(val) + "'";
        return false;
      }
      out = *n;
      return true;
    };
    int64_t n = 0;
    if (key == "local_ip") {
      // Either family: an IPv6 address is the stack's IPv6 one (an IPv4-mapped one its IPv4).
      auto a = IpAddr::parse(val);
      if (!a) {
        error = "bad local_ip '" + std::string(val) + "'";
        return std::nullopt;
      }
      if (a->is_v6() && !a->v6().is_v4_mapped()) {
        o.stack.address6 = a->v6();
      } else {
        o.stack.address = a->is_v4() ? a->v4() : *a->v6().to_v4_mapped();
      }
    } else if (key == "real_time") {
      o.real_time = val.empty() || val == "1";
    } else if (key == "virtual_time") {
      o.real_time = false;
    } else if (key == "driven_clock") {
      o.driven_clock = val.empty() || val == "1";
    } else if (!is_numeric_key(key)) {
      error = "unknown flag '" + std::string(key) + "'";
      return std::nullopt;
    } else if (!number(n)) {
      return std::nullopt;
    } else if (key == "receive_wait_usecs") {
      o.receive_wait_usecs = n;
    } else if (key == "mtu") {
      if (n < 68 || n > 65535) return error = "mtu out of range", std::nullopt;
      o.mtu = static_cast<size_t>(n);
    } else if (key == "mss") {
      if (n < 1 || n > 65535) return error = "mss out of range", std::nullopt;
      o.stack.tcp.mss = static_cast<uint16_t>(n);
    } else if (key == "seed") {
      for (size_t i = 0; i < o.stack.secret.size(); ++i) {
        o.stack.secret[i] = static_cast<uint8_t>((n >> (8 * (i % 8))) ^ (i * 37));
      }
    } else if (key == "rto_min_usecs") {
      o.stack.tcp.rto_min = Duration(n);
    } else if (key == "rto_initial_usecs") {
      o.stack.tcp.rto_initial = Duration(n);
    } else if (key == "delayed_ack_usecs") {
      o.stack.tcp.delayed_ack = Duration(n);
    } else if (key == "msl_usecs") {
      o.stack.tcp.msl = Duration(n);
    } else if (key == "window_scaling") {
      o.stack.tcp.window_scaling = n != 0;
    } else if (key == "timestamps") {
      o.stack.tcp.timestamps = n != 0;
    } else if (key == "recv_buffer") {
      o.stack.tcp.recv_buffer = static_cast<size_t>(n);
    } else if (key == "recv_buffer_max") {
      o.stack.tcp.recv_buffer_max = static_cast<size_t>(n);
    } else if (key == "send_buffer") {
      o.stack.tcp.send_buffer = static_cast<size_t>(n);
    } else if (key == "syn_backlog") {
      o.stack.syn_backlog = static_cast<uint32_t>(n);
    } else if (key == "syn_cookies") {
      o.stack.syn_cookies = n != 0;
    } else if (key == "synack_retries") {
      o.stack.tcp.synack_retries = static_cast<uint32_t>(n);
    }
  }
  return o;
}

}  // namespace utcp::packetdrill
