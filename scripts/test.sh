#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The test command: installs what is missing, checks formatting, then builds and runs every
# test in the plain (g++) build, checks the packaging (scripts/package-check.sh), runs the
# unit, sim and interop tests again under ASan+UBSan (clang), the threaded unit tests under
# TSan (clang), and the fuzzers for a bounded time. Run as root (interop tests create network
# namespaces).
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
passed=0 failed=0 status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

stage() { echo; echo "=== $* ==="; }
die() { echo "test: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

# Runs ctest with the given arguments and adds its counts to the totals.
run_ctest() {
  ctest "$@" --output-on-failure -j"$jobs" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line total bad
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  if [ -n "$line" ]; then
    total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
    bad=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
    passed=$((passed + total - bad))
    failed=$((failed + bad))
  elif [ "$rc" -ne 0 ]; then
    failed=$((failed + 1))
  fi
  [ "$rc" -eq 0 ] || status=1
}

stage "dependencies"
bash scripts/deps.sh || die "installing dependencies failed"

stage "format"
bash scripts/format-check.sh || { failed=$((failed + 1)); status=1; }

stage "dev build (g++, Debug, -Werror)"
cmake --preset dev >/dev/null && cmake --build --preset dev -j"$jobs" || die "dev build failed"
run_ctest --preset dev

stage "package: install, consumer three ways, Release -Werror, optional deps hidden, cpack DEB"
# Each check of scripts/package-check.sh counts as one test.
UTCP_JOBS=$jobs bash scripts/package-check.sh 2>&1 | tee "$log"
pkg_line=$(grep -E '^package check: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
if [ -n "$pkg_line" ]; then
  passed=$((passed + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$pkg_line")))
  failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$pkg_line")))
  grep -Eq ' 0 failed$' <<<"$pkg_line" || status=1
else
  failed=$((failed + 1))
  status=1
fi

stage "asan build (clang++, ASan+UBSan): unit, sim and interop tests"
cmake --preset asan >/dev/null && cmake --build --preset asan -j"$jobs" || die "asan build failed"
run_ctest --preset asan

stage "tsan build (clang++, ThreadSanitizer): the threaded tests (blocking facade, event loop, StackGroup)"
# Only unit_loop and unit_group (the build preset's targets): the threads live there.
cmake --preset tsan >/dev/null && cmake --build --preset tsan -j"$jobs" || die "tsan build failed"
run_ctest --preset tsan

stage "fuzz (clang++ libFuzzer, ASan+UBSan)"
cmake --preset fuzz >/dev/null && cmake --build --preset fuzz -j"$jobs" || die "fuzz build failed"
run_ctest --preset fuzz

echo
echo "utcp test summary (all stages):"
echo "$passed passed, $failed failed"
exit $status
