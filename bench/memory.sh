#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Memory of `utcp-serve` under many kernel connections (issue 15): RSS idle; 5,000 echo
# connections that each moved 1 KB, held, then all closed; 20,000 held echo connections
# (1 KB each), then closed; 500 clients of a --chargen stream that never read, then closed.
# Everything runs in a namespace this script creates and deletes (even on failure); the
# clients are kernel sockets (bench/memory_clients.py). Opt-in: not part of the test command.
#
#   sudo bench/memory.sh [UTCP_SERVE]          (default build/release/tools/utcp-serve)
# PHASES picks some of "echo hold sink" (each on a fresh server); ECHO_N, HOLD_N, SINK_N
# change the counts; SERVE_ARGS adds options to utcp-serve.
# Prints one line per measurement: phase, VmRSS and VmHWM (the peak since the phase began).
set -euo pipefail
cd "$(dirname "$0")/.."
serve_bin=$(realpath "${1:-build/release/tools/utcp-serve}")
[ -x "$serve_bin" ] || { echo "memory: build utcp-serve first (cmake --build --preset release --target utcp-serve)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "memory: needs root (namespaces, TUN)" >&2; exit 1; }
echo_n=${ECHO_N:-5000}
hold_n=${HOLD_N:-20000}
sink_n=${SINK_N:-500}
python=$(command -v /usr/bin/python3 || command -v python3)
clients="$python $PWD/bench/memory_clients.py"
ns="utcp-mem-$$"
tmp=$(mktemp -d /tmp/utcp-mem.XXXXXX)
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

# Each client process holds at most PER_PROC sockets, within its file-descriptor limit (the
# hard limit may not be raisable in a container).
ulimit -n "$(ulimit -Hn)"
per_proc=$(($(ulimit -n) - 100))
[ "$per_proc" -gt 8000 ] && per_proc=8000
ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" sysctl -q -w net.ipv4.ip_local_port_range="10000 65000"
ip netns exec "$ns" sysctl -q -w net.ipv4.tcp_tw_reuse=1

# A fresh server for each phase, so each starts from the idle baseline.
start_server() {
  ip netns exec "$ns" "$serve_bin" --echo 7 --chargen 19 --stats ${SERVE_ARGS:-} \
    2>"$tmp/serve.err" &
  serve_pid=$!
  pids+=("$serve_pid")
  for _ in $(seq 1 100); do
    ip -n "$ns" -4 addr show dev utcp0 2>/dev/null | grep -q "inet 10.77.0.1/" && break
    sleep 0.05
  done
  sleep 0.3
}
stop_server() {
  kill -INT "$serve_pid"
  wait "$serve_pid" || true
  grep -E '^(tcp\.(passive-opens|drop\.(accept|syn|conn))|tcp\.mem|stack\.mem)' "$tmp/serve.err" |
    grep -v ' 0$' | tr '\n' ' ' || true
  echo
}

kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$serve_pid/status"; }
# Resets VmHWM to the current RSS (proc(5): clear_refs 5), so each phase reports its own peak.
reset_peak() { echo 5 >"/proc/$serve_pid/clear_refs"; }
report() {  # phase
  printf '%-34s RSS %8.1f MiB   peak %8.1f MiB\n' "$1" \
    "$(echo "$(kib VmRSS) / 1024" | bc -l)" "$(echo "$(kib VmHWM) / 1024" | bc -l)"
}
wait_file() {  # path seconds
  for _ in $(seq 1 $(($2 * 20))); do
    [ -e "$1" ] && return 0
    sleep 0.05
  done
  echo "memory: $1 not reached within $2 s" >&2
  exit 1
}

# One phase: start the clients (several processes for a large count), measure while they are
# held (5 s after the last is ready: the stack frees empty buffers after 1 s without traffic
# and utcp-serve trims the heap 2 s after they fell), close them, measure once the server has
# let them go.
phase() {  # name mode port count size
  local name=$1 left=$4 k=0 n ctl failures client_pids=()
  reset_peak
  while [ "$left" -gt 0 ]; do
    n=$((left < per_proc ? left : per_proc))
    ctl="$tmp/$name.$k"
    mkdir -p "$ctl"
    ip netns exec "$ns" $clients "$2" 10.77.0.2 "$3" "$n" "$5" "$ctl" 2>"$ctl/err" &
    client_pids+=($!)
    pids+=($!)
    left=$((left - n))
    k=$((k + 1))
  done
  for ((i = 0; i < k; i++)); do
    ctl="$tmp/$name.$i"
    wait_file "$ctl/ready" 300
    read -r _ failures <"$ctl/ready"
    [ "$failures" -eq 0 ] || { cat "$ctl/err" >&2; echo "memory: $failures failed in $name" >&2; exit 1; }
  done
  sleep 5
  report "$name: $4 held"
  for ((i = 0; i < k; i++)); do touch "$tmp/$name.$i/go"; done
  for ((i = 0; i < k; i++)); do
    wait "${client_pids[$i]}" || { cat "$tmp/$name.$i/err" >&2; echo "memory: clients of $name failed" >&2; exit 1; }
  done
  sleep 4
  report "$name: after close"
}

for p in ${PHASES:-echo hold sink}; do
  start_server
  report "$p: idle"
  case $p in
    echo) phase echo echo 7 "$echo_n" 1024 ;;
    hold) phase hold echo 7 "$hold_n" 1024 ;;
    sink) phase sink sink 19 "$sink_n" 0 ;;
    *) echo "memory: unknown phase $p" >&2; exit 2 ;;
  esac
  stop_server
done
