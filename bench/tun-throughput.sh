#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Throughput over TUN in MB/s, in one run: kernel -> utcp (utcp-serve --discard), utcp ->
# kernel (utcp-serve --chargen), and for scale kernel -> kernel over a veth pair. Every
# device lives in namespaces this script creates and deletes (even on failure).
#
#   sudo bench/tun-throughput.sh [MB] [MTU]      (defaults: 500 MB, MTU 1500)
# Tools are taken from $UTCP_BUILD (default: build/release, else build/dev).
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-500}
mtu=${2:-1500}
build=${UTCP_BUILD:-}
if [ -z "$build" ]; then
  for b in build/release build/dev; do [ -x "$b/tools/utcp-serve" ] && build=$b && break; done
fi
serve="$build/tools/utcp-serve"
[ -x "$serve" ] || { echo "tun-throughput: build utcp-serve first (cmake --build --preset release)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "tun-throughput: needs root (namespaces, TUN)" >&2; exit 1; }
python=$(command -v /usr/bin/python3 || command -v python3)

ns="utcp-bench-$$"
ns_a="utcp-bench-a-$$"
ns_b="utcp-bench-b-$$"
tmp=$(mktemp -d /tmp/utcp-bench.XXXXXX)
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  for n in "$ns" "$ns_a" "$ns_b"; do ip netns del "$n" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# One Python helper for every direction, so the kernel-side cost is the same in each row.
cat >"$tmp/peer.py" <<'PY'
import socket, sys, time
mode, host, port, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) << 20
if mode == "sink":  # listen, read until EOF
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port)); ls.listen(1); c, _ = ls.accept()
    while c.recv(1 << 20): pass
    sys.exit(0)
s = socket.create_connection((host, port), timeout=60)
buf = bytearray(1 << 20); view = memoryview(buf)
t0 = time.perf_counter(); moved = 0
if mode == "send":  # send `total`, half-close, wait for the peer's close: all consumed
    while moved < total:
        moved += s.send(view[: min(len(buf), total - moved)])
    s.shutdown(socket.SHUT_WR)
    while s.recv(1 << 16): pass
else:  # recv `total` bytes
    while moved < total:
        n = s.recv_into(view)
        if not n: break
        moved += n
dt = time.perf_counter() - t0
print(f"{moved / dt / 1e6:.0f}")
PY

wait_for() {  # namespace, command that must succeed
  for _ in $(seq 1 100); do ip netns exec "$1" sh -c "$2" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "tun-throughput: timed out waiting for: $2" >&2; exit 1
}

ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" "$serve" --mtu "$mtu" --discard 9 --chargen 19 2>"$tmp/serve.err" &
pids+=($!)
wait_for "$ns" "ip -4 addr show dev utcp0 | grep -q 10.77.0.1/"
sleep 0.2
k2u=$(ip netns exec "$ns" "$python" "$tmp/peer.py" send 10.77.0.2 9 "$mb")
u2k=$(ip netns exec "$ns" "$python" "$tmp/peer.py" recv 10.77.0.2 19 "$mb")

ip netns add "$ns_a"
ip netns add "$ns_b"
ip link add "vb$$a" netns "$ns_a" type veth peer name "vb$$b" netns "$ns_b"
ip -n "$ns_a" addr add 10.78.0.1/24 dev "vb$$a"
ip -n "$ns_b" addr add 10.78.0.2/24 dev "vb$$b"
ip -n "$ns_a" link set "vb$$a" mtu "$mtu" up
ip -n "$ns_b" link set "vb$$b" mtu "$mtu" up
ip netns exec "$ns_b" "$python" "$tmp/peer.py" sink 10.78.0.2 5201 0 &
pids+=($!)
wait_for "$ns_b" "ss -Hltn 'sport = :5201' | grep -q LISTEN"
k2k=$(ip netns exec "$ns_a" "$python" "$tmp/peer.py" send 10.78.0.2 5201 "$mb")

echo "MTU $mtu, $mb MB per direction, $(nproc) CPUs, $(uname -r), tools from $build"
printf '%-28s %8s MB/s\n' "kernel -> utcp (TUN)" "$k2u" "utcp -> kernel (TUN)" "$u2k" \
  "kernel -> kernel (veth)" "$k2k"
