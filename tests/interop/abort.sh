#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The kernel aborts mid-transfer (SO_LINGER 0 -> RST) while utcp is still sending. utcp-cat reports the reset on
# stderr and exits 1; with -k it frees the connection and keeps listening (no connection
# left in the stack's table, the reset counted).
source "$(dirname "$0")/lib.sh"
it_init abort
it_need_tool UTCP_CAT
cd "$IT_TMP"

it_open_fifo
# utcp is in the middle of sending 20 MB when the kernel aborts.
it_random_file data 20
it_start "$UTCP_CAT" -l 5000 <data >out 2>cat.err
cat_pid=$IT_PID
it_wait_tun
in_ns $PEER abort-client "$STACK_ADDR" 5000 200000 300000 || it_fail "abort client"
it_wait "$cat_pid" 10
[ "$IT_RC" -eq 1 ] || { cat cat.err >&2; it_fail "utcp-cat exited $IT_RC, expected 1"; }
grep -qi "reset" cat.err || { cat cat.err >&2; it_fail "no reset reported"; }
it_log "utcp-cat: $(cat cat.err)"

it_start "$UTCP_CAT" -k -l 5000 --stats <"$IT_FIFO" >out2 2>cat2.err
cat_pid=$IT_PID
it_wait_tun
in_ns $PEER abort-client "$STACK_ADDR" 5000 200000 || it_fail "abort client"
in_ns $PEER abort-client "$STACK_ADDR" 5000 1000 || it_fail "second abort client (after the first reset)"
# Wait (bounded) for utcp-cat to report the second reset before stopping it: a fixed sleep
# raced with a loaded machine, where the signal could be handled before the reset.
for _ in $(seq 1 100); do
  [ "$(grep -ci "connection reset" cat2.err)" -ge 2 ] && break
  sleep 0.1
done
kill "$cat_pid"
it_wait "$cat_pid" 10
grep -E '^(tcp\.conn\.reset|stack\.connections) ' cat2.err
[ "$(awk '$1=="tcp.conn.reset"{print $2}' cat2.err)" -ge 2 ] || it_fail "resets not counted"
[ "$(awk '$1=="stack.connections"{print $2}' cat2.err)" -eq 0 ] || it_fail "reset connections not freed"
[ "$(grep -ci "connection reset" cat2.err)" -ge 2 ] || { cat cat2.err >&2; it_fail "-k did not report both resets"; }
