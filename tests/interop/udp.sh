#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# UDP against the kernel (RFC 768, RFC 1122 §4.1): a kernel client's datagrams (1 byte to
# 20,000, so fragmented both ways) come back byte for byte from `utcp-serve --udp-echo`, and
# `nc -u` gets its echo too; a datagram to a closed utcp port is answered with port
# unreachable, which the kernel's connected socket reports as ECONNREFUSED. The other way,
# `utcp-cat -u` exchanges datagrams with a kernel echo socket and reports a closed kernel
# port as "connection refused".
source "$(dirname "$0")/lib.sh"
it_init udp
it_need_tool UTCP_SERVE
it_need_tool UTCP_CAT
cd "$IT_TMP"
it_start "$UTCP_SERVE" --udp-echo 7 --stats 2>serve.err
serve_pid=$IT_PID
it_wait_tun

in_ns "$IT_PYTHON" - "$STACK_ADDR" <<'PY' || it_fail "kernel client against utcp's UDP echo"
import errno, os, random, socket, sys
addr = sys.argv[1]
seed = int.from_bytes(os.urandom(4), "big")
rng = random.Random(seed)
print("seed", seed)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((addr, 7))
sizes = [1, 0, 7, 1472, 1473, 3000, 20000] + [rng.randrange(1, 9000) for _ in range(200)]
for i, n in enumerate(sizes):
    data = bytes(rng.randrange(256) for _ in range(n))
    for attempt in range(3):  # UDP: a lost datagram is retried, never skipped
        s.send(data)
        try:
            back = s.recv(65535)
            break
        except socket.timeout:
            continue
    else:
        sys.exit("datagram %d (%d bytes): no echo" % (i, n))
    if back != data:
        sys.exit("datagram %d (%d bytes): echo differs (%d bytes back)" % (i, n, len(back)))
print("echoed %d datagrams, %d bytes, byte for byte" % (len(sizes), sum(sizes)))

# A closed port: port unreachable, reported on the connected socket's next call.
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.settimeout(2)
c.connect((addr, 9))
c.send(b"anyone?")
try:
    c.recv(100)
    sys.exit("closed port: got a reply")
except ConnectionRefusedError:
    print("closed port: ECONNREFUSED")
except socket.timeout:
    sys.exit("closed port: no port unreachable (timed out)")
PY

if command -v nc >/dev/null; then
  printf 'hello over nc -u\n' >to_utcp
  in_ns nc -u -w 1 "$STACK_ADDR" 7 <to_utcp >from_utcp || true
  it_same_file to_utcp from_utcp "nc -u echo"
fi

kill -TERM "$serve_pid"
it_wait "$serve_pid" 10
grep -E '^(udp\.|icmp\.out\.port-unreachable|ip\.frag\.reassembled|ip\.out\.fragments)' serve.err
grep -q '^icmp.out.port-unreachable 1$' serve.err || it_fail "no port unreachable counted"

# The other way: utcp-cat -u (on a second TUN) to a kernel UDP echo socket.
in_ns "$IT_PYTHON" - "$IT_TMP/echo.ready" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 7007))
open(sys.argv[1], "w").close()
s.settimeout(20)
try:
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)
except socket.timeout:
    pass
PY
echo_pid=$!
IT_PIDS+=("$echo_pid")
for _ in $(seq 1 100); do [ -e echo.ready ] && break; sleep 0.05; done
[ -e echo.ready ] || it_fail "the kernel echo socket never bound"
head -c 3000 /dev/urandom >to_kernel
set +e
in_ns "$UTCP_CAT" -u --linger 1 --tun utcp1 --addr 10.77.1.2 --host-addr 10.77.1.1/24 \
  10.77.1.1 7007 <to_kernel >from_kernel 2>cat.err
rc=$?
set -e
[ "$rc" -eq 0 ] || { cat cat.err >&2; it_fail "utcp-cat -u exited $rc"; }
it_same_file to_kernel from_kernel "utcp-cat -u -> kernel echo -> utcp-cat"

set +e
in_ns "$UTCP_CAT" -u --tun utcp1 --addr 10.77.1.2 --host-addr 10.77.1.1/24 10.77.1.1 6999 \
  <to_kernel >out 2>cat.err
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat cat.err >&2; it_fail "utcp-cat -u to a closed port exited $rc"; }
grep -q "utcp-cat: 10.77.1.1:6999: connection refused" cat.err ||
  { cat cat.err >&2; it_fail "stderr does not say connection refused"; }
it_log "utcp-cat -u: $(cat cat.err)"
