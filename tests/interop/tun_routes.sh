#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# TunOptions::routes (issue 13, `--route CIDR`): utcp-serve opens its TUN with routes for
# 198.18.0.0/15 and 2001:db8::/32; the kernel then routes those prefixes through the TUN
# (`ip route`, `ip route get`). The routes go with the device: none is left after the tool
# exits on SIGTERM, nor after it is killed outright (SIGKILL).
source "$(dirname "$0")/lib.sh"
it_init tun_routes
it_need_tool UTCP_SERVE
cd "$IT_TMP"

routes_on_tun() {  # prints the routes through utcp0 of both families
  { in_ns ip -4 route show dev utcp0 2>/dev/null; in_ns ip -6 route show dev utcp0 2>/dev/null; } |
    awk '{print $1}'
}

for sig in TERM KILL; do
  it_start "$UTCP_SERVE" --echo 7 --route 198.18.0.0/15 --route 2001:db8::/32 \
    --route 10.99.7.1/16 >serve.out 2>serve.err
  pid=$IT_PID
  it_wait_tun6
  routes_on_tun >routes
  for want in 198.18.0.0/15 2001:db8::/32 10.99.0.0/16; do
    grep -qx "$want" routes || { cat routes serve.err >&2; it_fail "no route to $want via utcp0"; }
  done
  in_ns ip route get 198.19.4.4 | grep -q 'dev utcp0' || it_fail "198.19.4.4 is not routed via utcp0"
  in_ns ip -6 route get 2001:db8:1::1 | grep -q 'dev utcp0' ||
    it_fail "2001:db8:1::1 is not routed via utcp0"
  it_log "SIG$sig: routes via utcp0: $(tr '\n' ' ' <routes)"
  kill -"$sig" "$pid"
  it_wait "$pid" 20
  for _ in $(seq 1 50); do
    in_ns ip link show utcp0 >/dev/null 2>&1 || break
    sleep 0.1
  done
  in_ns ip link show utcp0 >/dev/null 2>&1 && it_fail "utcp0 still there after SIG$sig"
  left=$( { in_ns ip -4 route; in_ns ip -6 route; } | grep -E '198\.18\.|2001:db8:|10\.99\.' || true)
  [ -z "$left" ] || it_fail "routes left after SIG$sig: $left"
  it_log "SIG$sig: exit status $IT_RC, no route left"
done
