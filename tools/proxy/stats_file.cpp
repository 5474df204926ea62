// SPDX-License-Identifier: BSD-2-Clause
#include "stats_file.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace utcp::proxy {

StatsFile::StatsFile(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "we");
  if (!file_) throw std::runtime_error("--stats-json " + path + ": " + std::strerror(errno));
  put("{\"sessions\":[");
  flush();
}

StatsFile::~StatsFile() {
  if (file_) std::fclose(file_);
}

void StatsFile::put(const char* text) {
  if (file_ && std::fputs(text, file_) < 0) failed_ = true;
}

void StatsFile::flush() {
  if (file_ && std::fflush(file_) != 0) failed_ = true;
}

void StatsFile::record(const std::string& json) {
  // The separator goes before each record (ending the previous line), so the array never
  // ends with a comma, whenever the proxy stops.
  put(first_ ? "\n" : ",\n");
  first_ = false;
  put(json.c_str());
  flush();
}

void StatsFile::finish(const std::string& totals_json) {
  if (!file_) return;
  put("\n],\"totals\":");
  put(totals_json.c_str());
  put("}\n");
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (failed_ || !closed) throw std::runtime_error("--stats-json " + path_ + ": cannot write");
}

}  // namespace utcp::proxy
