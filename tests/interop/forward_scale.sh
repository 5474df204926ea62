#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Forwarding at scale (issue 13): examples/forward_echo terminates what the namespace routes
# into its TUN for 198.18.0.0/15 and 2001:db8::/32. A kernel client (forward_scale.py, one
# selectors loop) opens 1,000 TCP connections at once to distinct random addresses and ports
# in those prefixes (500 IPv4, 500 IPv6), then sends each its own random payload (up to
# 256 KiB) and FIN: every echo must equal what was sent, and forward_echo must have accepted
# exactly those 1,000 destinations. Then 1,000 UDP flows (500 per family, one connected kernel
# socket each, to distinct random destinations) exchange 3 datagrams each: every reply is
# compared, a lost datagram is resent (at most 5 attempts), and all 1,000 flows must complete.
# FORWARD_SCALE_N changes the count (default 1000); the seed is printed.
source "$(dirname "$0")/lib.sh"
IT_LIMIT=${IT_LIMIT:-150}
it_init forward-scale
it_need_tool UTCP_FORWARD_ECHO
cd "$IT_TMP"
n=${FORWARD_SCALE_N:-1000}
seed=${FORWARD_SCALE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
it_log "n $n, seed $seed"

it_start_forward_echo
echo_pid=$IT_PID

in_ns "$IT_PYTHON" "$IT_DIR/forward_scale.py" tcp "$n" "$seed" dests ||
  { tail -5 echo.err >&2; it_fail "$n concurrent forwarded TCP connections"; }
# forward_echo prints "REMOTE:PORT -> LOCAL:PORT" per accepted connection: LOCAL must be the
# original destination, each of the client's exactly once.
"$IT_PYTHON" - dests echo.out <<'PY' || it_fail "forward_echo's accepted connections"
import ipaddress, sys
def key(addr, port):  # sortable across families
    a = ipaddress.ip_address(addr)
    return (a.version, int(a), int(port))
want = sorted(key(*line.split()) for line in open(sys.argv[1]))
got = []
for line in open(sys.argv[2]):
    if " -> " in line:
        addr, port = line.split(" -> ")[1].strip().rsplit(":", 1)
        got.append(key(addr, port))
got.sort()
if got != want:
    sys.exit(f"accepted {len(got)} connections, {len(set(got) ^ set(want))} destinations "
             f"differ from the {len(want)} the client used")
print(f"forward_echo accepted the {len(got)} destinations the client used, each once")
PY

in_ns "$IT_PYTHON" "$IT_DIR/forward_scale.py" udp "$n" "$seed" ||
  { tail -5 echo.err >&2; it_fail "$n forwarded UDP flows"; }

# The kernel's side of the TUN: packets its queue dropped (TCP resent them; UDP's were
# resent by the client) show as TX dropped.
in_ns ip -s link show utcp0
kill -0 "$echo_pid" || { cat echo.err >&2; it_fail "forward_echo died"; }
# A sanitizer build of forward_echo reports into its stderr without stopping.
if grep -q 'Sanitizer' echo.err; then cat echo.err >&2; it_fail "forward_echo: sanitizer report"; fi
