#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Reaping held connections (issue 15): `utcp-serve --http --idle-timeout 2 --header-timeout 4`
# against kernel clients. 20 clients that connect and send nothing are reset after about
# 2 s; a slowloris client that sends one header line every half second (never idle for 2 s) gets a
# 408 and is closed by the header timeout after about 4 s; a normal request still works,
# and the counters say who was reaped why.
source "$(dirname "$0")/lib.sh"
it_init reap
it_need_tool UTCP_SERVE
cd "$IT_TMP"
mkdir -p www
echo "<h1>utcp</h1>" >www/index.html
it_start "$UTCP_SERVE" --http 80 --root www --idle-timeout 2 --header-timeout 4 --stats 2>serve.err
serve_pid=$IT_PID
it_wait_tun

cat >clients.py <<'PY'
import socket, sys, threading, time

ADDR = (sys.argv[1], 80)
results = {}

def idle(i):
    s = socket.create_connection(ADDR, timeout=5)
    start = time.monotonic()
    s.settimeout(10)
    try:
        data = s.recv(100)
        how = "eof" if data == b"" else "data"
    except ConnectionResetError:
        how = "reset"
    except socket.timeout:
        how = "timeout"
    results[f"idle{i}"] = (how, time.monotonic() - start, b"")
    s.close()

def slowloris():
    s = socket.create_connection(ADDR, timeout=5)
    start = time.monotonic()
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    got = b""
    how = "timeout"
    # A header line every 0.5 s: four times inside the 2 s idle timeout, so a loaded machine
    # delaying this thread does not let the idle timer win over the header timer.
    for n in range(30):
        s.settimeout(0.5)
        try:
            chunk = s.recv(4096)
            if chunk == b"":
                how = "eof"
                break
            got += chunk
            continue
        except socket.timeout:
            pass
        except ConnectionResetError:
            how = "reset"
            break
        try:
            s.sendall(b"X-Slow-%d: y\r\n" % n)
        except OSError:
            how = "send-failed"
            break
    results["slow"] = (how, time.monotonic() - start, got)
    s.close()

threads = [threading.Thread(target=idle, args=(i,)) for i in range(20)]
threads.append(threading.Thread(target=slowloris))
for t in threads: t.start()
for t in threads: t.join()
ok = True
for name, (how, secs, got) in sorted(results.items()):
    print(f"{name} {how} {secs:.2f}s {got[:40]!r}")
    if name.startswith("idle"):
        ok &= how in ("reset", "eof") and 1.5 <= secs <= 7.0
    else:
        ok &= how in ("eof", "reset") and got.startswith(b"HTTP/1.1 408") and 3.5 <= secs <= 9.0
sys.exit(0 if ok else 1)
PY
in_ns "$IT_PYTHON" clients.py "$STACK_ADDR" >clients.log 2>&1 || { cat clients.log >&2; it_fail "clients were not reaped as expected"; }
it_log "idle: $(grep -c '^idle.* \(reset\|eof\)' clients.log) of 20 reaped; slowloris: $(grep '^slow' clients.log)"

# Nothing is left established on the kernel side, and the server still serves.
left=$(in_ns ss -Htn state established "( dport = :80 )" | wc -l)
[ "$left" -eq 0 ] || { in_ns ss -tn >&2; it_fail "$left connections still established"; }
[ "$(in_ns curl -sS --max-time 10 "http://$STACK_ADDR/")" = "<h1>utcp</h1>" ] || it_fail "no page after reaping"

kill "$serve_pid"
it_wait "$serve_pid" 10
[ "$IT_RC" -eq 0 ] || { cat serve.err >&2; it_fail "utcp-serve exited $IT_RC"; }
idle=$(awk '$1=="serve.timeout.idle"{print $2}' serve.err)
header=$(awk '$1=="serve.timeout.header"{print $2}' serve.err)
[ "${idle:-0}" -ge 20 ] || { cat serve.err >&2; it_fail "serve.timeout.idle '${idle:-}' < 20"; }
[ "${header:-0}" -eq 1 ] || { cat serve.err >&2; it_fail "serve.timeout.header '${header:-}' != 1"; }
it_log "counters: serve.timeout.idle $idle, serve.timeout.header $header"
