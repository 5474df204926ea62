#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# 200 kernel clients connected to `utcp-serve --echo` at the same time, each checking the
# echo of its own 64 KB of random bytes.
source "$(dirname "$0")/lib.sh"
it_init echo-200
it_need_tool UTCP_SERVE
cd "$IT_TMP"
it_start "$UTCP_SERVE" --echo 7 --stats 2>serve.err
serve_pid=$IT_PID
it_wait_tun
in_ns $PEER many-echo "$STACK_ADDR" 7 200 65536 || { tail -30 serve.err >&2; it_fail "concurrent echo"; }
kill "$serve_pid"
it_wait "$serve_pid" 10
[ "$IT_RC" -eq 0 ] || it_fail "utcp-serve exited $IT_RC"
grep -E '^tcp\.passive-opens ' serve.err
[ "$(awk '$1=="tcp.passive-opens"{print $2}' serve.err)" -ge 200 ] || it_fail "fewer than 200 accepted"
