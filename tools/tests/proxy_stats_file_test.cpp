// SPDX-License-Identifier: BSD-2-Clause
// StatsFile (--stats-json): one JSON document at the end with every record given, each record
// on disk as soon as it was given (so nothing is held for the file, and a killed proxy leaves
// the ended sessions), and errors reported in one line.
#include "stats_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace utcp::proxy {
namespace {

std::string temp_path(const char* name) {
  return ::testing::TempDir() + "/" + name + "." + std::to_string(::getpid()) + ".json";
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ProxyStatsFile, OneDocumentWithEveryRecord) {
  const std::string path = temp_path("stats_doc");
  {
    StatsFile file(path);
    for (int i = 1; i <= 3; ++i) file.record(nlohmann::json{{"id", i}, {"end", "closed"}}.dump());
    file.finish(nlohmann::json{{"tcp_sessions", 3}}.dump());
  }
  const auto doc = nlohmann::json::parse(read_all(path));
  ASSERT_EQ(doc["sessions"].size(), 3u);
  EXPECT_EQ(doc["sessions"][0]["id"], 1);
  EXPECT_EQ(doc["sessions"][2]["id"], 3);
  EXPECT_EQ(doc["totals"]["tcp_sessions"], 3);
  ::unlink(path.c_str());
}

TEST(ProxyStatsFile, NoSessionsIsStillADocument) {
  const std::string path = temp_path("stats_empty");
  {
    StatsFile file(path);
    file.finish("{}");
  }
  const auto doc = nlohmann::json::parse(read_all(path));
  EXPECT_TRUE(doc["sessions"].empty());
  EXPECT_TRUE(doc["totals"].empty());
  ::unlink(path.c_str());
}

TEST(ProxyStatsFile, EachRecordIsOnDiskAtOnceOneLineEach) {
  const std::string path = temp_path("stats_live");
  StatsFile file(path);
  file.record(R"({"id":1})");
  file.record(R"({"id":2})");
  // Not finished (as after a SIGKILL): the head, then one record per line, each but the last
  // followed by a comma.
  std::istringstream lines(read_all(path));
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, R"({"sessions":[)");
  std::getline(lines, line);
  ASSERT_EQ(line.back(), ',');  // another record followed
  EXPECT_EQ(nlohmann::json::parse(line.substr(0, line.size() - 1))["id"], 1);
  std::getline(lines, line);
  EXPECT_EQ(nlohmann::json::parse(line)["id"], 2);
  ::unlink(path.c_str());
}

TEST(ProxyStatsFile, UnwritablePathIsOneLineError) {
  try {
    StatsFile file("/nonexistent-dir/stats.json");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "--stats-json /nonexistent-dir/stats.json: No such file or directory");
  }
}

}  // namespace
}  // namespace utcp::proxy
