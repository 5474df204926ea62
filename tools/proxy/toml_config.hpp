// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// utcp-proxy --config FILE: a TOML file (tomlplusplus) whose keys are the long flag names, read
// by CLI11 as its configuration, so the command line wins over the file:
//
//   socks5 = "10.80.0.2:1080"
//   route = ["10.81.0.0/24", "2001:db8::/32"]   # a repeatable flag: an array
//   auto-route = true                           # a flag: a boolean
//   max-sessions = 2000                         # numbers as such (or as strings)
//
// Errors (syntax, an unknown key, a value of a kind no flag takes) are CLI::ConfigError naming
// the file, line and column: "proxy.toml:3:9: ...". Built without tomlplusplus, reading a file
// throws CLI::FileError "built without TOML support".
#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace utcp::proxy {

// The formatter for app.config_formatter(). With `app` (which must outlive it) a key that
// names none of app's options is an error at the key's line and column; without, unknown keys
// are left to CLI11 (app.allow_config_extras(CLI::config_extras_mode::error) refuses them,
// without a position).
std::shared_ptr<CLI::Config> make_toml_config(const CLI::App* app = nullptr);

// All of it at once: adds the option `flag` (default --config FILE) to `app`, sets the TOML
// formatter bound to `app`, and refuses unknown keys. Returns the option.
CLI::Option* add_toml_config_option(CLI::App& app, const std::string& flag = "--config");

// Whether this build reads TOML (tomlplusplus was found).
bool toml_supported();

}  // namespace utcp::proxy
