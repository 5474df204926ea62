#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The proxy tests' world itself, with kernel clients only (no utcp-proxy): from the client
# namespace, curl reaches the target's HTTP server through dante (SOCKS5, without and with
# username authentication; a wrong password is refused) and through tinyproxy's CONNECT
# (without and with Basic authentication; none given is refused with 407); IPv6 targets through
# both; the target's stream servers answer (kernel routing through P); dnsmasq answers the test name, directly and
# through dante's UDP ASSOCIATE; dante resolves a name with it (socks5h). So a proxy case
# that fails is utcp-proxy's failure, not the world's.
source "$(dirname "$0")/lib.sh"
px_init world
cd "$IT_TMP"
px_world

url="http://$T_ADDR:8080/hello.txt"
want="hello from the target"
check_curl() {  # what curl-args...
  local what=$1 got
  shift
  got=$(in_c curl -sS --max-time 10 "$@") || it_fail "$what: curl failed"
  [ "$got" = "$want" ] || it_fail "$what: got '$got'"
  it_log "$what: ok"
}
check_curl "socks5" --socks5 "$P_ADDR:1080" "$url"
check_curl "socks5 username" --socks5 "$P_ADDR:1081" --proxy-user "$PX_USER:$PX_PASS" "$url"
check_curl "socks5 by name (dante resolves with dnsmasq)" --socks5-hostname "$P_ADDR:1080" \
  "http://target.test:8080/hello.txt"
check_curl "socks5 IPv6 target" --socks5 "$P_ADDR:1080" "http://[$T_ADDR6]:8080/hello.txt"
check_curl "http CONNECT" --proxytunnel -x "http://$P_ADDR:8888" "$url"
check_curl "http CONNECT Basic" --proxytunnel -x "http://$P_ADDR:8889" \
  --proxy-user "$PX_USER:$PX_PASS" "$url"
check_curl "http CONNECT IPv6 target" --proxytunnel -x "http://$P_ADDR:8888" \
  "http://[$T_ADDR6]:8080/hello.txt"
if in_c curl -sS --max-time 10 --socks5 "$P_ADDR:1081" --proxy-user "$PX_USER:wrong" "$url" \
  >/dev/null 2>&1; then
  it_fail "dante accepted a wrong password"
fi
code=$(in_c curl -s -o /dev/null -w '%{http_connect}' --max-time 10 --proxytunnel \
  -x "http://$P_ADDR:8889" "$url" || true)
[ "$code" = 407 ] || it_fail "tinyproxy without credentials answered $code, want 407"
it_log "wrong or missing credentials refused: ok"

# The target's stream servers, checked by SHA-256 over the kernel's route C -> P -> T.
in_c $PXPEER upload "$T_ADDR" 1000000 || it_fail "direct upload to the target"
in_c $PXPEER download "$T_ADDR" 1000000 || it_fail "direct download from the target"
in_c $PXPEER half-close "$T_ADDR" 1000000 100000 || it_fail "direct half-close"

in_c $PXPEER dns "$T_ADDR" target.test "$T_ADDR" >/dev/null || it_fail "dnsmasq A"
in_c $PXPEER dns "$T_ADDR6" target.test "$T_ADDR6" 28 >/dev/null || it_fail "dnsmasq AAAA over IPv6"
in_c $PXPEER socks-dns "$P_ADDR" 1080 "$T_ADDR" target.test "$T_ADDR" >/dev/null ||
  it_fail "DNS through dante's UDP ASSOCIATE"
it_log "dnsmasq: A, AAAA over IPv6, and through dante's UDP ASSOCIATE: ok"
