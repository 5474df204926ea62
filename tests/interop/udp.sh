#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# UDP against the kernel, one family per run: `udp.sh 4` (the default; CTest interop_udp) or
# `udp.sh 6` (interop_v6_udp). RFC 768, RFC 1122 §4.1, RFC 8200 §8.1.
# - A kernel client's datagrams (1 byte to 20,000, so fragmented by both sources) come back
#   byte for byte from `utcp-serve --udp-echo`, and `nc -u` gets its echo too; a datagram to a
#   closed utcp port is answered with port unreachable (ICMP or ICMPv6), which the kernel's
#   connected socket reports as ECONNREFUSED.
# - `utcp-cat -u -l` (which listens on both families) takes the first datagram of this
#   family's kernel client, writes it out, and answers it with its standard input.
# - The other way, `utcp-cat -u` (on a second TUN) exchanges datagrams with a kernel echo
#   socket and reports a closed kernel port as "connection refused".
source "$(dirname "$0")/lib.sh"
family=${1:-4}
case $family in
  4) it_init udp ;;
  6) it_init v6-udp ;;
  *) echo "usage: udp.sh [4|6]" >&2; exit 2 ;;
esac
it_need_tool UTCP_SERVE
it_need_tool UTCP_CAT
cd "$IT_TMP"
if [ "$family" = 6 ]; then
  wait_tun=it_wait_tun6
  stack_addr=$STACK_ADDR6
  # A second TUN for utcp-cat's client, and the kernel's address on it.
  cat_addrs=(--tun utcp1 --addr 10.77.1.2 --host-addr 10.77.1.1/24 --addr6 fd77:1::2
    --host-addr6 fd77:1::1/64)
  kernel_addr=fd77:1::1
  kernel_endpoint="[$kernel_addr]"  # as utcp-cat's messages write it
  kernel_any=::
  cat_bytes=5000
  over=" over IPv6"
  unreachable_counter=icmp6.out.dest-unreachable
else
  wait_tun=it_wait_tun
  stack_addr=$STACK_ADDR
  cat_addrs=(--tun utcp1 --addr 10.77.1.2 --host-addr 10.77.1.1/24)
  kernel_addr=10.77.1.1
  kernel_endpoint=$kernel_addr
  kernel_any=0.0.0.0
  cat_bytes=3000
  over=""
  unreachable_counter=icmp.out.port-unreachable
fi

it_start "$UTCP_SERVE" --udp-echo 7 --stats 2>serve.err
serve_pid=$IT_PID
$wait_tun

in_ns "$IT_PYTHON" - "$stack_addr" "$family" <<'PY' || it_fail "kernel client$over against utcp's UDP echo"
import os, random, socket, sys
addr, family = sys.argv[1], sys.argv[2]
af = socket.AF_INET6 if family == "6" else socket.AF_INET
over = " over IPv6" if family == "6" else ""
seed = int.from_bytes(os.urandom(4), "big")
rng = random.Random(seed)
print("seed", seed)
s = socket.socket(af, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((addr, 7))
# Around each family's MTU limits: IPv4 1472 (1500 - 20 - 8), IPv6 1232 (the minimum MTU's
# payload) and 1452 (1500 - 40 - 8).
if family == "6":
    sizes = [1, 0, 1232, 1452, 1453, 3000, 20000] + [rng.randrange(1, 9000) for _ in range(100)]
else:
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
print("echoed %d datagrams%s, %d bytes, byte for byte" % (len(sizes), over, sum(sizes)))

# A closed port: port unreachable, reported on the connected socket's next call.
c = socket.socket(af, socket.SOCK_DGRAM)
c.settimeout(2)
c.connect((addr, 9))
c.send(b"anyone?")
try:
    c.recv(100)
    sys.exit("closed port: got a reply")
except ConnectionRefusedError:
    print("closed port: ECONNREFUSED")
except socket.timeout:
    sys.exit("closed port: no %s port unreachable (timed out)" % ("ICMPv6" if family == "6" else "ICMP"))
PY

if command -v nc >/dev/null; then
  printf 'hello over nc -u\n' >to_utcp
  in_ns nc -u -w 1 "$stack_addr" 7 <to_utcp >from_utcp || true
  it_same_file to_utcp from_utcp "nc -u echo$over"
fi

kill -TERM "$serve_pid"
it_wait "$serve_pid" 10
grep -E '^(udp\.|icmp6?\.out|ip\.frag\.reassembled|ip\.out\.fragments)' serve.err || true
# The one datagram to the closed port: counted, and answered (ICMP or ICMPv6 alike).
grep -q '^udp.in.no-port 1$' serve.err || it_fail "the closed port was not counted"
grep -q "^$unreachable_counter 1\$" serve.err || it_fail "no port unreachable counted"

# utcp-cat -u -l: both families' sockets listen; this family's first datagram picks the peer.
head -c 1000 /dev/urandom >answer
it_start "$UTCP_CAT" -u -l 7008 <answer >listen.out 2>listen.err
listen_pid=$IT_PID
$wait_tun
head -c 700 /dev/urandom >to_listener
in_ns "$IT_PYTHON" - "$stack_addr" "$family" to_listener answer <<'PY' ||
import socket, sys
addr, family, sent, answer = sys.argv[1:]
s = socket.socket(socket.AF_INET6 if family == "6" else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.connect((addr, 7008))
s.send(open(sent, "rb").read())
back = s.recv(65535)  # utcp-cat's standard input, one datagram
if back != open(answer, "rb").read():
    sys.exit("utcp-cat -u -l answered %d bytes, not its standard input" % len(back))
print("utcp-cat -u -l answered from %s port 7008" % addr)
PY
  { cat listen.err >&2; it_fail "utcp-cat -u -l and a kernel client$over"; }
kill -TERM "$listen_pid"
it_wait "$listen_pid" 10
[ "$IT_RC" -eq 0 ] || { cat listen.err >&2; it_fail "utcp-cat -u -l exited $IT_RC"; }
it_same_file to_listener listen.out "kernel$over -> utcp-cat -u -l"

# The other way: utcp-cat -u (on a second TUN) to a kernel UDP echo socket.
in_ns "$IT_PYTHON" - "$IT_TMP/echo.ready" "$kernel_any" <<'PY' &
import os, socket, sys
any_addr = sys.argv[2]
s = socket.socket(socket.AF_INET6 if ":" in any_addr else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((any_addr, 7007))
with open(sys.argv[1], "w") as ready:  # its pid, to end it when done
    ready.write(str(os.getpid()))
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
head -c "$cat_bytes" /dev/urandom >to_kernel
set +e
in_ns "$UTCP_CAT" -u --linger 1 "${cat_addrs[@]}" "$kernel_addr" 7007 <to_kernel >from_kernel \
  2>cat.err
rc=$?
set -e
[ "$rc" -eq 0 ] || { cat cat.err >&2; it_fail "utcp-cat -u$over exited $rc"; }
it_same_file to_kernel from_kernel "utcp-cat -u -> kernel$over echo -> utcp-cat"

set +e
in_ns "$UTCP_CAT" -u "${cat_addrs[@]}" "$kernel_addr" 6999 <to_kernel >out 2>cat.err
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat cat.err >&2; it_fail "utcp-cat -u$over to a closed port exited $rc"; }
grep -qF "utcp-cat: $kernel_endpoint:6999: connection refused" cat.err ||
  { cat cat.err >&2; it_fail "stderr does not say connection refused"; }
it_log "utcp-cat -u: $(cat cat.err)"
# The echo socket's program (started through a subshell, which is all "$!" names) ends now
# rather than after its 20 s of silence, which CTest would wait for.
kill "$(cat echo.ready)" 2>/dev/null || true
