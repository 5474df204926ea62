// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The Stack reports std::error_codes with errno meanings; the facade hands out the errno.
#include <cerrno>
#include <system_error>

namespace utcp::posix {

inline int errno_of(const std::error_code& ec) {
  if (!ec) return 0;
  if (ec.category() == std::generic_category() || ec.category() == std::system_category()) {
    return ec.value();
  }
  const std::error_condition cond = ec.default_error_condition();
  if (cond.category() == std::generic_category()) return cond.value();
  return EIO;
}

}  // namespace utcp::posix
