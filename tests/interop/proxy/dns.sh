#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# DNS over UDP through utcp-proxy. Relay through SOCKS5: a query to the target's dnsmasq
# (routed into the TUN) goes out by dante's UDP ASSOCIATE, so dnsmasq sees it come from the
# proxy host; A over IPv4 and AAAA over IPv6; 20 more queries share the association of their
# client address (2 control connections in all). Relay direct: dnsmasq sees the client's veth
# address. Fake-IP: utcp-proxy answers from 198.18.0.0/15 itself (dnsmasq never sees the
# client's query), then curl by name (the client's resolv.conf points into the TUN) goes
# through SOCKS5 with the name (ATYP 3): dante resolves it with dnsmasq and fetches the page;
# --stats-json names the domain.
source "$(dirname "$0")/lib.sh"
px_init dns
it_need_tool UTCP_PROXY
cd "$IT_TMP"
px_world

dns_from() {  # source-address: the last query dnsmasq logged for target.test came from it
  local line
  line=$(grep "query\[.*target.test from" dnsmasq.log | tail -1)
  [[ $line == *"from $1" ]] || it_fail "dnsmasq's last query: '$line', want one from $1"
}

px_start_proxy socks5
in_c $PXPEER dns "$T_ADDR" target.test "$T_ADDR" >/dev/null || { tail proxy.err >&2; it_fail "socks5 relay: A"; }
dns_from "$P_ADDR_T"
in_c $PXPEER dns "$T_ADDR6" target.test "$T_ADDR6" 28 >/dev/null || it_fail "socks5 relay: AAAA over IPv6"
dns_from fd81::1
# One association per client address (docs/proxy.md): 20 more queries, each a flow of its own
# (a new source port), ride the two already open (the client's IPv4 and IPv6 addresses), so
# dante still holds two control connections and logged two UDP ASSOCIATEs.
for i in $(seq 1 20); do
  in_c $PXPEER dns "$T_ADDR" target.test "$T_ADDR" >/dev/null || { tail proxy.err >&2; it_fail "socks5 relay: query $i"; }
done
controls=$(in_p ss -Htn state established "( sport = :1080 )" | wc -l)
assocs=$(grep -c 'udpassociate' danted1080.log || true)
it_log "22 DNS flows through SOCKS5: $controls control connections, $assocs UDP ASSOCIATEs in dante's log"
[ "$controls" -eq 2 ] || { in_p ss -tn >&2; it_fail "$controls SOCKS5 control connections for 22 DNS flows of 2 client addresses, want 2"; }
[ "$assocs" -eq 2 ] || it_fail "dante logged $assocs UDP ASSOCIATEs for 22 DNS flows of 2 client addresses, want 2"
px_stop_proxy
it_log "DNS relayed through SOCKS5 UDP ASSOCIATE (IPv4 and IPv6): ok"

px_start_proxy direct
in_c $PXPEER dns "$T_ADDR" target.test "$T_ADDR" >/dev/null || { tail proxy.err >&2; it_fail "direct relay: A"; }
dns_from "$C_ADDR"
px_stop_proxy
it_log "DNS relayed directly: ok"

queries=$(grep -c "query\[" dnsmasq.log || true)
px_start_proxy socks5 --dns fake-ip --route 198.18.0.0/15 --route fc00:18::/96 \
  --stats-json "$IT_TMP/stats.json"
fake=$(in_c $PXPEER dns "$T_ADDR" target.test 198.1) || { tail proxy.err >&2; it_fail "fake-ip: A"; }
it_log "fake-ip: target.test is $fake"
[ "$(grep -c "query\[" dnsmasq.log || true)" -eq "$queries" ] || it_fail "fake-ip: the query reached dnsmasq"
px_etc "$NS_C" resolv.conf "nameserver $T_ADDR"
# dante resolves the name itself: A or AAAA, so it connects from either of P's addresses.
px_curl target.test "$P_ADDR_T|fd81::1" || it_fail "fake-ip: curl by name"
line=$(grep "query\[.*target.test from" dnsmasq.log | tail -1)  # dante resolved the name
[[ $line == *"from $P_ADDR_T" ]] || it_fail "fake-ip: dnsmasq's last query '$line', want one from P"
px_stop_proxy
in_c $PXPEER stats stats.json 8080 21 target.test || it_fail "fake-ip: no session with the domain"
it_log "fake-ip: curl by name through SOCKS5: ok"
