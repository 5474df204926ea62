#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Fails when any C++ file differs from what clang-format (.clang-format at the root) makes of it.
set -euo pipefail
cd "$(dirname "$0")/.."
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.cpp' '*.hpp' '*.h')
else
  mapfile -t files < <(find src include tests tools fuzz bench examples -name '*.[ch]pp' -o -name '*.h' 2>/dev/null)
fi
existing=()
for f in "${files[@]}"; do [ -f "$f" ] && existing+=("$f"); done
[ ${#existing[@]} -eq 0 ] && exit 0
if ! clang-format --dry-run --Werror "${existing[@]}"; then
  echo "format check: FAILED (run: clang-format -i <files>)" >&2
  exit 1
fi
echo "format check: ${#existing[@]} files clean"
