#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The event loop sleeps: utcp-serve holding an idle established connection for 2 s uses
# (almost) no CPU. A busy-polling loop would burn the whole 2 s.
source "$(dirname "$0")/lib.sh"
it_init idle
it_need_tool UTCP_SERVE
cd "$IT_TMP"
it_start "$UTCP_SERVE" --echo 7 2>serve.err
serve_pid=$IT_PID
it_wait_tun
# An idle connection: established, then silent for 3 s.
it_start "$IT_PYTHON" -c "
import socket, time
s = socket.create_connection(('$STACK_ADDR', 7)); s.sendall(b'x'); s.recv(1); time.sleep(3)"
sleep 0.5
ticks() { awk '{ print $14 + $15 }' "/proc/$serve_pid/stat"; }  # utime + stime
t0=$(ticks)
sleep 2
t1=$(ticks)
hz=$(getconf CLK_TCK)
it_log "utcp-serve used $((t1 - t0)) ticks (1/$hz s) in 2 s idle"
# 10 % of the 2 s at most; a spinning loop would use 100 %.
[ $((t1 - t0)) -le $((hz / 5)) ] || it_fail "utcp-serve is busy while idle ($((t1 - t0)) ticks)"
