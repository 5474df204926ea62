// SPDX-License-Identifier: BSD-2-Clause
// utcp-proxy --config: a TOML file whose keys are the long flag names, read through CLI11 with
// the tomlplusplus formatter (tools/proxy/toml_config.hpp). A tiny CLI::App with flags of each
// kind stands in for the program.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "toml_config.hpp"

namespace utcp::proxy {
namespace {

struct Flags {
  std::string socks5;
  std::vector<std::string> route;
  bool auto_route = false;
  size_t max_sessions = 10;
  double idle = 0;
  int verbose = 0;
};

// A scratch file removed with the object.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/utcp-toml-test.XXXXXX";
    const int fd = ::mkstemp(name);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path_ = name;
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class TomlConfigTest : public ::testing::Test {
 protected:
  TomlConfigTest() {
    app_.add_option("--socks5", f_.socks5);
    app_.add_option("--route", f_.route)->allow_extra_args(false);
    app_.add_flag("--auto-route", f_.auto_route);
    app_.add_option("--max-sessions", f_.max_sessions);
    app_.add_option("--idle-timeout", f_.idle);
    app_.add_flag("-v,--verbose", f_.verbose);
    add_toml_config_option(app_);
  }

  // Parses `args` (after the program name) with `toml` as the --config file.
  void parse(const std::string& toml, std::vector<std::string> args = {}) {
    file_ = std::make_unique<TempFile>(toml);
    std::vector<std::string> argv = {"--config", file_->path()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::reverse(argv.begin(), argv.end());  // CLI11 takes a vector in reverse order
    app_.parse(argv);
  }

  // The message of the ConfigError parsing `toml` throws ("" if none).
  std::string config_error(const std::string& toml) {
    try {
      parse(toml);
    } catch (const CLI::ConfigError& e) {
      return e.what();
    }
    return "";
  }

  CLI::App app_{"toml test", "toml-test"};
  Flags f_;
  std::unique_ptr<TempFile> file_;
};

#ifdef UTCP_HAVE_TOML

TEST_F(TomlConfigTest, KeysAreTheLongFlagNames) {
  parse(
      "# a comment\n"
      "socks5 = \"10.80.0.2:1080\"\n"
      "auto-route = true\n"
      "max-sessions = 2000\n"
      "idle-timeout = 2.5\n"
      "verbose = 2\n");
  EXPECT_EQ(f_.socks5, "10.80.0.2:1080");
  EXPECT_TRUE(f_.auto_route);
  EXPECT_EQ(f_.max_sessions, 2000u);
  EXPECT_DOUBLE_EQ(f_.idle, 2.5);
  EXPECT_EQ(f_.verbose, 2);
  EXPECT_TRUE(f_.route.empty());
}

TEST_F(TomlConfigTest, FalseLeavesAFlagOff) {
  parse("auto-route = false\n");
  EXPECT_FALSE(f_.auto_route);
}

TEST_F(TomlConfigTest, AnArrayFillsARepeatableFlag) {
  parse("route = [\"10.81.0.0/24\", \"2001:db8::/32\"]\n");
  EXPECT_EQ(f_.route, (std::vector<std::string>{"10.81.0.0/24", "2001:db8::/32"}));
}

TEST_F(TomlConfigTest, TheCommandLineWins) {
  parse("socks5 = \"10.80.0.2:1080\"\nroute = [\"10.81.0.0/24\"]\nmax-sessions = 5\n",
        {"--socks5", "10.99.0.1:9050", "--route", "10.82.0.0/16"});
  EXPECT_EQ(f_.socks5, "10.99.0.1:9050");
  EXPECT_EQ(f_.route, (std::vector<std::string>{"10.82.0.0/16"}));
  EXPECT_EQ(f_.max_sessions, 5u);  // not on the command line: the file's
}

TEST_F(TomlConfigTest, AnUnknownKeyIsAnErrorAtItsPosition) {
  const std::string e = config_error("socks5 = \"10.80.0.2:1080\"\n  sock5 = \"x\"\n");
  EXPECT_NE(e.find(file_->path() + ":2:3"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'sock5'"), std::string::npos) << e;
}

TEST_F(TomlConfigTest, AnUnknownSectionIsAnError) {
  const std::string e = config_error("[proxy]\nsocks5 = \"10.80.0.2:1080\"\n");
  EXPECT_NE(e.find(file_->path() + ":1:"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown section [proxy]"), std::string::npos) << e;
}

TEST_F(TomlConfigTest, ASyntaxErrorNamesFileLineAndColumn) {
  const std::string e = config_error("socks5 = \"10.80.0.2:1080\"\n\nmax-sessions = = 3\n");
  EXPECT_NE(e.find(file_->path() + ":3:"), std::string::npos) << e;
  // An unterminated string: the error is on line 1.
  const std::string e2 = config_error("socks5 = \"10.80.0.2:1080\n");
  EXPECT_NE(e2.find(file_->path() + ":1:"), std::string::npos) << e2;
  // A bad boolean: tomlplusplus quotes what it saw, up to the line break; still one line.
  const std::string e3 = config_error("auto-route = tru\n");
  EXPECT_NE(e3.find(file_->path() + ":1:"), std::string::npos) << e3;
  EXPECT_EQ(e3.find('\n'), std::string::npos) << e3;
}

TEST_F(TomlConfigTest, ATableValueIsRefused) {
  const std::string e = config_error("route = [{ a = 1 }]\n");
  EXPECT_NE(e.find(file_->path() + ":1:"), std::string::npos) << e;
  EXPECT_NE(e.find("'route'"), std::string::npos) << e;
}

TEST_F(TomlConfigTest, AMissingFileIsAFileError) {
  std::vector<std::string> argv = {"/nonexistent/utcp-proxy.toml", "--config"};
  EXPECT_THROW(app_.parse(argv), CLI::FileError);
}

TEST_F(TomlConfigTest, AValueOfTheWrongKindFailsLikeOnTheCommandLine) {
  EXPECT_THROW(parse("max-sessions = \"many\"\n"), CLI::ParseError);
}

// What to_config writes, from_config reads back to the same flags.
TEST_F(TomlConfigTest, WrittenConfigReadsBack) {
  std::vector<std::string> argv = {"2001:db8::/32",  "--route",      "10.81.0.0/24",
                                   "--route",        "--auto-route", "7",
                                   "--max-sessions", "a\"b:1",       "--socks5"};
  app_.parse(argv);
  const std::string text = app_.config_to_str(false, true);
  CLI::App again{"again", "again"};
  Flags g;
  again.add_option("--socks5", g.socks5);
  again.add_option("--route", g.route)->allow_extra_args(false);
  again.add_flag("--auto-route", g.auto_route);
  again.add_option("--max-sessions", g.max_sessions);
  add_toml_config_option(again);
  TempFile file(text);
  std::vector<std::string> args = {file.path(), "--config"};
  again.parse(args);
  EXPECT_EQ(g.socks5, "a\"b:1") << text;
  EXPECT_EQ(g.route, f_.route) << text;
  EXPECT_TRUE(g.auto_route) << text;
  EXPECT_EQ(g.max_sessions, 7u) << text;
}

// Without the App (make_toml_config() alone), CLI11's own extras check refuses unknown keys.
TEST(TomlConfigPlain, UnknownKeysLeftToCli11) {
  CLI::App app{"plain", "plain"};
  std::string socks5;
  app.add_option("--socks5", socks5);
  app.set_config("--config");
  app.config_formatter(make_toml_config());
  app.allow_config_extras(CLI::config_extras_mode::error);
  TempFile ok("socks5 = \"10.80.0.2:1080\"\n");
  std::vector<std::string> argv = {ok.path(), "--config"};
  app.parse(argv);
  EXPECT_EQ(socks5, "10.80.0.2:1080");
  TempFile bad("sock5 = 1\n");
  argv = {bad.path(), "--config"};
  EXPECT_THROW(app.parse(argv), CLI::ConfigError);
}

#else

TEST_F(TomlConfigTest, WithoutTomlSupportConfigFails) {
  try {
    parse("socks5 = \"10.80.0.2:1080\"\n");
    FAIL() << "parsed without TOML support";
  } catch (const CLI::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("built without TOML support"), std::string::npos);
  }
  EXPECT_FALSE(toml_supported());
}

#endif

}  // namespace
}  // namespace utcp::proxy
