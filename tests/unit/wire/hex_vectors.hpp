// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Reads a packet vector tests/data/<name>.hex (format in tests/data/README.md).
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace utcp::wire {

inline std::vector<uint8_t> load_hex(const std::string& name) {
  const std::string path = std::string(UTCP_TEST_DATA_DIR) + "/" + name + ".hex";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::vector<uint8_t> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '#') continue;
    std::string digits;
    for (char c : line) {
      if (std::isxdigit(static_cast<unsigned char>(c))) digits += c;
    }
    for (size_t i = 0; i + 1 < digits.size(); i += 2) {
      out.push_back(static_cast<uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
    }
  }
  return out;
}

}  // namespace utcp::wire
