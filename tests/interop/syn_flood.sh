#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A SYN flood (RFC 4987) at `utcp-serve --http`: 8 s of spoofed SYNs from sources nobody owns
# (raw socket, inside the namespace, 5,000 per second: on a shared machine a faster Python
# sender overflows the TUN queue, which then drops the legitimate SYNs too, before the stack
# sees them) fill the SYN queue of 256 in well under a second; SYN cookies (§3.6)
# answer the rest, so 10 `curl` fetches made during the flood all complete within 2 s each,
# byte-exact; the server's counters show cookies sent and validated.
source "$(dirname "$0")/lib.sh"
it_init synflood
it_need_tool UTCP_SERVE
cd "$IT_TMP"
mkdir -p www
it_random_file www/file.bin 1

it_start "$UTCP_SERVE" --http 80 --root www --stats 2>serve.err
serve_pid=$IT_PID
it_wait_tun
base="http://$STACK_ADDR"
in_ns curl -sS --max-time 5 -o got.bin "$base/file.bin" || it_fail "fetch before the flood"
it_same_file www/file.bin got.bin "GET before the flood"

it_start $IT_PYTHON "$IT_DIR/syn_flood.py" "$STACK_ADDR" 80 8 40000 5000 >flood.out
flood_pid=$IT_PID
sleep 1  # the SYN queue (256) is full well within this
ok=0
for i in $(seq 1 10); do
  rm -f got.bin
  if in_ns curl -sS --max-time 2 -o got.bin "$base/file.bin" && cmp -s www/file.bin got.bin; then
    ok=$((ok + 1))
  else
    it_log "fetch $i failed during the flood"
  fi
done
kill -0 "$flood_pid" 2>/dev/null || it_fail "the flood ended before the fetches did: $(cat flood.out)"
it_wait "$flood_pid" 30
it_log "flood: $(cat flood.out); $ok of 10 fetches completed during it"

kill -TERM "$serve_pid"
it_wait "$serve_pid" 10
grep -E '^(tcp\.syncookies|tcp\.drop|tun\.rx_packets)' serve.err || true
[ "$ok" -eq 10 ] || it_fail "only $ok of 10 fetches completed during the flood"
counter() { awk -v n="$1" '$1 == n {print $2}' serve.err | head -1; }
sent=$(counter tcp.syncookies.sent)
valid=$(counter tcp.syncookies.valid)
it_log "tcp.syncookies.sent=$sent tcp.syncookies.valid=$valid"
[ "${sent:-0}" -gt 0 ] || { cat serve.err >&2; it_fail "no SYN cookies sent"; }
[ "${valid:-0}" -ge 10 ] || { cat serve.err >&2; it_fail "fewer than 10 cookie handshakes validated"; }
echo PASS
