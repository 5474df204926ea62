#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# 1000 short connections one after another against `utcp-serve --echo`, each echoing a
# line: connection set-up, teardown and table clean-up at a steady pace.
source "$(dirname "$0")/lib.sh"
it_init short-1000
it_need_tool UTCP_SERVE
cd "$IT_TMP"
it_start "$UTCP_SERVE" --echo 7 --stats 2>serve.err
serve_pid=$IT_PID
it_wait_tun
in_ns $PEER sequential "$STACK_ADDR" 7 1000 || { tail -20 serve.err >&2; it_fail "sequential"; }
kill "$serve_pid"
it_wait "$serve_pid" 10
[ "$(awk '$1=="tcp.passive-opens"{print $2}' serve.err)" -eq 1000 ] || it_fail "passive opens != 1000"
grep -E '^(tcp\.passive-opens|stack\.connections) ' serve.err
