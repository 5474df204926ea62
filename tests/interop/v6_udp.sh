#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# UDP over IPv6 against the kernel (RFC 768, RFC 8200 §8.1): a kernel client's datagrams
# (1 byte to 20,000, so fragmented by both sources) come back byte for byte from
# `utcp-serve --udp-echo` at [fd77::2]; a datagram to a closed utcp port is answered with
# ICMPv6 port unreachable, which the kernel's connected socket reports as ECONNREFUSED. The
# other way, `utcp-cat -u` to [fd77:1::1] talks to a kernel IPv6 echo socket.
source "$(dirname "$0")/lib.sh"
it_init v6-udp
type it_wait_tun6 >/dev/null 2>&1 || it_skip "the interop library has no IPv6 set-up yet"
it_need_tool UTCP_SERVE
it_need_tool UTCP_CAT
cd "$IT_TMP"
it_start "$UTCP_SERVE" --udp-echo 7 --stats 2>serve.err
serve_pid=$IT_PID
it_wait_tun6

in_ns "$IT_PYTHON" - "$STACK_ADDR6" <<'PY' || it_fail "kernel IPv6 client against utcp's UDP echo"
import os, random, socket, sys
addr = sys.argv[1]
seed = int.from_bytes(os.urandom(4), "big")
rng = random.Random(seed)
print("seed", seed)
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((addr, 7))
sizes = [1, 0, 1232, 1452, 1453, 3000, 20000] + [rng.randrange(1, 9000) for _ in range(100)]
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
print("echoed %d datagrams over IPv6, %d bytes, byte for byte" % (len(sizes), sum(sizes)))

c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
c.settimeout(2)
c.connect((addr, 9))
c.send(b"anyone?")
try:
    c.recv(100)
    sys.exit("closed port: got a reply")
except ConnectionRefusedError:
    print("closed port: ECONNREFUSED")
except socket.timeout:
    sys.exit("closed port: no ICMPv6 port unreachable (timed out)")
PY

kill -TERM "$serve_pid"
it_wait "$serve_pid" 10
grep -E '^(udp\.|icmp6?\.out)' serve.err || true
grep -q '^udp.in.no-port 1$' serve.err || it_fail "the closed port was not counted"

# The other way: utcp-cat -u (on a second TUN) to a kernel IPv6 UDP echo socket.
in_ns "$IT_PYTHON" - "$IT_TMP/echo.ready" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::", 7007))
open(sys.argv[1], "w").close()
s.settimeout(20)
try:
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)
except socket.timeout:
    pass
PY
IT_PIDS+=("$!")
for _ in $(seq 1 100); do [ -e echo.ready ] && break; sleep 0.05; done
[ -e echo.ready ] || it_fail "the kernel echo socket never bound"
head -c 5000 /dev/urandom >to_kernel
set +e
in_ns "$UTCP_CAT" -u --linger 1 --tun utcp1 --addr 10.77.1.2 --host-addr 10.77.1.1/24 \
  --addr6 fd77:1::2 --host-addr6 fd77:1::1/64 fd77:1::1 7007 <to_kernel >from_kernel 2>cat.err
rc=$?
set -e
[ "$rc" -eq 0 ] || { cat cat.err >&2; it_fail "utcp-cat -u over IPv6 exited $rc"; }
it_same_file to_kernel from_kernel "utcp-cat -u -> kernel IPv6 echo -> utcp-cat"
