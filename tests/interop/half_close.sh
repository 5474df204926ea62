#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Half-close both ways. (1) The kernel sends, then FIN; utcp (echo) keeps sending from
# CLOSE-WAIT until everything is echoed. (2) utcp-cat sends, then FIN; the kernel answers
# only after that FIN, and utcp must still receive in FIN-WAIT-2 and exit 0.
source "$(dirname "$0")/lib.sh"
it_init half-close
it_need_tool UTCP_SERVE
it_need_tool UTCP_CAT
cd "$IT_TMP"

it_start "$UTCP_SERVE" --echo 7 2>serve.err
serve_pid=$IT_PID
it_wait_tun
in_ns $PEER echo-client "$STACK_ADDR" 7 1000000 || { cat serve.err >&2; it_fail "kernel half-close"; }
kill "$serve_pid"
it_wait "$serve_pid" 10
[ "$IT_RC" -eq 0 ] || it_fail "utcp-serve exited $IT_RC on SIGTERM"

it_random_file data 1
it_start $PEER late-reply-server 6000 0.5 >reply_expected.log
peer_pid=$IT_PID
it_wait_listen 6000
it_start "$UTCP_CAT" "$KERNEL_ADDR" 6000 <data >reply 2>cat.err
cat_pid=$IT_PID
it_wait "$cat_pid" 30
[ "$IT_RC" -eq 0 ] || { cat cat.err >&2; it_fail "utcp-cat exited $IT_RC"; }
it_wait "$peer_pid" 10
[ "$IT_RC" -eq 0 ] || it_fail "kernel server failed"
expected="$(stat -c %s data) $(sha256sum <data | cut -d' ' -f1)"
[ "$(cat reply)" = "$expected" ] || it_fail "reply after utcp's FIN: '$(cat reply)' != '$expected'"
it_log "utcp half-closed first and still received the kernel's late reply: ok"
