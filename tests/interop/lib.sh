# SPDX-License-Identifier: BSD-2-Clause
# Shared setup for the interop tests: every test runs the utcp tool and its kernel peer
# inside a network namespace of its own (utcp-it-<name>-<pid>), deleted on exit even on
# failure. Nothing ever targets an address outside that namespace.
#
#   source "$(dirname "$0")/lib.sh"; it_init <name>
#   it_start utcp-cat -l 5000 >out      # background, inside the namespace, waits for the TUN
#   in_ns nc -N 10.77.0.2 5000 <in
#
# Tools come from $UTCP_CAT and $UTCP_SERVE (set by CTest). Exit 77 means "skipped".
set -euo pipefail

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The Debian interpreter: a pyenv shim on PATH would add seconds per start.
IT_PYTHON=$(command -v /usr/bin/python3 || command -v python3)
PEER="$IT_PYTHON $IT_DIR/peer.py"
KERNEL_ADDR=10.77.0.1
STACK_ADDR=10.77.0.2
KERNEL_ADDR6=fd77::1
STACK_ADDR6=fd77::2
IT_PIDS=()

it_skip() { echo "SKIP: $*"; exit 77; }
it_fail() { echo "FAIL: $*" >&2; exit 1; }
it_log() { echo "[$(date +%T.%N | cut -c1-12)] $*"; }

it_cleanup() {
  local rc=$?
  set +e
  if [ -n "${IT_WATCHDOG:-}" ]; then
    local kids
    kids=$(pgrep -P "$IT_WATCHDOG")
    kill -KILL "$IT_WATCHDOG" $kids 2>/dev/null
  fi
  for pid in "${IT_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${IT_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  [ -n "${IT_NS:-}" ] && ip netns del "$IT_NS" 2>/dev/null
  if [ -n "${IT_TMP:-}" ]; then
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "${IT_KEEP:-}" ]; then
      echo "kept $IT_TMP" >&2
    else
      rm -rf "$IT_TMP"
    fi
  fi
  return $rc
}

it_init() {
  local name=$1
  [ "$(id -u)" -eq 0 ] || it_skip "needs root (network namespaces, TUN)"
  [ -c /dev/net/tun ] || it_skip "no /dev/net/tun"
  command -v ip >/dev/null || it_skip "no iproute2"
  UTCP_CAT=${UTCP_CAT:-}
  UTCP_SERVE=${UTCP_SERVE:-}
  # Namespaces of earlier runs that were killed outright (SIGKILL skips their traps): the pid
  # in the name no longer runs, so nothing uses them.
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^utcp-it-/ {print $1}'); do
    kill -0 "${ns##*-}" 2>/dev/null || ip netns del "$ns" 2>/dev/null || true
  done
  IT_NS="utcp-it-$name-$$"
  IT_TMP=$(mktemp -d "/tmp/utcp-it-$name.XXXXXX")
  trap it_cleanup EXIT
  trap 'exit 130' INT TERM
  # A watchdog below CTest's own timeout, so a hung test still runs its cleanup: it ends the
  # test's children, then the test (whose EXIT trap deletes the namespace).
  ( trap '' TERM
    sleep "${IT_LIMIT:-280}"
    echo "FAIL: watchdog: still running after ${IT_LIMIT:-280}s" >&2
    pkill -TERM -P $$
    kill -TERM $$ ) &
  IT_WATCHDOG=$!
  disown "$IT_WATCHDOG" 2>/dev/null || true
  ip netns add "$IT_NS" || it_skip "cannot create a network namespace"
  ip -n "$IT_NS" link set lo up
  it_log "namespace $IT_NS, scratch $IT_TMP"
}

in_ns() { ip netns exec "$IT_NS" "$@"; }

# Waits until the tool has created the TUN and the kernel side has its address.
it_wait_tun() {
  local dev=${1:-utcp0}
  for _ in $(seq 1 100); do
    if ip -n "$IT_NS" -4 addr show dev "$dev" 2>/dev/null | grep -q "inet $KERNEL_ADDR/"; then
      sleep 0.1  # the tool's listen() follows the device set-up immediately
      return 0
    fi
    sleep 0.05
  done
  it_fail "TUN $dev never came up in $IT_NS"
}

# it_wait_tun, then until the kernel side also has its IPv6 address, usable (not tentative).
# Skips the test on a kernel without IPv6.
it_wait_tun6() {
  local dev=${1:-utcp0}
  [ -d /proc/sys/net/ipv6 ] || it_skip "the kernel has no IPv6"
  it_wait_tun "$dev"
  for _ in $(seq 1 100); do
    if ip -n "$IT_NS" -6 addr show dev "$dev" 2>/dev/null | grep "inet6 $KERNEL_ADDR6/" |
      grep -vq tentative; then
      return 0
    fi
    sleep 0.05
  done
  it_fail "TUN $dev never got $KERNEL_ADDR6 in $IT_NS"
}

# Runs a command in the background inside the namespace; its pid goes to IT_PID and is
# killed at exit. Redirections apply as usual: it_start cmd args >out 2>err
it_start() {
  ip netns exec "$IT_NS" "$@" <&0 &  # explicit: "&" alone would give it /dev/null
  IT_PID=$!
  IT_PIDS+=("$IT_PID")
}

# Waits for a background pid with a time limit; sets IT_RC to its exit status.
it_wait() {
  local pid=$1 limit=${2:-60}
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge $((limit * 10)) ]; then
      kill "$pid" 2>/dev/null
      it_fail "pid $pid still running after ${limit}s"
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  set +e
  wait "$pid"
  IT_RC=$?
  set -e
}

it_random_file() {  # path megabytes
  head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$1"
}

it_same_file() {  # expected actual what
  local a b
  a=$(sha256sum <"$1" | cut -d' ' -f1)
  b=$(sha256sum <"$2" | cut -d' ' -f1)
  [ "$a" = "$b" ] || it_fail "$3: sha256 differs ($(stat -c %s "$1") bytes sent, $(stat -c %s "$2") received)"
  it_log "$3: $(stat -c %s "$2") bytes, sha256 ${b:0:16}... match"
}

# The end of an exchange between utcp-cat and a kernel peer (cat_connect, cat_listen), run in $IT_TMP:
# both exited 0, and each side received exactly what the other sent (to_kernel -> from_utcp,
# to_utcp -> from_kernel). Prints utcp-cat's TCP counters from cat.err.
it_check_cat_exchange() {  # cat_rc peer_rc (the kernel side: nc or peer.py)
  [ "$1" -eq 0 ] || { cat cat.err >&2; it_fail "utcp-cat exited $1"; }
  [ "$2" -eq 0 ] || it_fail "the kernel peer exited $2"
  it_same_file to_kernel from_utcp "utcp -> kernel"
  it_same_file to_utcp from_kernel "kernel -> utcp"
  grep -E '^tcp\.(in|out) ' cat.err || true
}

it_need_tool() {
  local var=$1
  [ -n "${!var:-}" ] && [ -x "${!var}" ] || it_skip "$var not set to a built tool"
}

# Waits until a kernel socket in the namespace listens on TCP port $1.
it_wait_listen() {
  for _ in $(seq 1 100); do
    in_ns ss -Hltn "sport = :$1" 2>/dev/null | grep -q LISTEN && return 0
    sleep 0.05
  done
  it_fail "nothing listens on port $1 in $IT_NS"
}

# A FIFO that never reaches end of file (this shell holds its write end open), for a tool
# whose standard input must stay open: it_open_fifo; it_start tool <"$IT_FIFO"
it_open_fifo() {
  IT_FIFO="$IT_TMP/open.fifo"
  if [ ! -p "$IT_FIFO" ]; then
    mkfifo "$IT_FIFO"
    exec 9<>"$IT_FIFO"
  fi
}

# Starts examples/forward_echo ($UTCP_FORWARD_ECHO) in the namespace, its output in echo.out
# and echo.err of the current folder, its pid in IT_PID, and waits until its TUN is up in
# both families and it has routed 198.18.0.0/15 and 2001:db8::/32 into it itself
# (TunOptions::routes).
it_start_forward_echo() {
  it_start "$UTCP_FORWARD_ECHO" >echo.out 2>echo.err
  it_wait_tun6
  for _ in $(seq 1 50); do
    in_ns ip -6 route show 2001:db8::/32 | grep -q utcp0 && break
    sleep 0.1
  done
  in_ns ip route show 198.18.0.0/15 | grep -q 'dev utcp0' || it_fail "forward_echo added no route for 198.18.0.0/15"
  in_ns ip -6 route show 2001:db8::/32 | grep -q 'dev utcp0' || it_fail "forward_echo added no route for 2001:db8::/32"
}
