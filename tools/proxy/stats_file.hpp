// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// utcp-proxy's --stats-json FILE, written as the proxy runs instead of kept in memory: the
// file is created at start-up, each ended session's record is appended (one line) when it
// ends, and at exit the sessions still open and the totals complete it into one JSON document,
// {"sessions": [every session, in the order they ended, then those open at exit], "totals":
// {...}}. So the file holds every session however long the proxy ran, while the proxy keeps
// none of them for it; after a crash (SIGKILL) it holds the ended ones, one per line (each but
// the last followed by a comma).
#include <cstdio>
#include <string>

namespace utcp::proxy {

class StatsFile {
 public:
  // Creates (truncates) `path`; throws std::runtime_error with a one-line message.
  explicit StatsFile(const std::string& path);
  ~StatsFile();  // closes the file (finish() not called: the document stays open)
  StatsFile(const StatsFile&) = delete;
  StatsFile& operator=(const StatsFile&) = delete;

  // One record (a JSON object's text), on its own line, flushed so a reader sees it.
  void record(const std::string& json);
  // The records of the sessions still open (record() each), then this: closes the array,
  // adds the totals (a JSON object's text) and the file. Throws std::runtime_error if any
  // write failed (disk full).
  void finish(const std::string& totals_json);

 private:
  void put(const char* text);
  void flush();

  std::string path_;
  std::FILE* file_ = nullptr;
  bool first_ = true;
  bool failed_ = false;
};

}  // namespace utcp::proxy
