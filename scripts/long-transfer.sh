#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# One connection, many gigabytes each way at once over TUN: the kernel's `nc` against
# `utcp-cat -l`, both sending a seeded pseudo-random stream, both checking what they receive
# by byte count and CRC (cksum) against the stream the other side generated. Prints the
# elapsed time and the rate per direction. Issue 16 §1: a connection must survive 2^31 and
# 2^32 bytes in both directions (sequence numbers wrap; 64-bit byte counters).
#
#   sudo scripts/long-transfer.sh [BYTES [both|to-kernel|to-utcp]]
#
# Defaults: 5000000000 bytes, both directions at once (one way: the other side sends nothing).
# Opt-in at this size (not part of the test command); tests/interop/long_transfer.sh runs a
# 2^31 + 64 MiB one-way version. Everything runs in a network namespace created here
# (utcp-long-<pid>) and deleted on exit, even on failure or Ctrl-C. utcp-cat is $UTCP_CAT, or
# taken from $UTCP_BUILD (default build/release, else build/dev); the run gives up after $LIMIT
# seconds (default 900). Extra utcp-cat options go in $UTCP_CAT_OPTS (e.g. --mtu 9000).
# Exit status: 0 all bytes arrived and match, 1 failure, 77 not root / no TUN (skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
bytes=${1:-5000000000}
dirs=${2:-both}
limit=${LIMIT:-900}
die() { echo "long-transfer: $*" >&2; exit 1; }
skip() { echo "SKIP: long-transfer: $*"; exit 77; }
cat_tool=${UTCP_CAT:-}
if [ -z "$cat_tool" ]; then
  build=${UTCP_BUILD:-}
  if [ -z "$build" ]; then
    for b in build/release build/dev; do [ -x "$b/tools/utcp-cat" ] && build=$b && break; done
  fi
  cat_tool="${build:-build/release}/tools/utcp-cat"
fi
[ -x "$cat_tool" ] || die "build utcp-cat first (cmake --preset release && cmake --build --preset release --target utcp-cat)"
[[ "$bytes" =~ ^[0-9]+$ ]] || die "BYTES must be a number"
case "$dirs" in
  both) up=$bytes down=$bytes ;;
  to-kernel) up=$bytes down=0 ;;
  to-utcp) up=0 down=$bytes ;;
  *) die "directions: both, to-kernel or to-utcp" ;;
esac
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespace, TUN)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
python=$(command -v /usr/bin/python3 || command -v python3)

# Namespaces of earlier runs killed outright (SIGKILL skips the trap): their pid is gone.
for old in $(ip netns list 2>/dev/null | awk '$1 ~ /^utcp-long-/ {print $1}'); do
  kill -0 "${old##*-}" 2>/dev/null || ip netns del "$old" 2>/dev/null || true
done
ns="utcp-long-$$"
tmp=$(mktemp -d /tmp/utcp-long.XXXXXX)
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  ip netns del "$ns" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The stream: a 1,000,003-byte block (prime length, so a shift by any power of two shows)
# drawn from a seeded generator, repeated to BYTES.
cat >"$tmp/gen.py" <<'PY'
import os, random, sys
seed, total = int(sys.argv[1]), int(sys.argv[2])  # seed, bytes
block = random.Random(seed).randbytes(1_000_003)
view = memoryview(block * 8)  # about 8 MB per write
period = len(block)
sent = 0
while sent < total:
    start = sent % period
    n = min(len(view) - start, total - sent)
    sent += os.write(1, view[start:start + n])
PY
gen() { "$python" "$tmp/gen.py" "$1" "$2"; }  # seed bytes

ip netns add "$ns"
ip -n "$ns" link set lo up
# shellcheck disable=SC2086
timeout "$limit" ip netns exec "$ns" bash -c \
  "'$python' '$tmp/gen.py' 1 $up | '$cat_tool' ${UTCP_CAT_OPTS:-} --stats -l 5000 \
     2>'$tmp/cat.err' | cksum >'$tmp/from_kernel.sum'" &
cat_pid=$!
pids+=("$cat_pid")
for _ in $(seq 1 100); do
  ip -n "$ns" -4 addr show dev utcp0 2>/dev/null | grep -q "inet 10.77.0.1/" && break
  sleep 0.05
done
ip -n "$ns" -4 addr show dev utcp0 2>/dev/null | grep -q "inet 10.77.0.1/" ||
  { cat "$tmp/cat.err" >&2; die "the TUN never came up"; }
sleep 0.2

echo "long-transfer: $up bytes utcp -> kernel, $down bytes kernel -> utcp at once, $cat_tool <-> nc over TUN in $ns"
t0=$(date +%s.%N)
timeout "$limit" ip netns exec "$ns" bash -c \
  "'$python' '$tmp/gen.py' 2 $down | nc -N 10.77.0.2 5000 | cksum >'$tmp/from_utcp.sum'" &
nc_pid=$!
pids+=("$nc_pid")
nc_rc=0 cat_rc=0
wait "$nc_pid" || nc_rc=$?
wait "$cat_pid" || cat_rc=$?
t1=$(date +%s.%N)
if [ "$cat_rc" -eq 124 ] || [ "$nc_rc" -eq 124 ]; then
  tail -n 20 "$tmp/cat.err" >&2
  die "the transfer did not finish within $limit s (stalled?)"
fi
[ "$cat_rc" -eq 0 ] || { cat "$tmp/cat.err" >&2; die "utcp-cat side exited $cat_rc"; }
[ "$nc_rc" -eq 0 ] || die "nc side exited $nc_rc"

# What each side should have received: the other side's stream.
want_from_utcp=$(gen 1 "$up" | cksum)
want_from_kernel=$(gen 2 "$down" | cksum)
got_from_utcp=$(cat "$tmp/from_utcp.sum")
got_from_kernel=$(cat "$tmp/from_kernel.sum")
elapsed=$("$python" -c "print($t1 - $t0)")
rate=$("$python" -c "print($bytes / ($t1 - $t0) / 1e6)")  # per direction moving
printf 'utcp -> kernel: got "%s", want "%s"\n' "$got_from_utcp" "$want_from_utcp"
printf 'kernel -> utcp: got "%s", want "%s"\n' "$got_from_kernel" "$want_from_kernel"
grep -E '^tcp_info\.(bytes_acked|bytes_received|total_retrans|rto_count) ' "$tmp/cat.err" || true
printf 'elapsed %.1f s, %.0f MB/s per direction (%d CPUs: %s)\n' "$elapsed" "$rate" "$(nproc)" \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
[ "$got_from_utcp" = "$want_from_utcp" ] || die "utcp -> kernel: bytes differ"
[ "$got_from_kernel" = "$want_from_kernel" ] || die "kernel -> utcp: bytes differ"
echo "long-transfer: OK"
