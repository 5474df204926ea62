// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A span that claims bytes but has no storage (data() == nullptr, size() > 0) is a caller's bug
// that would end in a memcpy from or to NULL; the Stack API answers it with bad_address (the
// POSIX facade's EFAULT) instead.
#include <span>
#include <system_error>

namespace utcp {

template <typename T>
bool reject_null_span(std::span<T> s, std::error_code& ec) {
  if (s.data() != nullptr || s.empty()) return false;
  ec = std::make_error_code(std::errc::bad_address);
  return true;
}

}  // namespace utcp
