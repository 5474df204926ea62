#!/usr/bin/env bash
# The demo command. Until the stack runtime can talk to a peer over TUN, it installs what is
# needed, builds, and runs the unit tests, saying so.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake --preset dev >/dev/null
cmake --build --preset dev -j"$(nproc)"
echo
echo "utcp demo: the stack cannot yet talk to a peer over TUN (the runtime is still being built)."
echo "utcp demo: showing the parts that exist — the wire layer and the TCP engine, through their unit tests:"
echo
ctest --test-dir build/dev -L unit --output-on-failure -j"$(nproc)"
