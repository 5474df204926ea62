#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs one libFuzzer target for a bounded time over a scratch copy of its seed corpus,
# so the committed corpus never changes. Any crash or sanitizer report fails the test.
set -euo pipefail
bin=$1 seeds=$2 secs=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
[ -d "$seeds" ] && cp -r "$seeds"/. "$work/corpus/" 2>/dev/null || true
cd "$work"
echo "fuzzing $(basename "$bin") for ${secs}s (seed corpus: $seeds)"
"$bin" -max_total_time="$secs" -max_len=65535 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus"
