// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Runs one parsed script against utcp through the packetdrill port (the same table
// packetdrill loads), on the port's virtual clock.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "script.hpp"
#include "utcp/address.hpp"

namespace utcp::drill {

struct RunConfig {
  int64_t tolerance_usecs = 4000;
  double tolerance_percent = 0;      // of the time since the previous event, if larger
  bool strict_segments = false;      // no merging of consecutive outbound segments
  int64_t end_wait_usecs = 500'000;  // after the last event, nothing unexpected may come this long
  // packetdrill's --ip_version: IPv4 packets and AF_INET sockets; IPv4 packets and AF_INET6
  // sockets naming ::ffff:a.b.c.d (ipv4-mapped-ipv6); IPv6 packets and AF_INET6 sockets.
  enum class IpVersion { kIpv4, kIpv4MappedIpv6, kIpv6 };
  IpVersion ip_version = IpVersion::kIpv4;
  // Set by --local_ip / --remote_ip; else packetdrill's defaults for the IP version.
  std::optional<IpAddr> local_ip_set;
  std::optional<IpAddr> remote_ip_set;
  // The addresses on the wire: 192.168.0.1 and 192.0.2.1, or with ipv6 fd3d:fa7b:d17d:: and
  // 2001:db8::1.
  IpAddr local_ip() const;
  IpAddr remote_ip() const;
  uint16_t bind_port = 8080;
  uint16_t connect_port = 8080;
  std::string so_path;   // a shared object to load instead of the linked-in port
  std::string so_flags;  // extra port flags (see lib/packetdrill/port_options.hpp)
  bool verbose = false;
};

// Applies `--name=value` lines (from the script or the command line). False with `error`
// for an unknown option or a bad value.
bool apply_option(RunConfig& cfg, const std::string& name, const std::string& value,
                  std::string& error);

enum class Outcome { kPass, kFail, kSkip };

struct RunResult {
  Outcome outcome = Outcome::kFail;
  std::string message;  // why it failed or was skipped
};

RunResult run_script(const Script& script, const RunConfig& cfg, std::ostream& log);

}  // namespace utcp::drill
