#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The POSIX facade's SOCK_DGRAM over TUN against the kernel: examples/posix_udp_tun.cpp, one
# dual-stack AF_INET6 socket (socket, bind [::]:7, recvfrom, sendto), echoes what the kernel's
# `nc -u` and `nc -6 -u` send, and datagrams of a kernel socket of each family (1 byte to
# 20,000, so fragmented both ways), byte for byte; IPv4 senders are named ::ffff:10.77.0.1.
source "$(dirname "$0")/lib.sh"
it_init posix_udp
[ -n "${UTCP_POSIX_UDP_TUN:-}" ] && [ -x "$UTCP_POSIX_UDP_TUN" ] ||
  it_skip "example_posix_udp_tun not built (UTCP_POSIX_UDP_TUN)"
command -v nc >/dev/null || it_skip "no nc"
cd "$IT_TMP"
sizes4=(1 7 1472 1473 3000 20000)
sizes6=(1 7 1452 1453 3000 20000)
count=$((2 + ${#sizes4[@]} + ${#sizes6[@]}))
it_start "$UTCP_POSIX_UDP_TUN" 7 "$count" >echo.out 2>echo.err
echo_pid=$IT_PID
it_wait_tun6
for _ in $(seq 1 100); do grep -q "listening" echo.out && break; sleep 0.05; done

printf 'hello over nc -u\n' >to4
in_ns nc -u -w 1 "$STACK_ADDR" 7 <to4 >from4 || true
it_same_file to4 from4 "nc -u (IPv4) through the facade's dual-stack socket"
printf 'hello over nc -6 -u\n' >to6
in_ns nc -6 -u -w 1 "$STACK_ADDR6" 7 <to6 >from6 || true
it_same_file to6 from6 "nc -6 -u through the facade's socket"

in_ns "$IT_PYTHON" - "$STACK_ADDR" "$STACK_ADDR6" "${sizes4[*]}" "${sizes6[*]}" <<'PY' ||
import os, random, socket, sys
seed = int.from_bytes(os.urandom(4), "big")
rng = random.Random(seed)
print("seed", seed)
for fam, addr, sizes in ((socket.AF_INET, sys.argv[1], sys.argv[3]),
                         (socket.AF_INET6, sys.argv[2], sys.argv[4])):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.connect((addr, 7))
    for n in map(int, sizes.split()):
        data = bytes(rng.randrange(256) for _ in range(n))
        s.send(data)  # no retry: the example echoes an exact count (a local TUN loses nothing)
        back = s.recv(65535)
        if back != data:
            sys.exit("%s: %d bytes sent, %d differing bytes back" % (addr, n, len(back)))
    print("%s: %d datagrams echoed byte for byte" % (addr, len(sizes.split())))
PY
  it_fail "kernel sockets against the facade's UDP echo"

it_wait "$echo_pid" 10
[ "$IT_RC" -eq 0 ] || { cat echo.err >&2; it_fail "example_posix_udp_tun exited $IT_RC"; }
cat echo.out
grep -q "from \[::ffff:$KERNEL_ADDR\]:" echo.out || it_fail "IPv4 sender not named ::ffff:$KERNEL_ADDR"
grep -q "from \[$KERNEL_ADDR6\]:" echo.out || it_fail "IPv6 sender not named $KERNEL_ADDR6"
[ "$(grep -c echoed echo.out)" -eq "$count" ] || it_fail "not $count datagrams echoed"
it_log "posix_udp: $count datagrams echoed through the POSIX facade, both families"
