#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Bulk throughput over a long path: utcp-cat with `--delay D` (D ms added each way by its fault
# injector, so RTT ~2D) against a kernel socket, both directions, in a namespace this script
# creates and deletes (even on failure). Shows whether the send buffer (utcp -> kernel) or the
# receive window (kernel -> utcp) limits a long fat path.
#
#   sudo bench/delay-throughput.sh [MB] [DELAY_MS] [UTCP_CAT]   (defaults: 300, 20, build/release)
# CAT_ARGS="--stats" adds options to the sending utcp-cat and prints its stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-300}
delay=${2:-20}
cat_bin=${3:-build/release/tools/utcp-cat}
[ -x "$cat_bin" ] || { echo "delay-throughput: build utcp-cat first (cmake --build --preset release --target utcp-cat)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "delay-throughput: needs root (namespaces, TUN)" >&2; exit 1; }
python=$(command -v /usr/bin/python3 || command -v python3)
ns="utcp-delay-$$"
tmp=$(mktemp -d /tmp/utcp-delay.XXXXXX)
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  ip netns del "$ns" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# The kernel side: `sink` accepts one connection and reads to EOF, `send` connects and writes;
# each prints Mbit/s from its first byte to the end (for send: until utcp-cat closed, so
# everything was delivered).
cat >"$tmp/peer.py" <<'PY'
import socket, sys, time
mode, host, port, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) << 20
if mode == "sink":
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port)); ls.listen(1); ls.settimeout(120); c, _ = ls.accept()
    moved = 0; t0 = None
    while True:
        b = c.recv(1 << 20)
        if not b: break
        if t0 is None: t0 = time.perf_counter()
        moved += len(b)
else:
    c = socket.create_connection((host, port), timeout=120)
    buf = memoryview(bytearray(1 << 20)); moved = 0; t0 = time.perf_counter()
    while moved < total:
        moved += c.send(buf[: min(len(buf), total - moved)])
    c.shutdown(socket.SHUT_WR)
    while c.recv(1 << 16): pass
dt = time.perf_counter() - t0
print(f"{moved * 8 / dt / 1e6:.0f} Mbit/s ({moved} bytes in {dt:.2f} s)")
PY

wait_tun() {
  for _ in $(seq 1 100); do
    ip -n "$ns" -4 addr show dev utcp0 2>/dev/null | grep -q "inet 10.77.0.1/" && { sleep 0.2; return 0; }
    sleep 0.05
  done
  echo "delay-throughput: TUN never came up" >&2; exit 1
}

ip netns add "$ns"
ip -n "$ns" link set lo up

# kernel -> utcp: utcp-cat listens and discards; it closes when the kernel's side ends.
ip netns exec "$ns" "$cat_bin" --delay "$delay" -l 5000 </dev/null >/dev/null 2>"$tmp/k2u.err" &
pids+=($!)
wait_tun
k2u=$(ip netns exec "$ns" "$python" "$tmp/peer.py" send 10.77.0.2 5000 "$mb")
wait "${pids[-1]}" || true

# utcp -> kernel: the kernel listens (on any address: the TUN comes with utcp-cat).
ip netns exec "$ns" "$python" "$tmp/peer.py" sink 0.0.0.0 5001 "$mb" >"$tmp/u2k.out" &
pids+=($!)
sink=$!
sleep 0.3
head -c "$((mb * 1024 * 1024))" /dev/zero |
  ip netns exec "$ns" "$cat_bin" --delay "$delay" ${CAT_ARGS:-} 10.77.0.1 5001 >/dev/null 2>"$tmp/u2k.err"
[ -z "${CAT_ARGS:-}" ] || cat "$tmp/u2k.err"
wait "$sink"
u2k=$(cat "$tmp/u2k.out")

echo "$mb MB each way, --delay $delay ms each way, $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(uname -r), $cat_bin"
printf '%-16s %s\n' "kernel -> utcp" "$k2u" "utcp -> kernel" "$u2k"
