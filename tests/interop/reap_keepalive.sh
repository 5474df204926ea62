#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Vanished peers (issue 15): `utcp-serve --echo 7 --keepalive 1,1,2` with 5 kernel clients
# that exchange a line and then vanish (an nft rule in the namespace drops everything utcp
# sends them, so keepalive probes go unanswered and no RST ever comes). Keepalive (RFC 1122
# §4.2.3.6) declares each dead after 1 s idle + 2 probes 1 s apart: all 5 time out within
# a few seconds, where without keepalive they would be held forever.
source "$(dirname "$0")/lib.sh"
it_init reapka
it_need_tool UTCP_SERVE
command -v nft >/dev/null || it_skip "no nft"
cd "$IT_TMP"
it_start "$UTCP_SERVE" --echo 7 --keepalive 1,1,2 --stats 2>serve.err
serve_pid=$IT_PID
it_wait_tun

cat >clients.py <<'PY'
import socket, subprocess, sys, time
socks = []
for i in range(5):
    s = socket.create_connection((sys.argv[1], 7), timeout=5)
    s.sendall(b"hello %d\n" % i)
    assert s.recv(100) == b"hello %d\n" % i
    socks.append(s)
# Vanish: drop whatever utcp sends to this side from now on.
for cmd in (["add", "table", "inet", "vanish"],
            ["add", "chain", "inet", "vanish", "in",
             "{ type filter hook input priority 0; }"],
            ["add", "rule", "inet", "vanish", "in", "ip", "saddr", sys.argv[1], "drop"]):
    subprocess.run(["nft"] + cmd, check=True)
time.sleep(7)
for s in socks: s.close()
PY
in_ns "$IT_PYTHON" clients.py "$STACK_ADDR" >clients.log 2>&1 || { cat clients.log >&2; it_fail "clients failed"; }
kill "$serve_pid"
it_wait "$serve_pid" 10
[ "$IT_RC" -eq 0 ] || { cat serve.err >&2; it_fail "utcp-serve exited $IT_RC"; }
timed_out=$(awk '$1=="tcp.conn.timed-out"{print $2}' serve.err)
[ "${timed_out:-0}" -eq 5 ] || { cat serve.err >&2; it_fail "tcp.conn.timed-out '${timed_out:-}', expected 5"; }
it_log "5 vanished clients: tcp.conn.timed-out $timed_out within 7 s (keepalive 1,1,2)"
