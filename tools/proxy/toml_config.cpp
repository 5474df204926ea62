// SPDX-License-Identifier: BSD-2-Clause
#include "toml_config.hpp"

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <fstream>
#include <istream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#ifdef UTCP_HAVE_TOML
#include <toml++/toml.h>
#endif

namespace utcp::proxy {

namespace {

// The path of the file CLI11 opened (Config::from_file hands over only the stream): the
// descriptor under the std::ifstream, read back through /proc. libstdc++ keeps it in the
// filebuf's protected _M_file, reached here through a member pointer formed in a derived
// class (no cast of the object). "" where that is not available.
#ifdef __GLIBCXX__
struct FilebufFd : std::filebuf {
  static int fd(std::filebuf& buf) { return (buf.*(&FilebufFd::_M_file)).fd(); }
};
#endif

std::string stream_path(std::istream& input) {
#ifdef __GLIBCXX__
  auto* file = dynamic_cast<std::ifstream*>(&input);
  if (file == nullptr) return "";
  const int fd = FilebufFd::fd(*file->rdbuf());
  if (fd < 0) return "";
  char path[PATH_MAX];
  const ssize_t n =
      ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), path, sizeof path - 1);
  if (n <= 0) return "";
  return std::string(path, static_cast<size_t>(n));
#else
  (void)input;
  return "";
#endif
}

// A TOML basic string, with the escapes TOML 1.0 ("String") requires.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// A value written back: numbers bare, everything else a string.
std::string toml_value(const std::string& v) {
  if (!v.empty() && v.size() < 19 && v.find_first_not_of("0123456789") == std::string::npos &&
      (v == "0" || v[0] != '0')) {
    return v;
  }
  return quoted(v);
}

class TomlConfig final : public CLI::Config {
 public:
  explicit TomlConfig(const CLI::App* app) : app_(app) {}

  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;

  // The options given (or, with default_also, their defaults) as a TOML file that
  // from_config reads back.
  std::string to_config(const CLI::App* app, bool default_also, bool write_description,
                        std::string prefix) const override {
    std::ostringstream out;
    for (const CLI::Option* opt : app->get_options()) {
      if (!opt->get_configurable() || opt->get_lnames().empty()) continue;
      const std::string& name = opt->get_lnames().front();
      if (name == "help" || name == "version") continue;
      std::vector<std::string> values = opt->results();
      if (values.empty() && default_also && !opt->get_default_str().empty()) {
        values.push_back(opt->get_default_str());
      }
      if (values.empty()) continue;
      if (write_description && !opt->get_description().empty()) {
        out << "# " << opt->get_description() << "\n";
      }
      out << prefix << name << " = ";
      if (opt->get_expected_max() == 0) {
        // A flag: true unless its one result says otherwise.
        out << (values.back() == "false" || values.back() == "0" ? "false" : "true");
      } else if (values.size() > 1 || opt->get_expected_max() > 1) {
        out << "[";
        for (size_t i = 0; i < values.size(); ++i) out << (i ? ", " : "") << toml_value(values[i]);
        out << "]";
      } else {
        out << toml_value(values.front());
      }
      out << "\n";
    }
    return out.str();
  }

 private:
  const CLI::App* app_;
};

#ifdef UTCP_HAVE_TOML

std::string where(const std::string& file, const toml::source_region& src) {
  return (file.empty() ? std::string("config") : file) + ":" + std::to_string(src.begin.line) +
         ":" + std::to_string(src.begin.column);
}

// The string CLI11 parses a flag's value from, for one TOML scalar; nullopt for a table, an
// array or a date/time, which no flag takes.
std::optional<std::string> scalar_text(const toml::node& node) {
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* b = node.as_boolean()) return std::string(b->get() ? "true" : "false");
  if (const auto* f = node.as_floating_point()) {
    std::ostringstream out;
    out.precision(17);
    out << f->get();
    return out.str();
  }
  return std::nullopt;
}

// Whether `name` is a key CLI11 will find an option for (App::_parse_single_config looks up
// --name, then -n for one letter, then the bare name of a positional).
bool known_key(const CLI::App& app, const std::string& name) {
  const CLI::Option* op = app.get_option_no_throw("--" + name);
  if (op == nullptr && name.size() == 1) op = app.get_option_no_throw("-" + name);
  if (op == nullptr) op = app.get_option_no_throw(name);
  return op != nullptr;
}

void add_items(const toml::table& table, std::vector<std::string> parents, const CLI::App* app,
               const std::string& file, std::vector<CLI::ConfigItem>& items) {
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    if (const auto* sub = node.as_table()) {
      // A [section]: the options of the subcommand of that name.
      const CLI::App* subapp = nullptr;
      if (app != nullptr) {
        try {
          subapp = app->get_subcommand(name);
        } catch (const CLI::OptionNotFound&) {
          throw CLI::ConfigError(where(file, key.source()) + ": unknown section [" + name + "]");
        }
      }
      std::vector<std::string> p = parents;
      p.push_back(name);
      add_items(*sub, p, subapp, file, items);
      continue;
    }
    if (app != nullptr && !known_key(*app, name)) {
      throw CLI::ConfigError(where(file, key.source()) + ": unknown key '" + name +
                             "' (keys are the long flag names, e.g. socks5, route)");
    }
    CLI::ConfigItem item;
    item.parents = parents;
    item.name = name;
    if (const auto* array = node.as_array()) {
      // A repeatable flag: one result per element.
      for (const toml::node& element : *array) {
        const auto text = scalar_text(element);
        if (!text) {
          throw CLI::ConfigError(where(file, element.source()) + ": '" + name +
                                 "' takes strings, numbers or booleans");
        }
        item.inputs.push_back(*text);
      }
    } else if (const auto text = scalar_text(node)) {
      item.inputs.push_back(*text);
    } else {
      throw CLI::ConfigError(where(file, node.source()) + ": '" + name +
                             "' takes a string, a number, a boolean or an array of them");
    }
    items.push_back(std::move(item));
  }
}

std::vector<CLI::ConfigItem> TomlConfig::from_config(std::istream& input) const {
  const std::string file = stream_path(input);
  toml::table table;
  try {
    table = toml::parse(input, file);
  } catch (const toml::parse_error& e) {
    // One line: tomlplusplus quotes what it saw, which may be a line break.
    std::string what(e.description());
    for (char& c : what) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    throw CLI::ConfigError(where(file, e.source()) + ": " + what);
  }
  std::vector<CLI::ConfigItem> out;
  add_items(table, {}, app_, file, out);
  return out;
}

#else  // no tomlplusplus

std::vector<CLI::ConfigItem> TomlConfig::from_config(std::istream& input) const {
  const std::string file = stream_path(input);
  throw CLI::FileError((file.empty() ? std::string("--config") : file) +
                           ": built without TOML support (apt-get install libtomlplusplus-dev "
                           "and rebuild)",
                       CLI::ExitCodes::FileError);
}

#endif

}  // namespace

std::shared_ptr<CLI::Config> make_toml_config(const CLI::App* app) {
  return std::make_shared<TomlConfig>(app);
}

CLI::Option* add_toml_config_option(CLI::App& app, const std::string& flag) {
  CLI::Option* opt = app.set_config(
      flag, "", "read flags from a TOML file (keys: the long flag names; the command line wins)");
  app.config_formatter(make_toml_config(&app));
  app.allow_config_extras(CLI::config_extras_mode::error);
  return opt;
}

bool toml_supported() {
#ifdef UTCP_HAVE_TOML
  return true;
#else
  return false;
#endif
}

}  // namespace utcp::proxy
