// SPDX-License-Identifier: BSD-2-Clause
// utcp-drill: runs packetdrill scripts against utcp on virtual time.
//   utcp-drill [--tolerance_usecs=N] [-D NAME=VALUE] [--so=lib.so] [--so_flags=...]
//              [--known_failures=FILE] [--seed=N] [-v] script.pkt...
// The seed (default 1, or $UTCP_TEST_SEED) keys the stack's ISNs and ports and is printed first.
// Prints one line per script (PASS, FAIL, XFAIL, XPASS, SKIP), the reason for anything that
// did not pass, and a closing "N passed, N failed" line. Exit status: 0 when nothing failed,
// 1 otherwise, 2 for a bad command line, 77 when every script was skipped. --help lists the
// options.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "runner.hpp"
#include "script_parser.hpp"

namespace {

using utcp::drill::Outcome;

std::map<std::string, std::string> load_known_failures(const std::string& path, bool& ok) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  ok = static_cast<bool>(in);
  std::string line;
  while (std::getline(in, line)) {
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    const size_t sp = line.find_first_of(" \t", start);
    const std::string name = line.substr(start, sp - start);
    std::string why = sp == std::string::npos ? "" : line.substr(sp);
    why.erase(0, why.find_first_not_of(" \t"));
    out[name] = why;
  }
  return out;
}

#ifndef UTCP_TOOLS_VERSION
#define UTCP_TOOLS_VERSION "unknown"
#endif

constexpr const char* kUsage = "usage: utcp-drill [OPTIONS] script.pkt...\n";

constexpr const char* kHelp =
    "Runs packetdrill scripts against utcp on virtual time: one line per script (PASS, FAIL,\n"
    "XFAIL, XPASS, SKIP), the reason for anything that did not pass, then N passed, N failed.\n"
    "\n"
    "Options (also allowed as --name=value lines in a script):\n"
    "  --tolerance_usecs=N    how far an event may be from its script time (default 4000)\n"
    "  --tolerance_percent=N  or this percentage of the time since the previous event\n"
    "  --strict_segments      expect each outbound segment as written (no merging)\n"
    "  --local_ip=ADDR        utcp's address (default 192.168.0.1; ipv6: fd3d:fa7b:d17d::)\n"
    "  --remote_ip=ADDR       the script's side (default 192.0.2.1; ipv6: 2001:db8::1)\n"
    "  --bind_port=N          port of the script's bind() (default 8080)\n"
    "  --connect_port=N       port of the script's connect() (default 8080)\n"
    "  --end_wait_usecs=N     after the last event nothing unexpected may come this long\n"
    "                         (default 500000)\n"
    "  --ip_version=V         ipv4 (default), ipv4-mapped-ipv6 (AF_INET6 sockets naming\n"
    "                         ::ffff:a.b.c.d, IPv4 packets) or ipv6\n"
    "  --so_flags=FLAGS       flags for the packetdrill port (lib/packetdrill/port_options.hpp)\n"
    "Command line only:\n"
    "  -D NAME=VALUE          replace $NAME and ${NAME} in the scripts\n"
    "  --so=LIB.so            drive the stack through this shared object (as packetdrill's\n"
    "                         --so_filename) instead of the linked-in port\n"
    "  --known_failures=FILE  scripts listed there (name, reason) fail as XFAIL, not FAIL\n"
    "  --seed=N               key of ISNs and ports (default 1 or $UTCP_TEST_SEED)\n"
    "  -v, --verbose          every event as it runs\n"
    "  -h, --help             this text\n"
    "  --version              the version\n"
    "\n"
    "Exit status: 0 when nothing failed, 1 when a script failed, 2 for a bad command line,\n"
    "77 when every script was skipped.\n";

// A bad command line: one line on stderr, exit status 2.
int usage_error(const std::string& why) {
  std::cerr << "utcp-drill: " << why << " (see --help)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  utcp::drill::RunConfig cfg;
  std::map<std::string, std::string> defines;
  std::map<std::string, std::string> known;
  std::vector<std::string> scripts;
  // The seed keys the stack's ISNs and ports; scripts must pass with any of them.
  std::string seed = "1";
  if (const char* env = std::getenv("UTCP_TEST_SEED")) seed = env;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-v" || a == "--verbose") {
      cfg.verbose = true;
    } else if (a == "-D" || a.starts_with("-D")) {
      std::string def = a == "-D" ? (i + 1 < argc ? argv[++i] : "") : a.substr(2);
      const size_t eq = def.find('=');
      if (def.empty() || eq == 0) return usage_error("-D needs NAME=VALUE");
      defines[def.substr(0, eq)] = eq == std::string::npos ? "1" : def.substr(eq + 1);
    } else if (a.starts_with("--so=") || a.starts_with("--so_filename=")) {
      cfg.so_path = a.substr(a.find('=') + 1);
    } else if (a.starts_with("--seed=")) {
      seed = a.substr(7);
      if (seed.empty() || seed.find_first_not_of("0123456789") != std::string::npos) {
        return usage_error("--seed needs a number, not '" + seed + "'");
      }
    } else if (a.starts_with("--known_failures=")) {
      bool ok = false;
      known = load_known_failures(a.substr(a.find('=') + 1), ok);
      if (!ok) return usage_error("cannot read " + a.substr(a.find('=') + 1));
    } else if (a == "-h" || a == "--help") {
      std::cout << kUsage << kHelp;
      return 0;
    } else if (a == "--version") {
      std::cout << "utcp-drill " << UTCP_TOOLS_VERSION << "\n";
      return 0;
    } else if (a.starts_with("--")) {
      const size_t eq = a.find('=');
      std::string error;
      if (!utcp::drill::apply_option(cfg, a.substr(2, eq - 2),
                                     eq == std::string::npos ? "" : a.substr(eq + 1), error)) {
        return usage_error(error);
      }
    } else if (a.size() > 1 && a[0] == '-') {
      return usage_error("unknown option " + a);
    } else {
      scripts.push_back(a);
    }
  }
  if (scripts.empty()) return usage_error("no script given");
  cfg.so_flags += " seed=" + seed;
  std::cout << "utcp-drill: seed " << seed << " (replay with --seed=" << seed << ")\n";
  int passed = 0, failed = 0, xfailed = 0, skipped = 0;
  for (const std::string& path : scripts) {
    std::ifstream in(path);
    if (!in) {
      std::cout << "FAIL  " << path << "\n  cannot read the file\n";
      ++failed;
      continue;
    }
    std::stringstream text;
    text << in.rdbuf();
    const std::string name = std::filesystem::path(path).filename().string();
    auto parsed = utcp::drill::parse_script(text.str(), path, defines);
    utcp::drill::RunResult r;
    if (!parsed.script) {
      r = {Outcome::kFail, parsed.error};
    } else {
      r = utcp::drill::run_script(*parsed.script, cfg, std::cout);
    }
    auto k = known.find(name);
    switch (r.outcome) {
      case Outcome::kPass:
        if (k != known.end()) {
          std::cout << "XPASS " << path << "\n  listed as a known failure (" << k->second
                    << ") but passes: remove it from the list\n";
          ++failed;
        } else {
          std::cout << "PASS  " << path << "\n";
          ++passed;
        }
        break;
      case Outcome::kFail:
        if (k != known.end()) {
          std::cout << "XFAIL " << path << "  [known: " << k->second << "]\n  " << r.message
                    << "\n";
          ++xfailed;
        } else {
          std::cout << "FAIL  " << path << "\n  " << r.message << "\n";
          ++failed;
        }
        break;
      case Outcome::kSkip:
        std::cout << "SKIP  " << path << "  " << r.message << "\n";
        ++skipped;
        break;
    }
  }
  std::cout << passed << " passed, " << failed << " failed";
  if (xfailed) std::cout << " (" << xfailed << " xfail)";
  if (skipped) std::cout << " (" << skipped << " skipped)";
  std::cout << "\n";
  if (failed) return 1;
  if (skipped && !passed && !xfailed) return 77;
  return 0;
}
