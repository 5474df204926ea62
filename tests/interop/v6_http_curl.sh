#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# IPv6: `curl -6 http://[fd77::2]:8080/` against `utcp-serve --http`: a 5 MB file byte-exact,
# index.html, two requests over one kept-alive connection, 404; the same server answers
# over IPv4 too. --pcap records the IPv6 segments (tshark reads them back).
source "$(dirname "$0")/lib.sh"
it_init v6-http
it_need_tool UTCP_SERVE
cd "$IT_TMP"
mkdir -p www
it_random_file www/big.bin 5
echo "<h1>utcp</h1>" >www/index.html

it_start "$UTCP_SERVE" --http 8080 --root www --pcap http.pcap 2>serve.err
serve_pid=$IT_PID
it_wait_tun6
base="http://[$STACK_ADDR6]:8080"
c() { in_ns curl -6 -g -sS --max-time 20 "$@"; }

c -o got.bin "$base/big.bin" || it_fail "curl -6 big.bin"
it_same_file www/big.bin got.bin "GET /big.bin over IPv6"
[ "$(c "$base/")" = "<h1>utcp</h1>" ] || it_fail "GET / did not serve index.html"
c -v -o /dev/null -o /dev/null "$base/index.html" "$base/index.html" 2>keepalive.log
grep -q "Re-using existing connection" keepalive.log || { cat keepalive.log >&2; it_fail "no keep-alive"; }
[ "$(c -o /dev/null -w '%{http_code}' "$base/missing")" = 404 ] || it_fail "missing file not 404"
[ "$(in_ns curl -4 -sS --max-time 20 "http://$STACK_ADDR:8080/")" = "<h1>utcp</h1>" ] ||
  it_fail "the same server over IPv4"
it_log "curl -6: file, index, keep-alive, 404; curl -4 too: ok"

kill "$serve_pid"
it_wait "$serve_pid" 10
[ "$IT_RC" -eq 0 ] || { cat serve.err >&2; it_fail "utcp-serve exited $IT_RC"; }
if command -v tshark >/dev/null; then
  n=$(tshark -r http.pcap -Y "ipv6.src == $STACK_ADDR6 && tcp.srcport == 8080" 2>/dev/null | wc -l)
  [ "$n" -gt 100 ] || it_fail "pcap: only $n IPv6 segments from [$STACK_ADDR6]:8080"
  it_log "pcap: $n IPv6 segments from [$STACK_ADDR6]:8080"
fi
