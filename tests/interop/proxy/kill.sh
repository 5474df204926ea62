#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# utcp-proxy stopped in the middle of a transfer. SIGKILL: no cleanup code runs, yet the TUN
# device disappears with the process and the routes it added (on the TUN's ifindex) with the
# device. SIGTERM: it drains (--drain-timeout 2), exits 0, removes the same, and writes
# --stats-json with the sessions: the finished HTTP request and the interrupted download,
# each with its destination and the bytes it carried.
source "$(dirname "$0")/lib.sh"
px_init kill
it_need_tool UTCP_PROXY
cd "$IT_TMP"
px_world


# A download far larger than fits in the seconds the test waits: killed mid-transfer.
start_transfer() {
  it_start timeout 60 $IT_PYTHON "$PX_DIR/pxpeer.py" download "$T_ADDR" $((4 << 30)) \
    >"transfer.$1.out" 2>&1
  transfer_pid=$IT_PID
  sleep 1.5
  kill -0 "$transfer_pid" 2>/dev/null || { cat "transfer.$1.out" >&2; it_fail "$1: the transfer ended early"; }
}

px_start_proxy socks5
start_transfer sigkill
kill -KILL "$PX_PID"
it_wait "$PX_PID" 10
[ "$IT_RC" -eq 137 ] || it_fail "SIGKILL: exit status $IT_RC"
px_check_no_leftovers
kill "$transfer_pid" 2>/dev/null || true
it_log "SIGKILL mid-transfer: nothing left behind: ok"

px_start_proxy socks5 --stats-json "$IT_TMP/stats.json" --drain-timeout 2
px_curl "$T_ADDR" "$P_ADDR_T"
start_transfer sigterm
t0=$(date +%s%N)
px_stop_proxy  # SIGTERM; exit 0; no device or route left
it_log "SIGTERM mid-transfer: exit 0 after $((($(date +%s%N) - t0) / 1000000)) ms, nothing left behind"
kill "$transfer_pid" 2>/dev/null || true
[ -s stats.json ] || it_fail "no --stats-json file written"
in_c $PXPEER stats stats.json "$T_ADDR" 21 >/dev/null || it_fail "stats: the HTTP session"
in_c $PXPEER stats stats.json 7003 1000000 || it_fail "stats: the interrupted download"
