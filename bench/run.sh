#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The benchmark suite in one command: installs what it needs (Debian packages), builds the
# release preset's tools and benchmarks, and runs bench/run.py (table, JSON, PNG).
#
#   sudo bench/run.sh [--quick] [--runs N] [--mb MB] [--only tput,mq,s2s,rr,cps,scale,cpu,micro]
# tput, s2s, rr and cps also run over IPv6 (fd77::2), each row beside its IPv4 twin.
# Build directory: $UTCP_BUILD (default build/release).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (namespaces, TUN, apt-get)" >&2; exit 1; }
bash scripts/deps.sh
extra=()
for p in python3-matplotlib valgrind iproute2; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || extra+=("$p")
done
if [ ${#extra[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${extra[@]}"
fi
build=${UTCP_BUILD:-build/release}
cmake --preset release -B "$build" >/dev/null
cmake --build "$build" --target utcp-serve utcp-cat utcp-stack-bench utcp-micro-bench
exec /usr/bin/python3 bench/run.py --build "$build" "$@"
