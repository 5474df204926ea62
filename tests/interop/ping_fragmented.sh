#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Echo requests larger than the MTU (RFC 791 §3.2, RFC 1122 §3.3.2): the kernel fragments
# the request, utcp reassembles it and fragments its reply, and ping gets every answer. Then
# the attack of issue 15: 200 first fragments with random ids from spoofed sources in the
# namespace's /24 (a raw socket; they never complete) fill the 64-train table; evicting the
# oldest, utcp still answers a big ping at once.
source "$(dirname "$0")/lib.sh"
it_init pingfrag
it_need_tool UTCP_SERVE
cd "$IT_TMP"
it_start "$UTCP_SERVE" --echo 7 --stats 2>serve.err
serve_pid=$IT_PID
it_wait_tun
for size in 3000 8000; do
  in_ns ping -c 3 -i 0.2 -W 2 -s "$size" -p 5a "$STACK_ADDR" >"ping_$size.log" ||
    { cat "ping_$size.log" >&2; it_fail "no replies to ping -s $size"; }
  grep -q '3 received' "ping_$size.log" || { cat "ping_$size.log" >&2; it_fail "lost replies (-s $size)"; }
  # ping checks the pattern and the size of each reply: a wrong byte would be reported.
  if grep -q 'wrong data\|truncated' "ping_$size.log"; then
    cat "ping_$size.log" >&2
    it_fail "corrupt reply (-s $size)"
  fi
done
it_log "ping -s 3000: $(grep -o '[0-9]* received' ping_3000.log), -s 8000: $(grep -o '[0-9]* received' ping_8000.log)"

cat >flood.py <<'PY'
import random, socket, struct, sys

def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff

dst = socket.inet_aton(sys.argv[1])
rng = random.Random(15)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for i in range(200):
    src = socket.inet_aton("10.77.0.%d" % rng.randint(3, 254))
    payload = bytes(64)  # ICMP-looking bytes; never completed
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), rng.randint(0, 65535),
                      0x2000, 64, 1, 0, src, dst)  # MF set, offset 0
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    s.sendto(hdr + payload, (sys.argv[1], 0))
PY
in_ns "$IT_PYTHON" flood.py "$STACK_ADDR" || it_fail "could not send the spoofed fragments"
in_ns ping -c 1 -W 2 -s 3000 "$STACK_ADDR" >ping_flood.log ||
  { cat ping_flood.log >&2; it_fail "no reply to ping -s 3000 after 200 spoofed first fragments"; }
kill "$serve_pid"
it_wait "$serve_pid" 10
[ "$IT_RC" -eq 0 ] || { cat serve.err >&2; it_fail "utcp-serve exited $IT_RC"; }
evicted=$(awk '$1=="ip.frag.evicted"{print $2}' serve.err)
[ "${evicted:-0}" -ge 136 ] || { cat serve.err >&2; it_fail "ip.frag.evicted '${evicted:-}' < 136"; }
it_log "after 200 spoofed first fragments: ping -s 3000 answered, ip.frag.evicted $evicted"
